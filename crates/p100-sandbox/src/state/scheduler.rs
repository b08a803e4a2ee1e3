//! Sandbox time moving the state forward: the `Event`s due at a time, scheduling them (now or
//! `settle_after` later), applying every due event in order, and the webhook bookkeeping:
//! recording an emitted event, its delivery attempts and the retry schedule. What an event does
//! to a record belongs to that record's module; sending over HTTP and waiting belong to `server`.

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
        self.events.push((at, self.seq, event));
    }

    pub(super) fn settle_later(&mut self, now: VTime, event: Event) {
        let at = now.saturating_add(self.settle_after);
        self.schedule(at, event);
    }

    /// When the next event is due.
    pub(crate) fn next_due(&self) -> Option<VTime> {
        self.events.iter().map(|(at, _, _)| *at).min()
    }

    /// Applies every event due at `now`, in order; returns the webhook attempts to send.
    pub(crate) fn run_due(&mut self, now: VTime, clock: &Clock) -> Vec<Job> {
        let mut jobs = Vec::new();
        loop {
            let next = self
                .events
                .iter()
                .enumerate()
                .filter(|(_, (at, _, _))| *at <= now)
                .min_by_key(|(_, (at, seq, _))| (*at, *seq))
                .map(|(i, _)| i);
            let Some(index) = next else { break };
            let (at, _, event) = self.events.swap_remove(index);
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
                if let Some(d) = self.deliveries.iter().find(|d| d.id == id) {
                    if let (Some(url), DeliveryState::Pending) = (&d.url, d.state) {
                        jobs.push(Job {
                            id,
                            url: url.clone(),
                            body: d.body.clone(),
                        });
                    }
                }
            }
        }
    }

    /// Records a webhook event and, when its kind has a URL, schedules its first attempt.
    pub(crate) fn emit(&mut self, kind: &str, body: String, at: VTime) -> u64 {
        let id = self.deliveries.len() as u64 + 1;
        let url = self.webhooks.urls.get(kind).cloned().or_else(|| {
            // `{kind}` in the default URL stands for the kind, as receivers route by it.
            self.webhooks
                .default_url
                .as_ref()
                .map(|url| url.replace("{kind}", kind))
        });
        let state = if url.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::NoUrl
        };
        self.deliveries.push(Delivery {
            id,
            kind: kind.to_string(),
            url,
            body,
            state,
            emitted_at: at,
            attempts: Vec::new(),
        });
        if state == DeliveryState::Pending {
            self.schedule(at, Event::Deliver(id));
        }
        id
    }

    pub(super) fn emit_json<T: Serialize>(&mut self, kind: &str, body: &T, at: VTime) {
        match serde_json::to_string(body) {
            Ok(text) => {
                self.emit(kind, text, at);
            }
            Err(e) => tracing::error!(kind, "cannot serialize webhook: {e}"),
        }
    }

    /// Records the result of one attempt and schedules the next one if needed.
    pub(crate) fn record_attempt(
        &mut self,
        id: u64,
        sent_at: VTime,
        result: Result<u16, String>,
        now: VTime,
    ) {
        let Some(index) = self.deliveries.iter().position(|d| d.id == id) else {
            return;
        };
        let (status, error) = match result {
            Ok(status) => (Some(status), None),
            Err(e) => (None, Some(e)),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let next = {
            let d = &mut self.deliveries[index];
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
        if let Some(at) = next {
            self.schedule(at, Event::Deliver(id));
        }
    }

    pub(crate) fn webhook_token(&self) -> &str {
        &self.webhooks.token
    }
}
