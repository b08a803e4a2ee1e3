//! The wait policy: how a waiter spaces its polls (minimum and maximum delay, exponential
//! backoff with jitter) within a maximum total wait, and how many polls that can make. A plain
//! value with defaults; the loop that follows it is in `poll`.

use std::time::Duration;

#[cfg(doc)]
use super::waiter::Waiter;
use crate::retry::Jitter;

/// How a [`Waiter`] spaces its polls: smithy-style exponential backoff with jitter between a
/// minimum and a maximum delay, within a maximum total wait.
///
/// The first poll is sent at once. The wait before poll `n + 1` has the cap
/// `min(max_delay, min_delay × 2ⁿ⁻¹)` and is drawn between `100 % − jitter_percent` and 100 % of
/// that cap (never below `min_delay`). Each poll's own time (and the client's retries of a
/// transient failure) counts towards `max_wait`; the last wait is shortened so that the last
/// poll happens at `max_wait` at the latest, and the waiter then gives up.
///
/// # Defaults: 2 s, 10 s, 15 % jitter, 10 minutes
///
/// P100 documents no settlement times and no polling interval, so the defaults are tuned for a
/// transaction that settles about a minute after it was created. Starting at 2 s notices a fast
/// settlement quickly; doubling reaches the 10 s cap after four polls, so a slow one costs one
/// request per 10 s. For a transaction that settles 60 s after it was created, the polls fall at
/// 0, 2, 6, 14, 24, …, 64 s without jitter: 9 polls, noticed 4 s late. Jitter only shortens
/// waits, by at most 15 %, which spreads the polls of many waiters without breaking that budget:
/// even if every wait were the shortest, the 10th poll falls at 63.2 s, so the settlement is
/// noticed in at most 10 polls and always within one `max_delay`. (Smithy's own jitter, anywhere
/// between `min_delay` and the cap, would take about 13 polls on average for the same
/// transaction.) After ten minutes the waiter gives up; a SEPA transfer, or an order waiting for
/// its payer, can take far longer: raise `max_wait`, or use the webhook.
///
/// ```
/// use std::time::Duration;
/// use p100_ergonomic::{Jitter, WaitPolicy};
///
/// let policy = WaitPolicy::default().with_jitter(Jitter::none());
/// let waits: Vec<u64> = (1..=5).map(|n| policy.delay(n).as_secs()).collect();
/// assert_eq!(waits, [2, 4, 8, 10, 10]);
///
/// // A quick, bounded wait, e.g. in a request handler:
/// let short = WaitPolicy::default()
///     .with_min_delay(Duration::from_millis(500))
///     .with_max_delay(Duration::from_secs(2))
///     .with_max_wait(Duration::from_secs(20));
/// assert!(short.max_polls() <= 20);
/// ```
#[derive(Clone, Debug)]
pub struct WaitPolicy {
    min_delay: Duration,
    max_delay: Duration,
    pub(super) max_wait: Duration,
    jitter: Jitter,
    jitter_percent: u32,
}

/// The shortest delay a policy allows, so that no setting makes a busy loop.
const SHORTEST_DELAY: Duration = Duration::from_millis(1);

impl Default for WaitPolicy {
    /// 2 s doubling to 10 s, waits shortened by up to 15 % at random, 10 minutes in total.
    fn default() -> Self {
        WaitPolicy {
            min_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(10),
            max_wait: Duration::from_secs(600),
            jitter: Jitter::full(),
            jitter_percent: 15,
        }
    }
}

impl WaitPolicy {
    /// The default policy (see [`WaitPolicy::default`]).
    pub fn new() -> Self {
        WaitPolicy::default()
    }

    /// The first wait, and the floor of every wait (default 2 s; at least 1 ms).
    pub fn with_min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay.max(SHORTEST_DELAY);
        self
    }

    /// The largest wait between two polls (default 10 s). A value below `min_delay` is read as
    /// `min_delay`.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// How long to wait in total, from the first poll (default 10 minutes).
    pub fn with_max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Where in its jitter range each wait falls (default [`Jitter::full`]: at random;
    /// [`Jitter::none`]: always the whole backoff; [`Jitter::seeded`]: reproducible).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// By how much jitter may shorten a wait, in percent of its backoff (default 15; at most
    /// 100).
    pub fn with_jitter_percent(mut self, percent: u32) -> Self {
        self.jitter_percent = percent.min(100);
        self
    }

    /// The first wait and floor of every wait.
    pub fn min_delay(&self) -> Duration {
        self.min_delay
    }

    /// The largest wait between two polls.
    pub fn max_delay(&self) -> Duration {
        self.max_delay.max(self.min_delay)
    }

    /// The total time budget.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The backoff cap of wait number `wait` (1 before the second poll), before jitter.
    fn cap(&self, wait: u32) -> Duration {
        let doublings = 2u32.saturating_pow(wait.saturating_sub(1));
        self.min_delay
            .saturating_mul(doublings)
            .min(self.max_delay())
            .max(self.min_delay)
    }

    /// The part of a cap that jitter may take away.
    fn jitter_span(&self, cap: Duration) -> Duration {
        cap.saturating_mul(self.jitter_percent) / 100
    }

    /// The wait before poll `wait + 1` (so `delay(1)` is the wait after the first poll), with
    /// jitter applied.
    pub fn delay(&self, wait: u32) -> Duration {
        let cap = self.cap(wait);
        let span = self.jitter_span(cap);
        (cap - span + self.jitter.apply(span)).max(self.min_delay)
    }

    /// The most polls a wait under this policy can make: every wait as short as jitter allows,
    /// the last one cut at `max_wait`. (Polls that take time make fewer.)
    ///
    /// ```
    /// use p100_ergonomic::WaitPolicy;
    ///
    /// assert_eq!(WaitPolicy::default().max_polls(), 74);
    /// ```
    pub fn max_polls(&self) -> u32 {
        let mut polls: u32 = 1;
        let mut waited = Duration::ZERO;
        let mut wait: u32 = 1;
        loop {
            if waited >= self.max_wait {
                return polls;
            }
            let cap = self.cap(wait);
            let shortest = (cap - self.jitter_span(cap)).max(self.min_delay);
            if self.cap(wait.saturating_add(1)) == cap {
                // Every further wait is the same: count them at once.
                let left = (self.max_wait - waited).as_nanos();
                let more = left.div_ceil(shortest.as_nanos().max(1));
                return polls.saturating_add(u32::try_from(more).unwrap_or(u32::MAX));
            }
            waited = waited.saturating_add(shortest);
            polls = polls.saturating_add(1);
            wait = wait.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_for_a_60_second_settlement() {
        // The worst case of the default policy: every wait as short as jitter allows.
        let policy = WaitPolicy::default().with_jitter(Jitter::custom(|_| Duration::ZERO));
        let mut at = Duration::ZERO;
        let mut polls = 1;
        while at < Duration::from_secs(60) {
            at += policy.delay(polls);
            polls += 1;
        }
        assert!(polls <= 10, "{polls} polls");
        assert!(at - Duration::from_secs(60) <= policy.max_delay());
    }

    #[test]
    fn max_polls_counts_the_shortest_waits() {
        let policy = WaitPolicy::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(4))
            .with_max_wait(Duration::from_secs(20))
            .with_jitter_percent(0);
        // Polls at 0, 1, 3, 7, 11, 15, 19, 20.
        assert_eq!(policy.max_polls(), 8);
        assert_eq!(
            WaitPolicy::default()
                .with_max_wait(Duration::ZERO)
                .max_polls(),
            1
        );
    }
}
