//! Money coming in, started through the admin API: crypto deposits to a user (waiting for
//! travel-rule data when asked, then verified and credited) and SEPA deposits to the partner or
//! a user (IBAN status `PENDING`, then `APPROVED`, credited, the sender saved as a contact),
//! with their webhooks and the scheduled steps that settle them.

use p100_api::types::{self, DecimalNumber};
use p100_api::webhooks::kind;
use rust_decimal::Decimal;
use serde::Serialize;
use uuid::Uuid;

use super::accounts::Holder;
use super::scheduler::Event;
use super::seed::{hex, key_of};
use super::{check_amount, ts, ts_string, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Debug)]
pub(crate) struct CryptoDeposit {
    pub(super) user: String,
    pub(super) currency: String,
    pub(super) amount: Decimal,
    pub(super) status: types::CryptoDepositStatus,
    pub(super) tx_hash: String,
    pub(super) created_at: VTime,
}

#[derive(Clone, Debug)]
pub(crate) struct SepaDeposit {
    pub(super) holder: Holder,
    pub(super) amount: Decimal,
    pub(super) sender_iban: String,
    pub(super) sender_name: String,
    pub(super) status: types::IbanStatus,
    pub(super) created_at: VTime,
}

impl State {
    /// A crypto deposit arrives for a user (admin API): `WAITING_FOR_TR_DATA` when travel-rule
    /// data is needed, else `WAITING_FOR_VERIFICATION`, then `SUCCESSFUL` and credited.
    pub(crate) fn crypto_deposit(
        &mut self,
        user: &str,
        currency: &str,
        amount: Decimal,
        travel_rule: bool,
        now: VTime,
        clock: &Clock,
    ) -> Result<Uuid, ApiError> {
        self.user(user)?;
        let currency = currency.to_ascii_lowercase();
        if currency == "eur" || !money::is_supported(&currency) {
            return Err(ApiError::invalid_currency(&currency));
        }
        check_amount("amount", amount, &currency)?;
        let id = Uuid::new_v4();
        self.deposits.insert(
            id,
            CryptoDeposit {
                user: user.to_string(),
                currency,
                amount,
                status: if travel_rule {
                    types::CryptoDepositStatus::WaitingForTrData
                } else {
                    types::CryptoDepositStatus::WaitingForVerification
                },
                tx_hash: format!("0x{}", hex(self.seed, key_of(&id.to_string()), 64)),
                created_at: now,
            },
        );
        self.deposit_webhook(id, now, clock);
        if !travel_rule {
            self.settle_later(now, Event::DepositStep(id));
        }
        Ok(id)
    }

    pub(crate) fn update_travel_rule(
        &mut self,
        id: &str,
        now: VTime,
        clock: &Clock,
    ) -> Result<(), ApiError> {
        let uuid = Uuid::parse_str(id)
            .ok()
            .filter(|u| self.deposits.contains_key(u))
            .ok_or_else(|| ApiError::not_found("crypto-deposit", id))?;
        let Some(deposit) = self.deposits.get_mut(&uuid) else {
            return Err(ApiError::not_found("crypto-deposit", id));
        };
        if deposit.status != types::CryptoDepositStatus::WaitingForTrData {
            return Err(ApiError::validation(format!(
                "crypto deposit {id} is not waiting for travel-rule data (status {})",
                deposit.status
            )));
        }
        deposit.status = types::CryptoDepositStatus::WaitingForVerification;
        self.deposit_webhook(uuid, now, clock);
        self.settle_later(now, Event::DepositStep(uuid));
        Ok(())
    }

    fn deposit_webhook(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let Some(d) = self.deposits.get(&id) else {
            return;
        };
        let body = types::CryptoDepositWebhook {
            external_user_id: d.user.clone(),
            crypto_deposit_id: id,
            amount: DecimalNumber(d.amount),
            currency: d.currency.clone(),
            status: d.status.clone(),
            transaction_hash: d.tx_hash.clone(),
            created_at: ts(clock, d.created_at),
        };
        self.emit_json(kind::CRYPTO_DEPOSIT, &body, at);
    }

