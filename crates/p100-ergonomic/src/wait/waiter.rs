//! The builder users hold: `Waiter` (its policy, its status overrides), awaited directly, with
//! `wait`, or as a stream of status changes. Both run the loop in `poll`; which kinds can be
//! waited for is in `kinds`, the `Client` methods that make a waiter are in `flows`.

use std::future::IntoFuture;
use std::pin::Pin;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, Stream};
use tracing::Instrument;

use super::kinds::{StatusClass, Waitable};
use super::outcome::{StatusChange, Succeeded, WaitError};
use super::policy::WaitPolicy;
use super::poll::{Polling, Step};
use crate::Client;

/// The stream [`Waiter::status_changes`] returns.
pub type StatusChanges<T> =
    Pin<Box<dyn Stream<Item = Result<StatusChange<T>, WaitError<T>>> + Send + 'static>>;

/// Polls one record until its status is final. Made by [`Client::wait_for_exchange`] and the
/// other `wait_for_*` methods, or [`Client::wait_until_final`].
///
/// `.await` it directly (with the default [`WaitPolicy`]), call [`wait`](Self::wait), or turn it
/// into a [`Stream`] of status changes with [`status_changes`](Self::status_changes).
///
/// ```no_run
/// # async fn example(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use p100_ergonomic::wait::{StatusClass, WaitPolicy};
///
/// // Default policy: 2 s doubling to 10 s, for at most 10 minutes.
/// let exchange = client.wait_for_exchange("3f0aeaa7-1177-4d77-9985-0cb987809801").await?;
/// println!("{} after {} polls", exchange.status, exchange.polls);
///
/// let order = client
///     .wait_for_order("663318af-7ea1-4c5a-8545-e433a2d43d5c")
///     .policy(WaitPolicy::default().with_max_wait(Duration::from_secs(3600)))
///     .treat("PAID", StatusClass::Succeeded) // a status you know the docs do not list
///     .wait()
///     .await?;
/// println!("order {} is {:?}", order.record.order_id, order.status);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a waiter does nothing until awaited or streamed"]
pub struct Waiter<T> {
    pub(super) client: Client,
    pub(super) id: String,
    pub(super) policy: WaitPolicy,
    pub(super) overrides: Vec<(String, StatusClass)>,
    kind: std::marker::PhantomData<fn() -> T>,
}

impl<T: Waitable> Waiter<T> {
    pub(crate) fn new(client: Client, id: String) -> Self {
        Waiter {
            client,
            id,
            policy: WaitPolicy::default(),
            overrides: Vec::new(),
            kind: std::marker::PhantomData,
        }
    }

    /// How to space the polls (default [`WaitPolicy::default`]).
    pub fn policy(mut self, policy: WaitPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Shorthand for a policy with this total wait.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.policy = self.policy.with_max_wait(wait);
        self
    }

    /// Gives a status a meaning that overrides the SDK's (compared without regard to case; for
    /// KYC the status is `verificationStatus/attemptStatus`, e.g. `NOT_VERIFIED/PENDING`).
    pub fn treat(mut self, status: impl Into<String>, class: StatusClass) -> Self {
        self.overrides.push((status.into(), class));
        self
    }

    /// Polls until a final status or the end of the time budget.
    ///
    /// `Ok` only for a success state; see [`WaitError`] for the other three outcomes.
    pub async fn wait(self) -> Result<Succeeded<T>, WaitError<T>> {
        let mut polling = Polling::new(self);
        let span = polling.span();
        async move {
            loop {
                if let Step::Done(result) = polling.step().await {
                    return result;
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The same polling as [`wait`](Self::wait), as a stream that yields the record each time its
    /// status changes (the first poll always counts as a change).
    ///
    /// A successful wait ends with an item whose class is [`StatusClass::Succeeded`]; any other
    /// outcome ends the stream with one `Err`.
    ///
    /// ```no_run
    /// # async fn example(client: p100_ergonomic::Client) {
    /// use futures_util::StreamExt;
    ///
    /// let mut changes = client.wait_for_order("663318af-7ea1-4c5a-8545-e433a2d43d5c").status_changes();
    /// while let Some(change) = changes.next().await {
    ///     match change {
    ///         Ok(change) => match &change.record.wallet_address {
    ///             Some(address) => println!("{:?}: pay to {address}", change.status),
    ///             None => println!("{:?}", change.status),
    ///         },
    ///         Err(error) => println!("{error}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn status_changes(self) -> StatusChanges<T> {
        let polling = Polling::new(self);
        let span = polling.span();
        Box::pin(stream::unfold(Some(polling), move |state| {
            let span = span.clone();
            async move {
                let mut polling = state?;
                loop {
                    match polling.step().instrument(span.clone()).await {
                        Step::Changed(change) => return Some((Ok(change), Some(polling))),
                        Step::Unchanged => continue,
                        Step::Done(Ok(succeeded)) => {
                            let change = StatusChange {
                                id: succeeded.id,
                                record: succeeded.record,
                                status: Some(succeeded.status),
                                class: StatusClass::Succeeded,
                                polls: succeeded.polls,
                                elapsed: succeeded.elapsed,
                            };
                            return Some((Ok(change), None));
                        }
                        Step::Done(Err(error)) => return Some((Err(error), None)),
                    }
                }
            }
        }))
    }
}

impl<T: Waitable> IntoFuture for Waiter<T> {
    type Output = Result<Succeeded<T>, WaitError<T>>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}
