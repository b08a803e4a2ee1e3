//! Waiting until P100 has finished with something: poll its details endpoint until its status
//! is final, with a [`WaitPolicy`] (minimum and maximum delay, exponential backoff with jitter,
//! a maximum total wait), and get one of four distinct results.
//!
//! P100 confirms money movement asynchronously: a create call returns an id at once and the
//! outcome arrives later, by webhook or on the details endpoint. A [`Waiter`] is that polling
//! loop, written once for the seven kinds that have a details endpoint ([`Waitable`]):
//!
//! | kind | polled operation | success | failure |
//! |---|---|---|---|
//! | [`types::ExchangeDetails`] | `exchange_get` | `COMPLETED` | `FAILED` |
//! | [`types::SepaTransferDetails`] | `sepa_transfer_get` | `SUCCESSFUL` | `FAILED`, `UNSUCCESSFUL` |
//! | [`types::CryptoWithdrawalDetails`] | `crypto_withdrawal_get` | `SUCCESSFUL`, `COMPLETED` (inferred) | `FAILED`, `UNSUCCESSFUL` (inferred) |
//! | [`types::TransferDetails`] | `transfer_get` | `SUCCESSFUL` | `FAILED`, `UNSUCCESSFUL` |
//! | [`types::OrderDetails`] | `order_get` | `COMPLETED`, `SUCCESSFUL` (inferred) | `FAILED`, `UNSUCCESSFUL`, `EXPIRED` (inferred) |
//! | [`types::PaymentLinkDetails`] | `payment_link_get` | `COMPLETED`, `SUCCESSFUL`, `PAID` (inferred) | `FAILED`, `UNSUCCESSFUL`, `EXPIRED` (inferred) |
//! | [`types::KycStatus`] | `kyc_get_status` | `VERIFIED`, or attempt `SUCCESSFUL` | attempt `REJECTED_BY_PROVIDER`, or `EXPIRED` with no attempt |
//!
//! Statuses are compared without regard to case (the oldest exchange page wrote `completed`).
//! Orders' `WAITING_FOR_WALLET_ADDRESS` and `WAITING_FOR_CONFIRMATION` and KYC's `PENDING` and
//! `VERIFICATION` attempts are known to be in progress; so are `PENDING`, `PROCESSING` and
//! `IN_PROGRESS` for the other money movements (*inferred*: P100's in-flight word elsewhere; the
//! docs never show an in-flight exchange or transfer). Where the docs name no final status
//! (crypto withdrawals, orders, payment links), the table uses the words P100 uses for its other
//! money movements; they are marked *inferred*. Any other status is not final: the waiter keeps
//! polling and reports it once per wait as a `tracing` warning. If you know better, say so with
//! [`Waiter::treat`].
//!
//! # Results
//!
//! [`Waiter::wait`] returns `Ok(`[`Succeeded`]`)` only for a success state, with the final
//! status typed ([`Waitable::Status`]). Everything else is an
//! `Err(`[`WaitError`]`)` whose variants keep the distinctions: [`WaitError::Failed`] (a failed
//! final state, with the record and P100's error object), [`WaitError::TimedOut`] (the last
//! record and the poll count) and [`WaitError::CallFailed`] (a poll failed even after the
//! client's retries). So `?` propagates anything but success, and a `match` sees each case.
//!
//! # Time
//!
//! Waiting uses `tokio::time` — the clock the client's retries and timeouts already use — so a
//! test under `#[tokio::test(start_paused = true)]` (or `tokio::time::pause()`) runs a
//! ten-minute wait instantly and exactly. A separate clock trait would have left the retry waits
//! and request timeouts on another clock.
//!
//! What does not belong here: taking rate locks and executing ([`crate::lock`]); webhooks, the
//! push alternative to polling ([`crate::webhooks`]).

// The layers, one file each: `policy` (WaitPolicy), `kinds` (what a status means: StatusClass,
// the status words of each kind, Waitable and its impls), `outcome` (Succeeded, WaitError and the
// records it carries, FailureReason, StatusChange), `waiter` (Waiter, the builder users hold),
// `poll` (the one polling loop and the fetch of one record), `flows` (the `Client` methods that
// make a waiter for each kind).

mod flows;
mod kinds;
mod outcome;
mod policy;
mod poll;
mod send;
mod waiter;

#[cfg(doc)]
use crate::types;

pub use kinds::{StatusClass, StatusPair, Waitable};
#[allow(deprecated)]
pub use outcome::Settled;
pub use outcome::{
    CallFailed, FailedState, FailureReason, StatusChange, Succeeded, TimedOut, WaitError,
};
pub use policy::WaitPolicy;
pub use send::SendAndWaitError;
pub use waiter::{StatusChanges, Waiter};
