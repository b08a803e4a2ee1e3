//! Bounded memory for a sandbox that runs for hours under load: the tables of money movements
//! and the webhook deliveries keep their newest settled entries up to a configured number
//! ([`crate::config::Retention`]) and forget older ones; what is pending is always kept. What
//! a record or a delivery holds belongs to its own module; when the bound applies is decided
//! by the settle steps (`movement`, `scheduler`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::{Deref, DerefMut};

use uuid::Uuid;

use crate::webhooks::Delivery;

/// A table of money movements by id that forgets the oldest settled records beyond a bound.
/// Reads and writes go to the map itself (`Deref`); only settling goes through [`Records::settled`].
/// Records inserted without settling (the documented examples) are never forgotten.
pub(crate) struct Records<R> {
    map: HashMap<Uuid, R>,
    /// Settled ids, oldest first.
    settled: VecDeque<Uuid>,
}

impl<R> Default for Records<R> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            settled: VecDeque::new(),
        }
    }
}

impl<R> Deref for Records<R> {
    type Target = HashMap<Uuid, R>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<R> DerefMut for Records<R> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.map
    }
}

impl<R> Records<R> {
    /// Notes that `id` reached its final state; forgets the oldest settled records beyond `keep`.
    pub(crate) fn settled(&mut self, id: Uuid, keep: usize) {
        self.settled.push_back(id);
        while self.settled.len() > keep {
            if let Some(old) = self.settled.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// The webhook deliveries by id (ids from 1, in emission order), keeping every pending one and
/// the newest settled ones up to a bound.
#[derive(Default)]
pub(crate) struct Deliveries {
    by_id: BTreeMap<u64, Delivery>,
    /// Settled ids, oldest first.
    settled: VecDeque<u64>,
    last_id: u64,
}

impl Deliveries {
    /// The id the next delivery gets.
    pub(crate) fn next_id(&self) -> u64 {
        self.last_id + 1
    }

    /// Records a new delivery (its id must be [`Deliveries::next_id`]).
    pub(crate) fn push(&mut self, delivery: Delivery) {
        self.last_id = delivery.id;
        self.by_id.insert(delivery.id, delivery);
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Delivery> {
        self.by_id.get(&id)
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut Delivery> {
        self.by_id.get_mut(&id)
    }

    /// Notes that `id` needs no more attempts; forgets the oldest settled ones beyond `keep`.
    pub(crate) fn settled(&mut self, id: u64, keep: usize) {
        self.settled.push_back(id);
        while self.settled.len() > keep {
            if let Some(old) = self.settled.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }

    /// How many are kept.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Every kept delivery, oldest first (a copy: serialise it without the state lock).
    pub(crate) fn to_vec(&self) -> Vec<Delivery> {
        self.by_id.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::webhooks::DeliveryState;

    #[test]
    fn records_forget_the_oldest_settled_beyond_the_bound_and_keep_the_rest() {
        let mut table = Records::default();
        let ids: Vec<Uuid> = (0..5u128).map(Uuid::from_u128).collect();
        for (n, id) in ids.iter().enumerate() {
            table.insert(*id, n);
        }
        let pinned = Uuid::from_u128(99);
        table.insert(pinned, 99);
        for id in &ids[..4] {
            table.settled(*id, 2);
        }
        // ids[0] and ids[1] are forgotten; ids[4] is pending, `pinned` never settled.
        let mut kept: Vec<usize> = table.values().copied().collect();
        kept.sort_unstable();
        assert_eq!(kept, [2, 3, 4, 99]);
    }

    fn delivery(id: u64) -> Delivery {
        Delivery {
            id,
            kind: "exchange".into(),
            url: None,
            body: None,
            state: DeliveryState::NoUrl,
            emitted_at: Duration::ZERO,
            attempts: Vec::new(),
        }
    }

    #[test]
    fn deliveries_keep_pending_ones_and_the_newest_settled() {
        let mut deliveries = Deliveries::default();
        for _ in 0..4 {
            let id = deliveries.next_id();
            deliveries.push(delivery(id));
        }
        // 2 stays pending; 1, 3, 4 settle with room for two.
        for id in [1, 3, 4] {
            deliveries.settled(id, 2);
        }
        let ids: Vec<u64> = deliveries.to_vec().iter().map(|d| d.id).collect();
        assert_eq!(ids, [2, 3, 4]);
        assert_eq!(deliveries.next_id(), 5, "ids are never reused");
        assert!(deliveries.get(1).is_none());
    }
}
