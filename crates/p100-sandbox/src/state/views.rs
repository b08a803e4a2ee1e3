//! The wire views of the records: the status value each outcome shows, the details answers
//! (exchange, SEPA transfer, crypto withdrawal, internal transfer, order, payment link), the
//! error object a FAILED record carries, and the admin snapshot (`GET /__sandbox/state`). Reads
//! only: nothing here changes the state. Webhook bodies are built where the event happens.

use std::collections::BTreeMap;

use p100_api::catalog::{self, StatusClass};
use p100_api::types::{self, DecimalNumber, DecimalString};
use serde::Serialize;
use uuid::Uuid;

use super::accounts::Account;
use super::exchange::Exchange;
use super::movement::Outcome;
use super::orders::OrderPhase;
use super::{find, ts, ts_string, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

/// The error object of a FAILED record or webhook: P100's `Error` fields, plus `description` /
/// `status` so that it also reads as the webhooks' `TransactionError`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecordError {
    error_code: String,
    error_name: Option<String>,
    error_message: String,
    pub(super) description: String,
    pub(super) status: String,
}

impl From<&ApiError> for RecordError {
    fn from(e: &ApiError) -> Self {
        Self {
            error_code: e.code.clone(),
            error_name: e.name.clone(),
            error_message: e.message.clone(),
            description: e.message.clone(),
            status: e.code.clone(),
        }
    }
}

/// A generated type plus the `error` object of a failed record (allowed: the spec's objects
/// accept unknown properties).
#[derive(Serialize)]
pub(crate) struct WithError<T: Serialize> {
    #[serde(flatten)]
    pub(crate) inner: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<RecordError>,
}

// Status values. Final ones are the documented values; the pending value `PENDING` (and
// `FAILED` for internal transfers, `COMPLETED` for orders) are not in the spec's enums (the
// docs never show them; the spec says other values exist) and arrive as `Unknown` in Rust.

/// The status word of a record in `class`, from the spec's `x-p100-status-classes` (the first
/// documented value of the class, else an inferred one): evaluated at compile time, so a spec
/// that no longer has a word for a state the sandbox reports does not build.
macro_rules! word {
    ($set:ident, $class:ident) => {{
        const WORD: &str = match catalog::status_sets::$set.first(StatusClass::$class) {
            Some(word) => word,
            None => panic!(concat!(
                stringify!($set),
                " has no value of class ",
                stringify!($class)
            )),
        };
        WORD
    }};
}

/// A money movement's outcome as the status words of its set.
macro_rules! outcome_word {
    ($set:ident, $o:expr) => {
        match $o {
            Outcome::Pending => word!($set, InProgress),
            Outcome::Done => word!($set, Succeeded),
            Outcome::Failed(_) => word!($set, Failed),
        }
    };
}

pub(super) fn exchange_status(o: &Outcome) -> types::ExchangeStatus {
    outcome_word!(EXCHANGE_STATUS, o).into()
}

pub(super) fn sepa_status(o: &Outcome) -> types::SepaTransferStatus {
    outcome_word!(SEPA_TRANSFER_STATUS, o).into()
}

pub(super) fn withdrawal_status(o: &Outcome) -> types::CryptoWithdrawalStatus {
    types::CryptoWithdrawalStatus(outcome_word!(CRYPTO_WITHDRAWAL_STATUS, o).to_string())
}

pub(super) fn transfer_status(o: &Outcome) -> types::TransferStatus {
    outcome_word!(TRANSFER_STATUS, o).into()
}

/// Orders go through the two documented waiting states, then the set's success word.
pub(super) fn order_status(phase: OrderPhase) -> types::OrderStatus {
    match phase {
        OrderPhase::WaitingForWalletAddress => types::OrderStatus::WaitingForWalletAddress,
        OrderPhase::WaitingForConfirmation => types::OrderStatus::WaitingForConfirmation,
        OrderPhase::Completed => word!(ORDER_STATUS, Succeeded).into(),
    }
}

pub(super) fn payment_link_status(o: &Outcome) -> types::PaymentLinkStatus {
    types::PaymentLinkStatus(outcome_word!(PAYMENT_LINK_STATUS, o).to_string())
}

