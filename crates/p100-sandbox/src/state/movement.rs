//! What every money movement (exchange, SEPA transfer, crypto withdrawal, internal transfer)
//! shares: its `Outcome`, the `Movement` trait each record kind implements (with the
//! `movement!` macro), and the one create step (reserve the funds, record it pending, schedule
//! its settlement) and the one settle step (credit what it brings, or fail with `P433`). What a
//! kind validates, debits and credits, and the webhook it sends, belong to its own module.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::Holder;
use super::retention::Records;
use super::scheduler::Event;
use super::views::RecordError;
use super::{active_user, State};
use crate::clock::VTime;
use crate::error::ApiError;

/// Where a money movement stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pending,
    Done,
    Failed(ApiError),
}

impl Outcome {
    pub(super) fn error(&self) -> Option<RecordError> {
        match self {
            Outcome::Failed(e) => Some(RecordError::from(e)),
            _ => None,
        }
    }
}

/// A money movement (exchange, SEPA transfer, crypto withdrawal, internal transfer): its funds
/// are reserved when it is created, it is pending for the settle delay, then it is final or
/// FAILED with `P433`. The record kinds differ only in what they debit and what a settlement
/// credits; this is what the shared create and settle steps need to know of them.
pub(super) trait Movement: Clone {
    /// The table of records of this kind.
    fn table(state: &mut State) -> &mut Records<Self>;
    /// The event that settles the record `id`.
    fn settle_event(id: Uuid) -> Event;
    /// Whose funds it takes, in which currency, and how much (amount plus fees); `None` when
    /// the record names no debited side.
    fn debit(&self) -> Option<(Holder, String, Decimal)>;
    /// Whether the funds were reserved at creation.
    fn reserved(&mut self) -> &mut bool;
    /// Where it stands.
    fn outcome(&mut self) -> &mut Outcome;
}

macro_rules! movement {
    ($record:ty, $table:ident, $event:ident, |$rec:ident| $debit:expr) => {
        impl Movement for $record {
            fn table(state: &mut State) -> &mut super::retention::Records<Self> {
                &mut state.$table
            }
            fn settle_event(id: Uuid) -> Event {
                Event::$event(id)
            }
            fn debit(&self) -> Option<(Holder, String, Decimal)> {
                let $rec = self;
                $debit
            }
            fn reserved(&mut self) -> &mut bool {
                &mut self.reserved
            }
            fn outcome(&mut self) -> &mut Outcome {
                &mut self.outcome
            }
        }
    };
}

pub(super) use movement;

fn insufficient(currency: &str, needed: Decimal, available: Decimal) -> ApiError {
    ApiError::insufficient_funds(format!(
        "Insufficient funds: {needed} {currency} needed, {available} {currency} available"
    ))
}

impl State {
    /// A user whose funds are to move must exist and not be suspended; the partner always can.
    pub(super) fn check_holder(&mut self, holder: &Holder) -> Result<(), ApiError> {
        if let Holder::User(id) = holder {
            active_user(&mut self.users, id)?;
        }
        Ok(())
    }

    /// Reserves the funds of a validated movement when there are enough, records it pending and
    /// schedules its settlement; returns its id.
    pub(super) fn start_movement<R: Movement>(&mut self, mut record: R, now: VTime) -> Uuid {
        let reserved = record.debit().is_some_and(|(holder, currency, amount)| {
            self.account_mut(&holder)
                .is_some_and(|a| a.debit(&currency, amount))
        });
        *record.reserved() = reserved;
        *record.outcome() = Outcome::Pending;
        let id = Uuid::new_v4();
        R::table(self).insert(id, record);
        self.settle_later(now, R::settle_event(id));
        id
    }

    /// Settles the pending movement `id`: `complete` credits what a reserved one brings (and
    /// decides its outcome); one without reserved funds fails with `P433`. Returns the record as
    /// it was and the outcome stored, for the webhook; `None` when nothing was pending. A record
    /// that reaches a final outcome counts against `Retention::settled_records` of its kind.
    pub(super) fn settle_movement<R: Movement>(
        &mut self,
        id: Uuid,
        complete: impl FnOnce(&mut State, &R) -> Outcome,
    ) -> Option<(R, Outcome)> {
        let mut record = R::table(self).get(&id).cloned()?;
        if *record.outcome() != Outcome::Pending {
            return None;
        }
        let (holder, currency, needed) = record.debit()?;
        let outcome = if *record.reserved() {
            complete(self, &record)
        } else {
            let available = self.balance(&holder, &currency).unwrap_or_default();
            Outcome::Failed(insufficient(&currency, needed, available))
        };
        let keep = self.retention.settled_records;
        let table = R::table(self);
        if let Some(stored) = table.get_mut(&id) {
            *stored.outcome() = outcome.clone();
        }
        if outcome != Outcome::Pending {
            table.settled(id, keep);
        }
        Some((record, outcome))
    }
}