    pub(super) fn deposit_step(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let Some(d) = self.deposits.get(&id).cloned() else {
            return;
        };
        if d.status != types::CryptoDepositStatus::WaitingForVerification {
            return;
        }
        let status = match self.users.get_mut(&d.user) {
            Some(user) => {
                user.account.credit(&d.currency, d.amount);
                types::CryptoDepositStatus::Successful
            }
            None => types::CryptoDepositStatus::Unsuccessful,
        };
        if let Some(rec) = self.deposits.get_mut(&id) {
            rec.status = status;
        }
        self.deposit_webhook(id, at, clock);
    }

    /// A SEPA deposit arrives (admin API): IBAN status `PENDING`, then `APPROVED`, credited,
    /// the sender IBAN saved as a contact, and a SEPA Deposit webhook.
    pub(crate) fn sepa_deposit(
        &mut self,
        holder: Holder,
        amount: Decimal,
        sender_iban: String,
        sender_name: String,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        if let Holder::User(id) = &holder {
            self.user(id)?;
        }
        check_amount("amount", amount, "eur")?;
        let id = Uuid::new_v4();
        self.sepa_deposits.insert(
            id,
            SepaDeposit {
                holder,
                amount,
                sender_iban,
                sender_name,
                status: types::IbanStatus::Pending,
                created_at: now,
            },
        );
        self.sepa_deposit_webhooks(id, now, false, None);
        self.settle_later(now, Event::SepaDepositStep(id));
        Ok(id)
    }

    fn sepa_deposit_webhooks(&mut self, id: Uuid, at: VTime, deposit: bool, clock: Option<&Clock>) {
        let Some(d) = self.sepa_deposits.get(&id).cloned() else {
            return;
        };
        let iban_body = WithIds {
            inner: types::IbanStatusWebhook {
                status: Some(d.status.clone()),
            },
            external_user_id: d.holder.user_id().map(str::to_string),
            sepa_deposit_id: id.to_string(),
        };
        self.emit_json(kind::IBAN_STATUS, &iban_body, at);
        if deposit {
            let mut body = serde_json::json!({
                "sepaDepositId": id.to_string(),
                "amount": money::quantize("eur", d.amount).to_string(),
                "currency": "eur",
                "senderIban": d.sender_iban,
                "senderName": d.sender_name,
            });
            if let Some(user) = d.holder.user_id() {
                body["externalUserId"] = user.into();
            }
            if let Some(clock) = clock {
                body["createdAt"] = ts_string(clock, d.created_at).into();
            }
            self.emit(kind::SEPA_DEPOSIT, body.to_string(), at);
        }
    }

    pub(super) fn sepa_deposit_step(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let Some(d) = self.sepa_deposits.get(&id).cloned() else {
            return;
        };
        if d.status != types::IbanStatus::Pending {
            return;
        }
        let status = match self.account_mut(&d.holder) {
            Some(account) => {
                account.credit("eur", d.amount);
                types::IbanStatus::Approved
            }
            None => types::IbanStatus::Rejected,
        };
        if status == types::IbanStatus::Approved {
            let contacts = match &d.holder {
                Holder::Partner => Some(&mut self.partner_contacts),
                Holder::User(u) => self.users.get_mut(u).map(|u| &mut u.contacts),
            };
            if let Some(contacts) = contacts {
                if !contacts.contains(&d.sender_iban) {
                    contacts.push(d.sender_iban.clone());
                }
            }
        }
        let approved = status == types::IbanStatus::Approved;
        if let Some(rec) = self.sepa_deposits.get_mut(&id) {
            rec.status = status;
        }
        self.sepa_deposit_webhooks(id, at, approved, Some(clock));
    }
}

/// Extra ids on a webhook whose documented body has none.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithIds<T: Serialize> {
    #[serde(flatten)]
    inner: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_user_id: Option<String>,
    sepa_deposit_id: String,
}