fn exchange_view(id: Uuid, e: &Exchange, clock: &Clock) -> WithError<types::ExchangeDetails> {
    WithError {
        inner: types::ExchangeDetails {
            error: None,
            id: Some(id.to_string()),
            amount: Some(DecimalNumber(e.amount)),
            currency_from: Some(e.from.clone()),
            currency_to: Some(e.to.clone()),
            lock_id: Some(e.lock_id.to_string()),
            rate: Some(DecimalNumber(e.rate)),
            status: exchange_status(&e.outcome),
            created_at: Some(ts_string(clock, e.created_at)),
        },
        error: e.outcome.error(),
    }
}

impl State {
    pub(crate) fn exchange_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::ExchangeDetails>, ApiError> {
        let (uuid, ex) = find(&self.exchanges, id, || ApiError::not_found("exchange", id))?;
        Ok(exchange_view(uuid, ex, clock))
    }

    pub(crate) fn sepa_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::SepaTransferDetails>, ApiError> {
        let (uuid, rec) = find(&self.sepa, id, || ApiError::sepa_transfer_not_found(id))?;
        let user = rec
            .owner
            .user_id()
            .and_then(|u| self.users.get(u))
            .map(|u| types::SepaTransferUser {
                external_user_id: Some(u.external_id.clone()),
                email: u.profile.email.clone(),
                first_name: u.profile.first_name.clone(),
                last_name: u.profile.last_name.clone(),
                address: u.profile.address.clone(),
                city: u.profile.city.clone(),
                country: u.profile.country.clone(),
                document_type: u.profile.document_type.clone(),
                document_number: u.profile.document_number.clone(),
                pesel: u.profile.pesel.clone(),
                birth_country: u.profile.birth_country.clone(),
                birth_date: u.profile.birth_date.clone(),
            });
        Ok(WithError {
            inner: types::SepaTransferDetails {
                error: None,
                id: uuid,
                type_: "external".to_string(),
                amount: DecimalString(money::quantize("eur", rec.amount)),
                transfer_title: rec.title.clone(),
                destination_iban: rec.iban.clone(),
                receiver_first_name: rec.first_name.clone(),
                receiver_last_name: rec.last_name.clone(),
                status: sepa_status(&rec.outcome),
                currency: rec.currency.clone(),
                fee: Some(DecimalNumber(rec.fee)),
                created_at: Some(ts(clock, rec.created_at)),
                user,
            },
            error: rec.outcome.error(),
        })
    }

    pub(crate) fn withdrawal_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::CryptoWithdrawalDetails>, ApiError> {
        let (uuid, rec) = find(&self.withdrawals, id, || {
            ApiError::not_found("crypto-withdrawal", id)
        })?;
        let mut user = serde_json::Map::new();
        if let Some(u) = rec.owner.user_id().and_then(|u| self.users.get(u)) {
            user.insert("externalUserId".into(), u.external_id.clone().into());
            if let Some(email) = &u.profile.email {
                user.insert("email".into(), email.clone().into());
            }
        }
        Ok(WithError {
            inner: types::CryptoWithdrawalDetails {
                error: None,
                id: Some(uuid.to_string()),
                amount: Some(DecimalNumber(rec.amount)),
                fee: Some(DecimalNumber(rec.fee)),
                destination: Some(rec.address.clone()),
                status: withdrawal_status(&rec.outcome),
                transaction_hash: rec.tx_hash.clone(),
                currency: Some(rec.currency.clone()),
                created_at: Some(ts_string(clock, rec.created_at)),
                user: (!user.is_empty()).then(|| user.into()),
            },
            error: rec.outcome.error(),
        })
    }

    pub(crate) fn transfer_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<WithError<types::TransferDetails>, ApiError> {
        let (uuid, rec) = find(&self.transfers, id, || ApiError::not_found("transfer", id))?;
        let email = |user: &Option<String>| -> Option<String> {
            match user {
                None => Some("partner@sandbox.p100.invalid".to_string()),
                Some(u) => self.users.get(u).and_then(|u| u.profile.email.clone()),
            }
        };
        Ok(WithError {
            inner: types::TransferDetails {
                error: None,
                id: uuid,
                source_email: email(&rec.source),
                destination_email: email(&rec.destination),
                source_external_user_id: rec.source.clone(),
                destination_external_user_id: rec.destination.clone(),
                status: transfer_status(&rec.outcome),
                amount: DecimalNumber(money::quantize(&rec.currency, rec.amount)),
                currency: rec.currency.clone(),
                created_at: Some(ts(clock, rec.created_at)),
            },
            error: rec.outcome.error(),
        })
    }

