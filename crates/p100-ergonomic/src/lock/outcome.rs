//! What a lock-then-execute run ends with: the executed lock, or a `LockError` that says whether
//! money may have moved (only `UnknownOutcome`, with what to call to reconcile), and the error of
//! a run followed by a wait. Also the one place that sorts a failed execute into "nothing moved"
//! and "unknown". The operations and their reconcile advice belong to `flows`.

use std::fmt;

use uuid::Uuid;

#[cfg(doc)]
use super::builder::LockThenExecute;
use super::flows::{ExecuteRequest, LockFlow};
use super::quote::Quote;
use super::sealed;
use crate::error::{Error, ErrorCode, ErrorKind};
use crate::wait::{WaitError, Waitable};

/// How to find out what happened to an execute whose outcome is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconcile {
    pub(super) operations: &'static [&'static str],
    pub(super) advice: &'static str,
}

impl Reconcile {
    /// The operations (spec `operationId`s) that can tell.
    pub fn operations(&self) -> &'static [&'static str] {
        self.operations
    }

    /// What to do, in words.
    pub fn advice(&self) -> &'static str {
        self.advice
    }
}

impl fmt::Display for Reconcile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (operations: {})",
            self.advice,
            self.operations.join(", ")
        )
    }
}

/// An execute that may or may not have moved money: it must not be sent again before you know.
#[derive(Debug)]
#[non_exhaustive]
pub struct UnknownOutcome {
    /// The lock the execute used.
    pub lock_id: Uuid,
    /// The request that was sent.
    pub request: ExecuteRequest,
    /// What went wrong (a timeout, a lost connection, HTTP 5xx, `P500`, `P501`, an unreadable
    /// 2xx answer).
    pub error: Error,
    /// How to find out what happened.
    pub reconcile: Reconcile,
    /// How many locks were taken, this one included.
    pub locks_taken: u32,
}

impl fmt::Display for UnknownOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the outcome of {} with lock {} is unknown ({}); it was not sent again. To reconcile: {}",
            self.request.operation_id(),
            self.lock_id,
            self.error,
            self.reconcile
        )
    }
}

/// Why [`LockThenExecute`] did not execute, or does not know whether it did.
///
/// Only [`LockError::UnknownOutcome`] may have moved money ([`LockError::may_have_executed`]);
/// after any other error nothing was executed and the whole flow may be started again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The request is incomplete or invalid; nothing was sent.
    #[error("invalid request: {0}; nothing was sent")]
    InvalidRequest(String),
    /// The lock could not be taken (after the client's retries); nothing was executed.
    #[error("could not take a rate lock: {0}")]
    Lock(#[source] Error),
    /// The quote was refused by the acceptance check; nothing was executed.
    #[error("the quote of lock {lock_id} was refused: {reason}")]
    QuoteRefused {
        /// The refused lock.
        lock_id: Uuid,
        /// Its quote.
        quote: Box<Quote>,
        /// Why it was refused.
        reason: String,
    },
    /// Every lock was rejected as invalid or expired (`P432`) or was too close to expiry to be
    /// used; nothing was executed.
    #[error("no usable rate lock after {locks} locks{}", match last { Some(e) => format!(": {e}"), None => String::new() })]
    LocksExhausted {
        /// How many locks were taken.
        locks: u32,
        /// The last `P432` answer, if the last lock was rejected.
        #[source]
        last: Option<Error>,
    },
    /// P100 refused the execute with a definite answer (validation, insufficient funds, same
    /// currencies, authentication, rate limit, …); nothing was executed.
    #[error("P100 refused to execute with lock {lock_id}: {error}")]
    Rejected {
        /// The lock the execute used.
        lock_id: Uuid,
        /// The request that was sent.
        request: Box<ExecuteRequest>,
        /// P100's answer.
        #[source]
        error: Error,
    },
    /// The execute could not be sent at all (no connection); nothing was executed.
    #[error("the execute with lock {lock_id} could not be sent: {error}")]
    NotSent {
        /// The lock the execute would have used.
        lock_id: Uuid,
        /// The connection error.
        #[source]
        error: Error,
    },
    /// The execute may have moved money: it was not sent again. Reconcile before retrying.
    #[error("{0}")]
    UnknownOutcome(Box<UnknownOutcome>),
}

