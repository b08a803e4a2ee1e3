//! `send_and_wait`: what the generated money-movement builders (`client.transfer_create()…`)
//! return when they send and then wait for the outcome: [`SendAndWaitError`]. The waiting itself
//! is the waiter's; the send is the operation's (a lost answer is an unknown movement, never
//! sent again).

use std::fmt;

use super::kinds::Waitable;
use super::outcome::WaitError;
use crate::Error;

/// Why a `send_and_wait` did not end in success.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendAndWaitError<T: Waitable> {
    /// The create failed. When its answer was lost the money may have moved:
    /// [`Error::unknown_movement`] says what to reconcile
    /// ([`Client::reconcile`](crate::Client::reconcile)); it was not sent again.
    Send(Error),
    /// P100 took the movement but answered without the id to follow it with: it happened (or
    /// will); reconcile with the answer.
    NoId {
        /// The operation.
        operation: &'static str,
        /// P100's answer as JSON.
        answer: serde_json::Value,
    },
    /// The movement was created; waiting for its outcome ended otherwise than in success
    /// (failed final state, timeout, failed polls): see [`WaitError`].
    Wait(WaitError<T>),
}

impl<T: Waitable> SendAndWaitError<T> {
    /// Whether the money may have moved although this is an error: an unknown outcome of the
    /// send, a create without an id, or any failure after the create was taken (a wait that
    /// timed out is still in flight).
    pub fn may_have_moved(&self) -> bool {
        match self {
            SendAndWaitError::Send(error) => error.may_have_executed(),
            SendAndWaitError::NoId { .. } => true,
            SendAndWaitError::Wait(WaitError::Failed(_)) => false,
            SendAndWaitError::Wait(_) => true,
        }
    }
}

impl<T: Waitable> fmt::Display for SendAndWaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendAndWaitError::Send(error) => write!(f, "sending failed: {error}"),
            SendAndWaitError::NoId { operation, .. } => write!(
                f,
                "{operation} was taken but its answer has no id to follow: reconcile"
            ),
            SendAndWaitError::Wait(error) => write!(f, "{error}"),
        }
    }
}

impl<T: Waitable> std::error::Error for SendAndWaitError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendAndWaitError::Send(error) => Some(error),
            SendAndWaitError::NoId { .. } => None,
            SendAndWaitError::Wait(error) => Some(error),
        }
    }
}
