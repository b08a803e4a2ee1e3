//! The lock policy: how much of a lock's validity must be left to use it, and how many locks
//! one execution may take. A plain value with defaults; the loop that follows it is in `run`.

use std::time::Duration;

#[cfg(doc)]
use super::builder::LockThenExecute;

/// How [`LockThenExecute`] treats locks: the safety margin before expiry and how many locks it
/// may take.
///
/// ```
/// use std::time::Duration;
/// use p100_ergonomic::LockPolicy;
///
/// let policy = LockPolicy::default()                 // 5 s margin, 3 locks
///     .with_safety_margin(Duration::from_secs(10))
///     .with_max_locks(5);
/// assert_eq!(policy.max_locks(), 5);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockPolicy {
    pub(super) safety_margin: Duration,
    pub(super) max_locks: u32,
}

impl Default for LockPolicy {
    /// A 5 s safety margin (a lock is used only while more than 5 s of it are left) and at most
    /// 3 locks per execution.
    fn default() -> Self {
        LockPolicy {
            safety_margin: Duration::from_secs(5),
            max_locks: 3,
        }
    }
}

impl LockPolicy {
    /// The default policy (see [`LockPolicy::default`]).
    pub fn new() -> Self {
        LockPolicy::default()
    }

    /// How much of the lock's validity must be left when the execute is sent (default 5 s): room
    /// for the request's trip and for clock differences. A lock with less left is replaced.
    pub fn with_safety_margin(mut self, margin: Duration) -> Self {
        self.safety_margin = margin;
        self
    }

    /// How many locks one execution may take, the first included (default 3; 0 is read as 1).
    /// A new lock is taken after a `P432` answer or when a lock is too close to expiry.
    pub fn with_max_locks(mut self, locks: u32) -> Self {
        self.max_locks = locks.max(1);
        self
    }

    /// The safety margin.
    pub fn safety_margin(&self) -> Duration {
        self.safety_margin
    }

    /// The most locks one execution may take.
    pub fn max_locks(&self) -> u32 {
        self.max_locks
    }
}