    pub(crate) fn order_details(
        &self,
        id: &str,
        clock: &Clock,
    ) -> Result<types::OrderDetails, ApiError> {
        let (uuid, o) = find(&self.orders, id, || ApiError::not_found("order", id))?;
        Ok(types::OrderDetails {
            order_id: uuid,
            lock_id: o.lock_id,
            status: order_status(o.phase),
            created_at: ts(clock, o.created_at),
            expires_at: o.expires_at.map(|t| ts(clock, t)),
            confirmations: Some(o.confirmations),
            required_confirmations: Some(3),
            received_amount: Some(DecimalNumber(o.received)),
            total_amount_required: DecimalNumber(o.crypto_amount),
            cryptocurrency: o.currency.clone(),
            wallet_address: o.wallet.clone(),
            transaction_hash: o.tx_hash.clone(),
            network: o.network.to_ascii_uppercase(),
        })
    }

    pub(crate) fn payment_link_details(
        &self,
        id: &str,
    ) -> Result<types::PaymentLinkDetails, ApiError> {
        let link = self
            .payment_links
            .get(id)
            .ok_or_else(|| ApiError::not_found("payment-link", id))?;
        Ok(types::PaymentLinkDetails {
            payment_link_id: Some(id.to_string()),
            status: payment_link_status(&link.outcome),
        })
    }

    pub(crate) fn snapshot(&self, now: VTime, clock: &Clock) -> Snapshot {
        let balances = |a: &Account| -> BTreeMap<String, String> {
            a.balances
                .iter()
                .map(|(c, v)| (c.clone(), money::quantize(c, *v).to_string()))
                .collect()
        };
        let mut exchanges: Vec<_> = self.exchanges.iter().collect();
        exchanges.sort_by_key(|(_, e)| e.created_at);
        Snapshot {
            now_secs: now.as_secs_f64(),
            partner: AccountView {
                external_user_id: None,
                balances: balances(&self.partner),
                fiat_status: None,
                suspended: None,
                kyc: None,
            },
            users: self
                .users
                .values()
                .map(|u| AccountView {
                    external_user_id: Some(u.external_id.clone()),
                    balances: balances(&u.account),
                    fiat_status: Some(u.fiat_status.to_string()),
                    suspended: Some(u.suspended),
                    kyc: u
                        .kyc
                        .as_ref()
                        .map(|k| format!("{}/{}", k.verification, k.attempt)),
                })
                .collect(),
            locks: self
                .locks
                .values()
                .map(|l| &l.validity)
                .chain(self.order_locks.values().map(|l| &l.validity))
                .filter(|v| v.usable(now))
                .count(),
            exchanges: exchanges
                .into_iter()
                .map(|(id, e)| exchange_view(*id, e, clock))
                .collect(),
            sepa_transfers: self
                .sepa
                .keys()
                .filter_map(|id| self.sepa_details(&id.to_string(), clock).ok())
                .collect(),
            crypto_withdrawals: self
                .withdrawals
                .keys()
                .filter_map(|id| self.withdrawal_details(&id.to_string(), clock).ok())
                .collect(),
            transfers: self
                .transfers
                .keys()
                .filter_map(|id| self.transfer_details(&id.to_string(), clock).ok())
                .collect(),
            orders: self
                .orders
                .keys()
                .filter_map(|id| self.order_details(&id.to_string(), clock).ok())
                .collect(),
            pending_events: self.events.len(),
            deliveries: self.deliveries.len(),
        }
    }
}

/// What `GET /__sandbox/state` shows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Snapshot {
    now_secs: f64,
    partner: AccountView,
    users: Vec<AccountView>,
    locks: usize,
    exchanges: Vec<WithError<types::ExchangeDetails>>,
    sepa_transfers: Vec<WithError<types::SepaTransferDetails>>,
    crypto_withdrawals: Vec<WithError<types::CryptoWithdrawalDetails>>,
    transfers: Vec<WithError<types::TransferDetails>>,
    orders: Vec<types::OrderDetails>,
    pending_events: usize,
    deliveries: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountView {
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user_id: Option<String>,
    balances: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fiat_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suspended: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kyc: Option<String>,
}
