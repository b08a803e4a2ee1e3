//! What a wait returns: `Succeeded` for a success state, or a `WaitError` that keeps the failed
//! record, the last record of a timed-out wait or the failed call; `FailureReason`, P100's
//! explanation of a failed state; and `StatusChange`, an item of the status stream. How a status
//! is classified belongs to `kinds`, the loop that produces these to `poll`.

use std::fmt;
use std::time::Duration;

use super::kinds::{StatusClass, Waitable};
#[cfg(doc)]
use super::waiter::Waiter;
use crate::error::{Error, ErrorCode};

/// P100's explanation of a failed state: the record's `error` object (`description`, `status`;
/// the shape the transfer webhooks show), or the KYC `rejectionReason`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FailureReason {
    /// A readable description (`error.description`).
    pub description: Option<String>,
    /// P100's error code (`error.status` or `error.code`, or the KYC rejection reason), as the
    /// [`ErrorCode`] synchronous errors give: a P-code by its name, anything else
    /// `ErrorCode::Unknown` with its text.
    pub code: Option<ErrorCode>,
    /// The code's text exactly as P100 sent it.
    pub code_text: Option<String>,
    /// The value exactly as P100 sent it.
    pub raw: serde_json::Value,
}

impl FailureReason {
    pub(super) fn from_error_field(raw: &serde_json::Value, field: &str) -> Option<FailureReason> {
        let error = raw.get(field)?;
        let text = |key: &str| error.get(key).and_then(|v| v.as_str()).map(String::from);
        match error {
            serde_json::Value::Null => None,
            serde_json::Value::String(description) => Some(FailureReason {
                description: Some(description.clone()),
                code: None,
                code_text: None,
                raw: error.clone(),
            }),
            _ => Some(FailureReason::new(
                text("description").or_else(|| text("message")),
                text("status").or_else(|| text("code")),
                error.clone(),
            )),
        }
    }

    pub(super) fn new(
        description: Option<String>,
        code_text: Option<String>,
        raw: serde_json::Value,
    ) -> FailureReason {
        FailureReason {
            description,
            code: code_text.as_deref().map(ErrorCode::parse),
            code_text,
            raw,
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code_text, &self.description) {
            (Some(code), Some(description)) => write!(f, "{code}: {description}"),
            (Some(text), None) | (None, Some(text)) => f.write_str(text),
            (None, None) => write!(f, "{}", self.raw),
        }
    }
}

/// A success state, the result of [`Waiter::wait`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Succeeded<T: Waitable> {
    /// The id that was polled.
    pub id: String,
    /// The record in its final state.
    pub record: T,
    /// Its final status, typed ([`Waitable::Status`]: `types::ExchangeStatus`, …).
    pub status: T::Status,
    /// How many polls it took.
    pub polls: u32,
    /// How long it took, from the first poll.
    pub elapsed: Duration,
}

/// The old name of [`Succeeded`] ("settled" read as "finished", which a failure is too).
#[deprecated(
    since = "0.2.0",
    note = "renamed `Succeeded`: it is only ever a success"
)]
pub type Settled<T> = Succeeded<T>;

/// A change of status seen while polling: an item of [`Waiter::status_changes`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StatusChange<T: Waitable> {
    /// The id that is polled.
    pub id: String,
    /// The record as this poll read it.
    pub record: T,
    /// Its status, typed (`None`: the record had none).
    pub status: Option<T::Status>,
    /// What the status means; the last item of a successful wait is
    /// [`StatusClass::Succeeded`].
    pub class: StatusClass,
    /// Polls so far, this one included.
    pub polls: u32,
    /// Time since the first poll.
    pub elapsed: Duration,
}

/// The record reached a failed final state: [`WaitError::Failed`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FailedState<T: Waitable> {
    /// The id that was polled.
    pub id: String,
    /// The record in its failed state.
    pub record: T,
    /// Its final status, typed.
    pub status: T::Status,
    /// P100's explanation, when the record carries one.
    pub reason: Option<FailureReason>,
    /// How many polls it took.
    pub polls: u32,
    /// How long it took, from the first poll.
    pub elapsed: Duration,
}

/// No final status within the policy's `max_wait`: [`WaitError::TimedOut`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TimedOut<T: Waitable> {
    /// The id that was polled.
    pub id: String,
    /// The last record read.
    pub last: T,
    /// Its status, typed (`None`: the record had none).
    pub status: Option<T::Status>,
    /// How many polls were made.
    pub polls: u32,
    /// How long the waiter waited.
    pub elapsed: Duration,
}

/// A poll failed (after the client's retries of transient failures): [`WaitError::CallFailed`].
#[derive(Debug)]
#[non_exhaustive]
pub struct CallFailed<T: Waitable> {
    /// The id that was polled.
    pub id: String,
    /// Why the poll failed.
    pub error: Error,
    /// The last record read before, if any.
    pub last: Option<T>,
    /// How many polls were made, the failed one included.
    pub polls: u32,
    /// Time since the first poll.
    pub elapsed: Duration,
}

