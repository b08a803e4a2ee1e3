//! SEPA transfers (payouts to an IBAN): the `SepaTransfer` record, validating and creating one,
//! and its settlement with the partner or user SEPA transfer webhook. SEPA deposits (money
//! coming in) belong to `deposits`, the details answer to `views`.

use p100_api::types::{self, DecimalNumber, DecimalString};
use p100_api::webhooks::kind;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::accounts::Holder;
use super::movement::{movement, Movement, Outcome};
use super::scheduler::Event;
use super::views::{sepa_status, RecordError, WithError};
use super::{check_amount, ts, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Debug)]
pub(crate) struct SepaTransfer {
    pub(super) owner: Holder,
    pub(super) amount: Decimal,
    pub(super) fee: Decimal,
    pub(super) currency: String,
    pub(super) title: String,
    pub(super) iban: String,
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) reserved: bool,
    pub(super) outcome: Outcome,
    pub(super) created_at: VTime,
}

movement!(SepaTransfer, sepa, SettleSepa, |s| Some((
    s.owner.clone(),
    s.currency.clone(),
    s.amount + s.fee
)));

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_sepa_transfer(
        &mut self,
        owner: Holder,
        amount: Decimal,
        currency: &str,
        iban: &str,
        title: &str,
        first_name: Option<String>,
        last_name: Option<String>,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        self.check_holder(&owner)?;
        if currency != "eur" {
            return Err(ApiError::validation(
                "currency must be one of the following values: eur",
            ));
        }
        check_amount("amount", amount, currency)?;
        let iban_ok = iban.len() >= 15
            && iban.len() <= 34
            && iban.chars().all(|c| c.is_ascii_alphanumeric())
            && iban.chars().take(2).all(|c| c.is_ascii_uppercase());
        if !iban_ok {
            return Err(ApiError::validation("destinationIban must be an IBAN"));
        }
        if title.trim().is_empty() {
            return Err(ApiError::validation("transferTitle should not be empty"));
        }
        let transfer = SepaTransfer {
            owner,
            amount,
            fee: money::sepa_fee(amount),
            currency: currency.to_string(),
            title: title.to_string(),
            iban: iban.to_string(),
            first_name,
            last_name,
            reserved: false,
            outcome: Outcome::Pending,
            created_at: now,
        };
        Ok(self.start_movement(transfer, now))
    }

    pub(super) fn settle_sepa(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        // The payout leaves P100: nothing is credited.
        let Some((rec, outcome)) = self.settle_movement(id, |_, _: &SepaTransfer| Outcome::Done)
        else {
            return;
        };
        let error = outcome.error().map(|e| types::TransactionError {
            description: Some(e.description.clone()),
            status: Some(e.status.clone()),
        });
        let record_error = outcome.error();
        let done = outcome == Outcome::Done;
        let status = sepa_status(&outcome);
        let amount = DecimalString(money::quantize("eur", rec.amount));
        match rec.owner {
            Holder::Partner => {
                let body = if done {
                    types::PartnerSepaTransferWebhook {
                        id: Some(id),
                        type_: Some("external".into()),
                        amount: Some(amount),
                        transfer_title: Some(rec.title.clone()),
                        destination_iban: Some(rec.iban.clone()),
                        receiver_first_name: rec.first_name.clone(),
                        receiver_last_name: rec.last_name.clone(),
                        status: Some(status),
                        currency: Some(rec.currency.clone()),
                        fee: Some(DecimalNumber(rec.fee)),
                        created_at: Some(ts(clock, rec.created_at)),
                        error: None,
                    }
                } else {
                    types::PartnerSepaTransferWebhook {
                        id: Some(id),
                        type_: None,
                        amount: None,
                        transfer_title: None,
                        destination_iban: None,
                        receiver_first_name: None,
                        receiver_last_name: None,
                        status: Some(status),
                        currency: None,
                        fee: None,
                        created_at: None,
                        error: None,
                    }
                };
                let body = WithError {
                    inner: body,
                    error: record_error,
                };
                self.emit_json(kind::PARTNER_SEPA_TRANSFER, &body, at);
            }
            Holder::User(_) => {
                let body = if done {
                    types::UserSepaTransferWebhook {
                        id,
                        type_: Some("external".into()),
                        amount: Some(amount),
                        transfer_title: Some(rec.title.clone()),
                        destination_iban: Some(rec.iban.clone()),
                        receiver_first_name: rec.first_name.clone(),
                        receiver_last_name: rec.last_name.clone(),
                        status,
                        currency: Some(rec.currency.clone()),
                        fee: Some(DecimalNumber(rec.fee)),
                        created_at: Some(ts(clock, rec.created_at)),
                        error: None,
                    }
                } else {
                    types::UserSepaTransferWebhook {
                        id,
                        type_: None,
                        amount: None,
                        transfer_title: None,
                        destination_iban: None,
                        receiver_first_name: None,
                        receiver_last_name: None,
                        status,
                        currency: None,
                        fee: None,
                        created_at: None,
                        error,
                    }
                };
                // The user webhook's `error` is the typed `TransactionError`; add the P100 code too.
                let body = WithError {
                    inner: body,
                    error: None,
                };
                let mut text = serde_json::to_string(&body).unwrap_or_default();
                if let (false, Some(e)) = (done, outcome.error()) {
                    text = replace_error(&text, &e);
                }
                self.emit(kind::USER_SEPA_TRANSFER, text, at);
            }
        }
    }
}

/// Replaces the typed `error` of a serialized webhook by the full error object.
fn replace_error(text: &str, error: &RecordError) -> String {
    #[derive(Serialize)]
    struct Patch<'a> {
        error: &'a RecordError,
    }
    // The user SEPA body has no decimals when FAILED (minimal body), so a Value round trip is exact.
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(mut map) => {
            if let Ok(serde_json::Value::Object(patch)) = serde_json::to_value(Patch { error }) {
                map.extend(patch);
            }
            serde_json::Value::Object(map).to_string()
        }
        Err(_) => text.to_string(),
    }
}