impl LockError {
    /// Whether money may have moved: only for [`LockError::UnknownOutcome`].
    pub fn may_have_executed(&self) -> bool {
        matches!(self, LockError::UnknownOutcome(_))
    }

    /// The unknown outcome, if that is what this is.
    pub fn unknown_outcome(&self) -> Option<&UnknownOutcome> {
        match self {
            LockError::UnknownOutcome(unknown) => Some(unknown),
            _ => None,
        }
    }
}

/// An executed lock: P100 accepted the execute and returned the new id; the outcome comes later
/// (see [`Executed::id`] and [`crate::wait`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Executed<F: LockFlow> {
    /// The lock that was used.
    pub lock: F::Lock,
    /// P100's answer to the execute.
    pub created: F::Created,
    /// The request that was sent.
    pub request: ExecuteRequest,
    /// How many locks were taken, this one included.
    pub locks_taken: u32,
}

impl<F: LockFlow> Executed<F> {
    /// The id of what was created (exchange id, order id), for the details endpoint or a
    /// waiter.
    pub fn id(&self) -> String {
        sealed::Created::created_id(&self.created)
    }
}

/// A lock-then-execute flow failed, or its outcome did not end in a success state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecuteAndWaitError<T: Waitable> {
    /// Locking or executing failed (see [`LockError`]); only
    /// [`LockError::UnknownOutcome`] may have moved money.
    #[error(transparent)]
    Execute(LockError),
    /// P100 accepted the execute, but waiting for its outcome did not end in success: a failed
    /// state, a timeout or a failed poll (the id is [`WaitError::id`]).
    #[error(transparent)]
    Wait(WaitError<T>),
}

/// Sorts a failed execute into "nothing moved" and "unknown".
pub(super) fn failed_execute<F: LockFlow>(
    lock_id: Uuid,
    request: ExecuteRequest,
    error: Error,
    locks_taken: u32,
) -> LockError {
    if never_sent(&error) {
        return LockError::NotSent { lock_id, error };
    }
    if refused_before_executing(&error) {
        return LockError::Rejected {
            lock_id,
            request: Box::new(request),
            error,
        };
    }
    tracing::warn!(
        %lock_id,
        operation = request.operation_id(),
        error = %error,
        "execute outcome unknown; not sending it again"
    );
    LockError::UnknownOutcome(Box::new(UnknownOutcome {
        lock_id,
        request,
        error,
        reconcile: F::reconcile(),
        locks_taken,
    }))
}

/// The request never left: it could not be built, or no connection was made.
fn never_sent(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::Config | ErrorKind::InvalidRequest | ErrorKind::InvalidUpload => true,
        // A connect timeout is a timeout *and* a connect error: still nothing was sent.
        ErrorKind::Transport | ErrorKind::Timeout => std::error::Error::source(error)
            .and_then(|source| source.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_connect),
        _ => false,
    }
}

/// P100 answered with a definite refusal: a 4xx other than `P500`/`P501`. A 5xx (a gateway's
/// 502 or 504 may come after P100 executed), `P500` ("unknown exception") and `P501` are not.
fn refused_before_executing(error: &Error) -> bool {
    let Some(api) = error.api() else {
        return false;
    };
    let unknown_code = matches!(
        api.code(),
        Some(ErrorCode::UnknownException | ErrorCode::ServiceUnavailable)
    );
    api.status().is_client_error() && !unknown_code
}

#[cfg(test)]
mod tests {
    use super::super::flows::Order;
    use super::*;
    use crate::{types, Client};

    #[tokio::test]
    async fn a_refused_connection_was_not_sent() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port());
        let client = closed.ok().and_then(|port| {
            Client::builder()
                .api_key("k")
                .base_url(format!("http://127.0.0.1:{port}"))
                .retry(crate::RetryPolicy::none())
                .build()
                .ok()
        });
        let Some(client) = client else {
            panic!("no loopback client");
        };
        let request = types::CreateOrderRequest {
            lock_id: Uuid::nil(),
        };
        let result = client.order_create().body(request.clone()).send().await;
        let Err(error) = result else {
            panic!("nothing listens there");
        };
        assert!(never_sent(&error), "{error:?}");
        let outcome = failed_execute::<Order>(Uuid::nil(), request.into(), error, 1);
        assert!(matches!(outcome, LockError::NotSent { .. }), "{outcome:?}");
        assert!(!outcome.may_have_executed());
    }
}
