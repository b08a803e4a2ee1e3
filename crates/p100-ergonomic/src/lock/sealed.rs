//! The SDK's own traits behind `LockFlow`, sealed so that new methods can be added and no
//! other crate can implement them: a rate lock's id and how long it can still be used, and the
//! id in P100's answer to an execute. Their impls for the generated types are in `flows`.

use std::time::Duration;

pub trait Sealed {}

/// A rate lock: its id, and how long it can still be used.
pub trait RateLock {
    fn lock_id(&self) -> uuid::Uuid;
    fn validity_left(&self, since_requested: Duration) -> Duration;
}

/// P100's answer to an execute: the id of what it created.
pub trait Created {
    fn created_id(&self) -> String;
}
