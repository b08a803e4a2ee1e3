//! Sandbox time moving the state forward: the `Event`s due at a time, scheduling them (now or
//! `settle_after` later), applying every due event in order, and the webhook bookkeeping:
//! recording an emitted event, its delivery attempts and the retry schedule. What an event does
//! to a record belongs to that record's module; sending over HTTP and waiting belong to `server`.
//!
//! Pending events are ordered by due time (then by scheduling order) in a `BTreeMap`, so the
//! next due event is found and taken in O(log n) under the state lock, however many are
//! pending.

use p100_api::webhooks::kind;
use serde::Serialize;
use uuid::Uuid;

use super::{ts_string, State};
use crate::clock::{Clock, VTime};
use crate::webhooks::{self, Delivery, DeliveryAttempt, DeliveryState, Job};

#[derive(Clone, Debug)]
pub(super) enum Event {
    SettleExchange(Uuid),
    SettleSepa(Uuid),
    SettleWithdrawal(Uuid),
    SettleTransfer(Uuid),
    OrderStep(Uuid),
    SettlePaymentLink(String),
    KycStep(String),
    PoaStep(String),
    DepositStep(Uuid),
    SepaDepositStep(Uuid),
    WalletCreated(Uuid),
    Deliver(u64),
}

impl State {
    fn schedule(&mut self, at: VTime, event: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), event);
    }

    pub(super) fn settle_later(&mut self, now: VTime, event: Event) {
        let at = now.saturating_add(self.settle_after);
        self.schedule(at, event);
    }

    /// When the next event is due.
    pub(crate) fn next_due(&self) -> Option<VTime> {
        self.events.first_key_value().map(|((at, _), _)| *at)
    }

    /// Applies every event due at `now`, in order; returns the webhook attempts to send.
    pub(crate) fn run_due(&mut self, now: VTime, clock: &Clock) -> Vec<Job> {
        let mut jobs = Vec::new();
        // Applying an event may schedule more that are already due (a webhook's first
        // attempt): they are taken in this loop too.
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, _), event) = entry.remove_entry();
            self.apply(event, at, clock, &mut jobs);
        }
        jobs
    }

    fn apply(&mut self, event: Event, at: VTime, clock: &Clock, jobs: &mut Vec<Job>) {
        match event {
            Event::SettleExchange(id) => self.settle_exchange(id, at, clock),
            Event::SettleSepa(id) => self.settle_sepa(id, at, clock),
            Event::SettleWithdrawal(id) => self.settle_withdrawal(id, at, clock),
            Event::SettleTransfer(id) => self.settle_transfer(id, at, clock),
            Event::OrderStep(id) => self.order_step(id, at, clock),
            Event::SettlePaymentLink(id) => self.settle_payment_link(&id, at),
            Event::KycStep(user) => self.kyc_step(&user, at),
            Event::PoaStep(user) => self.poa_step(&user, at),
            Event::DepositStep(id) => self.deposit_step(id, at, clock),
            Event::SepaDepositStep(id) => self.sepa_deposit_step(id, at, clock),
            Event::WalletCreated(id) => {
                let body = serde_json::json!({
                    "walletId": id.to_string(),
                    "status": "CREATED",
                    "createdAt": ts_string(clock, at),
                });
                self.emit(kind::CREATE_WALLET, body.to_string(), at);
            }
            Event::Deliver(id) => {
                if let Some(d) = self.deliveries.get(id) {
                    if let (Some(url), Some(body), DeliveryState::Pending) =
                        (&d.url, &d.body, d.state)
                    {
                        jobs.push(Job {
                            id,
                            url: url.clone(),
                            body: body.clone(),
                        });
                    }
                }
            }
        }
    }

    /// Records a webhook event and, when its kind has a URL, schedules its first attempt.
    pub(crate) fn emit(&mut self, kind: &str, body: String, at: VTime) -> u64 {
        let url = self.webhook_url(kind);
        self.record_event(kind, url, Some(body), at)
    }

    /// `emit` with a body to serialise, which is serialised only when it is kept.
    pub(super) fn emit_json<T: Serialize>(&mut self, kind: &str, body: &T, at: VTime) {
        let url = self.webhook_url(kind);
        let text = if url.is_some() || self.retention.unsent_webhook_bodies {
            match serde_json::to_string(body) {
                Ok(text) => Some(text),
                Err(e) => {
                    tracing::error!(kind, "cannot serialize webhook: {e}");
                    return;
                }
            }
        } else {
            None
        };
        self.record_event(kind, url, text, at);
    }

    /// Where events of `kind` go, if anywhere.
    fn webhook_url(&self, kind: &str) -> Option<String> {
        self.webhooks.urls.get(kind).cloned().or_else(|| {
            // `{kind}` in the default URL stands for the kind, as receivers route by it.
            self.webhooks
                .default_url
                .as_ref()
                .map(|url| url.replace("{kind}", kind))
        })
    }

    /// Records an event as a delivery. Without a URL it is settled at once, and its body is kept
    /// only with `Retention::unsent_webhook_bodies`.
    fn record_event(
        &mut self,
        kind: &str,
        url: Option<String>,
        body: Option<String>,
        at: VTime,
    ) -> u64 {
        let id = self.deliveries.next_id();
        let sent = url.is_some();
        let keep_body = sent || self.retention.unsent_webhook_bodies;
        self.deliveries.push(Delivery {
            id,
            kind: kind.to_string(),
            url,
            body: body.filter(|_| keep_body),
            state: if sent {
                DeliveryState::Pending
            } else {
                DeliveryState::NoUrl
            },
            emitted_at: at,
            attempts: Vec::new(),
        });
        if sent {
            self.schedule(at, Event::Deliver(id));
        } else {
            self.deliveries.settled(id, self.retention.deliveries);
        }
        id
    }

    /// Records the result of one attempt and schedules the next one if needed.
    pub(crate) fn record_attempt(
        &mut self,
        id: u64,
        sent_at: VTime,
        result: Result<u16, String>,
        now: VTime,
    ) {
        let (status, error) = match result {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let keep = self.retention.deliveries;
        let next = {
            let Some(d) = self.deliveries.get_mut(id) else {
                return;
            };
            d.attempts.push(DeliveryAttempt {
                at: sent_at,
                status,
                error,
            });
            if delivered {
                d.state = DeliveryState::Delivered;
                None
            } else {
                let next = webhooks::next_attempt(d.attempts.len(), now);
                if next.is_none() {
                    d.state = DeliveryState::Failed;
                }
                next
            }
        };
        match next {
            Some(at) => self.schedule(at, Event::Deliver(id)),
            None => self.deliveries.settled(id, keep),
        }
    }

    pub(crate) fn webhook_token(&self) -> &str {
        &self.webhooks.token
    }
}