/// Why a wait did not end in a success state. Each case keeps what a caller needs to act on it.
///
/// ```
/// # async fn example(client: p100_ergonomic::Client) {
/// use p100_ergonomic::wait::WaitError;
///
/// match client.wait_for_sepa_transfer("7fb02323-969a-4936-94ea-86b8773ff1a2").wait().await {
///     Ok(done) => println!("sent {} {}", done.record.amount, done.record.currency),
///     Err(WaitError::Failed(failed)) => {
///         println!("bounced: {:?}", failed.reason.map(|r| r.to_string()))
///     }
///     Err(WaitError::TimedOut(late)) => {
///         println!("still {:?} after {} polls; the webhook will tell", late.status, late.polls)
///     }
///     Err(WaitError::CallFailed(call)) => println!("could not ask P100: {}", call.error),
///     Err(other) => println!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitError<T: Waitable> {
    /// The record reached a failed final state.
    Failed(Box<FailedState<T>>),
    /// No final state within the time budget.
    TimedOut(Box<TimedOut<T>>),
    /// A poll failed; P100's state is unknown.
    CallFailed(Box<CallFailed<T>>),
}

impl<T: Waitable> WaitError<T> {
    /// The id that was polled.
    pub fn id(&self) -> &str {
        match self {
            WaitError::Failed(failed) => &failed.id,
            WaitError::TimedOut(late) => &late.id,
            WaitError::CallFailed(call) => &call.id,
        }
    }

    /// How many polls were made.
    pub fn polls(&self) -> u32 {
        match self {
            WaitError::Failed(failed) => failed.polls,
            WaitError::TimedOut(late) => late.polls,
            WaitError::CallFailed(call) => call.polls,
        }
    }

    /// The last record read, if any.
    pub fn last_record(&self) -> Option<&T> {
        match self {
            WaitError::Failed(failed) => Some(&failed.record),
            WaitError::TimedOut(late) => Some(&late.last),
            WaitError::CallFailed(call) => call.last.as_ref(),
        }
    }

    /// Whether the record reached a failed final state.
    pub fn is_failed(&self) -> bool {
        matches!(self, WaitError::Failed(_))
    }

    /// Whether the time budget ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, WaitError::TimedOut(_))
    }

    /// The failed call, for [`WaitError::CallFailed`].
    pub fn call_error(&self) -> Option<&Error> {
        match self {
            WaitError::CallFailed(call) => Some(&call.error),
            _ => None,
        }
    }
}

impl<T: Waitable> fmt::Display for WaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = T::KIND;
        let shown = |status: Option<&T::Status>| {
            status.map_or_else(|| "none".to_string(), ToString::to_string)
        };
        match self {
            WaitError::Failed(failed) => {
                write!(
                    f,
                    "{kind} {} failed with status {}",
                    failed.id,
                    shown(Some(&failed.status))
                )?;
                if let Some(reason) = &failed.reason {
                    write!(f, ": {reason}")?;
                }
                Ok(())
            }
            WaitError::TimedOut(late) => write!(
                f,
                "{kind} {} is not final after {:?} ({} polls); last status {}",
                late.id,
                late.elapsed,
                late.polls,
                shown(late.status.as_ref())
            ),
            WaitError::CallFailed(call) => write!(
                f,
                "could not read {kind} {} (poll {}): {}",
                call.id, call.polls, call.error
            ),
        }
    }
}

impl<T: Waitable> std::error::Error for WaitError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WaitError::CallFailed(call) => Some(&call.error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types;

    #[test]
    fn failure_reasons() {
        let raw = serde_json::json!({"status": "FAILED", "error": {"description": "Insufficient funds", "status": "INSUFFICIENT_FUNDS"}});
        let reason = FailureReason::from_error_field(&raw, "error");
        assert_eq!(
            reason.as_ref().and_then(|r| r.description.as_deref()),
            Some("Insufficient funds")
        );
        assert_eq!(
            reason.map(|r| r.to_string()).as_deref(),
            Some("INSUFFICIENT_FUNDS: Insufficient funds")
        );
        assert_eq!(
            FailureReason::from_error_field(&serde_json::json!({"error": null}), "error"),
            None
        );
        let kyc = types::KycStatus::failure_reason(
            &serde_json::json!({"rejectionReason": "NO_FACE_FOUND"}),
        );
        assert_eq!(
            kyc.as_ref().and_then(|r| r.code_text.as_deref()),
            Some("NO_FACE_FOUND")
        );
        assert_eq!(
            kyc.and_then(|r| r.code),
            Some(ErrorCode::Unknown("NO_FACE_FOUND".into()))
        );
        let coded = FailureReason::from_error_field(
            &serde_json::json!({"error": {"code": "P433", "description": "Insufficient funds"}}),
            "error",
        );
        assert_eq!(
            coded.and_then(|r| r.code),
            Some(ErrorCode::InsufficientFunds)
        );
    }
}
