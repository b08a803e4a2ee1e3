//! Lock-then-execute: take a rate lock, let the caller accept or refuse its quote, execute before
//! the lock expires, and never move money twice.
//!
//! Three P100 operations execute at a rate locked for about 60 seconds: the user exchange
//! (`exchange_create_lock` → `exchange_create`), the partner exchange
//! (`partner_create_exchange_lock` → `partner_create_exchange`) and the order
//! (`order_create_lock` → `order_create`). [`LockThenExecute`] runs that sequence once for all
//! three:
//!
//! 1. take a lock (lock creation moves no money, so the client retries it on transient errors);
//! 2. check the quote: a worst acceptable rate ([`min_rate`](LockThenExecute::min_rate)), a
//!    largest amount to pay ([`max_amount`](LockThenExecute::max_amount)) and/or your own
//!    [`accept`](LockThenExecute::accept) closure; a refused quote ends the flow
//!    ([`LockError::QuoteRefused`]), nothing executed;
//! 3. if less than the [safety margin](LockPolicy::with_safety_margin) of the lock's validity is
//!    left, take a new lock instead of executing;
//! 4. execute once. A rejection as an invalid or expired lock (`P432`) moved nothing: take a
//!    new lock and execute again, within [`LockPolicy::with_max_locks`].
//!
//! The execute call is never sent twice with the same lock, and never re-sent when its outcome
//! is unknown: a timeout or lost connection after the request left, an HTTP 5xx, `P500` or
//! `P501`, or a 2xx answer that could not be read. That is [`LockError::UnknownOutcome`], which
//! carries the lock id, the request that was sent and what to call to reconcile. Every other
//! error says that nothing moved.
//!
//! # Lock validity
//!
//! An exchange lock's validity is `validUntil − createdAt` (P100's own clock on both sides),
//! counted from the moment the lock was *requested*, so that a slow answer shortens it instead
//! of extending it. An order lock has only `expiresAt`, which is compared with this machine's
//! clock when the lock arrives.
//!
//! What does not belong here: polling the outcome ([`crate::wait`]); retry rules
//! ([`crate::retry`]).

// The layers, one file each: `policy` (LockPolicy), `quote` (what the acceptance check sees),
// `flows` (the three operations: their terms, the calls they make, how to reconcile them),
// `builder` (LockThenExecute, its setters and the `Client` methods that make one), `run` (the
// one loop), `outcome` (what a run ends with, and how a failed execute is sorted), `sealed`
// (the SDK's own traits behind LockFlow; their impls for the lock and answer types are in
// `flows`).

mod builder;
mod flows;
mod outcome;
mod policy;
mod quote;
mod run;
mod sealed;

pub use builder::LockThenExecute;
pub use flows::{ExecuteRequest, LockFlow, Order, PartnerExchange, UserExchange};
pub use outcome::{ExecuteAndWaitError, Executed, LockError, Reconcile, UnknownOutcome};
pub use policy::LockPolicy;
pub use quote::{ExchangeQuote, OrderQuote, Quote};
