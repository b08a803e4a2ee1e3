//! Payment links: the `PaymentLink` record, creating one (an optional amount in a currency),
//! its settlement, which credits the partner, and its `payment_link` webhook. The details
//! answer belongs to `views`.

use p100_api::webhooks::kind;
use rust_decimal::Decimal;
use uuid::Uuid;

use p100_api::types;

use super::movement::Outcome;
use super::scheduler::Event;
use super::views::payment_link_status;
use super::{check_amount, State};
use crate::clock::VTime;
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Debug)]
pub(crate) struct PaymentLink {
    pub(super) amount: Option<Decimal>,
    pub(super) currency: String,
    pub(super) outcome: Outcome,
    pub(super) created_at: VTime,
}

impl State {
    pub(crate) fn create_payment_link(
        &mut self,
        request: &types::OpenObject,
        amount: Option<Decimal>,
        now: VTime,
    ) -> Result<String, ApiError> {
        // `amount` was read from the body's text by the handler (exactly, strictly): the
        // free-form map holds numbers as `f64`.
        let currency = match request.get::<String>("currency") {
            Some(Ok(c)) => c.to_ascii_lowercase(),
            _ => "eur".to_string(),
        };
        if let Some(amount) = amount {
            let precision_of = if money::is_supported(&currency) {
                currency.as_str()
            } else {
                "btc"
            };
            check_amount("amount", amount, precision_of)?;
        }
        let id = Uuid::new_v4().to_string();
        self.payment_links.insert(
            id.clone(),
            PaymentLink {
                amount,
                currency,
                outcome: Outcome::Pending,
                created_at: now,
            },
        );
        self.payment_link_webhook(&id, now);
        self.settle_later(now, Event::SettlePaymentLink(id.clone()));
        Ok(id)
    }

    fn payment_link_webhook(&mut self, id: &str, at: VTime) {
        let Some(link) = self.payment_links.get(id) else {
            return;
        };
        let body = types::PaymentLinkWebhook {
            payment_link_id: Some(id.to_string()),
            status: Some(payment_link_status(&link.outcome)),
        };
        self.emit_json(kind::PAYMENT_LINK, &body, at);
    }

    pub(super) fn settle_payment_link(&mut self, id: &str, at: VTime) {
        let Some(link) = self.payment_links.get_mut(id) else {
            return;
        };
        if link.outcome != Outcome::Pending {
            return;
        }
        link.outcome = Outcome::Done;
        if let Some(amount) = link.amount {
            if money::is_supported(&link.currency) {
                let currency = link.currency.clone();
                self.partner.credit(&currency, amount);
            }
        }
        self.payment_link_webhook(id, at);
    }
}
