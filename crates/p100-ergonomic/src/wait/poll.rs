//! The one polling loop, shared by every kind, by `Waiter::wait` and by the status stream: wait
//! as the policy says, read the record once, classify its status (the waiter's overrides first)
//! and say whether the wait is over; and the fetch of one record through the client's executor.
//! The builder is in `waiter`, the status words in `kinds`.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use p100_api::ClientInfo;
use tokio::time::Instant;

use super::kinds::{StatusClass, Waitable};
use super::outcome::{CallFailed, FailedState, StatusChange, Succeeded, TimedOut, WaitError};
use super::policy::WaitPolicy;
use super::waiter::Waiter;
use crate::error::Error;
use crate::Client;

/// What one step of the loop produced.
pub(super) enum Step<T: Waitable> {
    Changed(StatusChange<T>),
    Unchanged,
    Done(Result<Succeeded<T>, WaitError<T>>),
}

/// The one polling loop, shared by every kind, by `wait` and by `status_changes`.
pub(super) struct Polling<T: Waitable> {
    client: Client,
    id: String,
    policy: WaitPolicy,
    overrides: Arc<[(String, StatusClass)]>,
    started: Option<Instant>,
    polls: u32,
    last: Option<T>,
    last_status: Option<Option<String>>,
    warned: Vec<Option<String>>,
    /// The last transient poll failure, ridden out while time is left.
    last_error: Option<Error>,
}

impl<T: Waitable> Polling<T> {
    pub(super) fn new(waiter: Waiter<T>) -> Self {
        Polling {
            client: waiter.client,
            id: waiter.id,
            policy: waiter.policy,
            overrides: waiter.overrides.into(),
            started: None,
            polls: 0,
            last: None,
            last_status: None,
            warned: Vec::new(),
            last_error: None,
        }
    }

    pub(super) fn span(&self) -> tracing::Span {
        tracing::info_span!("p100.wait", kind = T::KIND, id = %self.id)
    }

    fn classify(&self, record: &T, status: Option<&str>) -> StatusClass {
        status
            .and_then(|status| {
                self.overrides
                    .iter()
                    .find(|(known, _)| known.eq_ignore_ascii_case(status))
                    .map(|(_, class)| *class)
            })
            .unwrap_or_else(|| record.classify())
    }

    pub(super) async fn step(&mut self) -> Step<T> {
        let started = *self.started.get_or_insert_with(Instant::now);
        if self.polls > 0 {
            let elapsed = started.elapsed();
            match self.policy.max_wait.checked_sub(elapsed) {
                Some(left) if !left.is_zero() => {
                    let delay = self.policy.delay(self.polls).min(left);
                    tracing::trace!(delay = ?delay, "waiting before the next poll");
                    tokio::time::sleep(delay).await;
                }
                // Time is up: report the last record, or, if no poll ever answered, the last
                // (transient) failure.
                _ => {
                    if let Some(last) = self.last.take() {
                        return Step::Done(Err(self.timed_out(last, elapsed)));
                    }
                    if let Some(error) = self.last_error.take() {
                        return Step::Done(Err(self.call_failed(error, elapsed)));
                    }
                }
            }
        }
        self.polls += 1;
        let fetched = fetch::<T>(&self.client, &self.id).await;
        let elapsed = started.elapsed();
        let (record, raw) = match fetched {
            Ok(fetched) => fetched,
            // A transient failure (after the client's own retries) does not end the wait while
            // time is left, as in the AWS SDK's waiters: the next poll may well answer.
            Err(error) if error.is_retryable() && elapsed < self.policy.max_wait => {
                tracing::warn!(poll = self.polls, error = %error, "poll failed; polling on");
                self.last_error = Some(error);
                return Step::Unchanged;
            }
            Err(error) => {
                tracing::debug!(poll = self.polls, error = %error, "poll failed");
                return Step::Done(Err(self.call_failed(error, elapsed)));
            }
        };
        let status = record.status().map(Cow::into_owned);
        let class = self.classify(&record, status.as_deref());
        tracing::debug!(
            poll = self.polls,
            status = status.as_deref(),
            ?class,
            "polled"
        );
        // A final class always comes from a present status (the waiter's overrides and the
        // catalog classify values, not their absence).
        let typed = record.typed_status();
        match (class, typed) {
            (StatusClass::Succeeded, Some(status)) => Step::Done(Ok(Succeeded {
                id: self.id.clone(),
                record,
                status,
                polls: self.polls,
                elapsed,
            })),
            (StatusClass::Failed, Some(status)) => {
                let reason = serde_json::from_slice::<serde_json::Value>(&raw)
                    .ok()
                    .and_then(|raw| T::failure_reason(&raw));
                Step::Done(Err(WaitError::Failed(Box::new(FailedState {
                    id: self.id.clone(),
                    record,
                    status,
                    reason,
                    polls: self.polls,
                    elapsed,
                }))))
            }
            (class, typed) => {
                if class == StatusClass::Unrecognized && !self.warned.contains(&status) {
                    tracing::warn!(
                        kind = T::KIND,
                        id = %self.id,
                        status = status.as_deref().unwrap_or("<none>"),
                        "P100 sent a status this SDK does not know; treating it as not final \
                         (use `Waiter::treat` to give it a meaning)"
                    );
                    self.warned.push(status.clone());
                }
                let changed = self.last_status.as_ref() != Some(&status);
                self.last_status = Some(status.clone());
                if changed {
                    self.last = Some(record.clone());
                    Step::Changed(StatusChange {
                        id: self.id.clone(),
                        record,
                        status: typed,
                        class,
                        polls: self.polls,
                        elapsed,
                    })
                } else {
                    self.last = Some(record);
                    Step::Unchanged
                }
            }
        }
    }

    fn call_failed(&mut self, error: Error, elapsed: Duration) -> WaitError<T> {
        WaitError::CallFailed(Box::new(CallFailed {
            id: self.id.clone(),
            error,
            last: self.last.take(),
            polls: self.polls,
            elapsed,
        }))
    }

    fn timed_out(&self, last: T, elapsed: Duration) -> WaitError<T> {
        tracing::debug!(polls = self.polls, "gave up waiting");
        WaitError::TimedOut(Box::new(TimedOut {
            id: self.id.clone(),
            status: last.typed_status(),
            last,
            polls: self.polls,
            elapsed,
        }))
    }
}

/// Reads one record through the client's executor (key, retries of transient failures,
/// tracing, as for the generated operation `T::OPERATION_ID`) and keeps its raw JSON, which
/// holds fields the spec does not describe yet (the `error` object of failed records).
async fn fetch<T: Waitable>(client: &Client, id: &str) -> Result<(T, bytes::Bytes), Error> {
    let raw = client.raw();
    let url = crate::client::operation_url(raw, T::PATH, Some(id), &[])?;
    let request = raw
        .client()
        .get(url)
        .build()
        .map_err(|e| Error::invalid_request(format!("could not build the request: {e}")))?;
    let answer = crate::client::send_through_executor(raw, request, T::OPERATION_ID).await?;
    match serde_json::from_slice::<T>(&answer.bytes) {
        Ok(record) => Ok((record, answer.bytes)),
        Err(source) => Err(Error::decode(
            Some(answer.status),
            answer.bytes.clone(),
            format!("the body is not the documented {} record", T::KIND),
            Some(source),
            answer.record,
        )),
    }
}
