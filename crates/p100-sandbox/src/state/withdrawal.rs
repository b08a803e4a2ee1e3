//! Crypto withdrawals to an address: the `Withdrawal` record (amount plus the withdrawal and
//! network fees), validating and creating one, and its settlement, which gives it a transaction
//! hash and sends the `crypto_withdrawal` webhook. The details answer belongs to `views`.

use p100_api::types;
use p100_api::webhooks::kind;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::Holder;
use super::movement::{movement, Movement, Outcome};
use super::scheduler::Event;
use super::seed::{hex, key_of};
use super::views::WithError;
use super::{check_amount, crypto_currency, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Debug)]
pub(crate) struct Withdrawal {
    pub(super) owner: Holder,
    pub(super) currency: String,
    pub(super) amount: Decimal,
    pub(super) fee: Decimal,
    pub(super) address: String,
    pub(super) reserved: bool,
    pub(super) outcome: Outcome,
    pub(super) tx_hash: Option<String>,
    pub(super) created_at: VTime,
}

movement!(Withdrawal, withdrawals, SettleWithdrawal, |w| Some((
    w.owner.clone(),
    w.currency.clone(),
    w.amount + w.fee
)));

impl State {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_withdrawal(
        &mut self,
        owner: Holder,
        currency: &str,
        amount: Decimal,
        network: Option<&str>,
        address: &str,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        self.check_holder(&owner)?;
        let currency = crypto_currency(currency)?;
        check_amount("amount", amount, &currency)?;
        let network = money::network_for(&currency, network).map_err(ApiError::validation)?;
        if address.trim().is_empty() {
            return Err(ApiError::validation("walletAddress should not be empty"));
        }
        let fee =
            money::withdrawal_fee(&currency, network) + money::network_fee(&currency, network);
        let withdrawal = Withdrawal {
            owner,
            currency,
            amount,
            fee,
            address: address.to_string(),
            reserved: false,
            outcome: Outcome::Pending,
            tx_hash: None,
            created_at: now,
        };
        Ok(self.start_movement(withdrawal, now))
    }

    pub(super) fn settle_withdrawal(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        // The funds leave P100: nothing is credited, the chain transaction gets its hash.
        let settled = self.settle_movement(id, |st, _: &Withdrawal| {
            let tx_hash = format!("0x{}", hex(st.seed, key_of(&id.to_string()), 64));
            if let Some(r) = st.withdrawals.get_mut(&id) {
                r.tx_hash = Some(tx_hash);
            }
            Outcome::Done
        });
        if settled.is_none() {
            return;
        }
        if let Ok(view) = self.withdrawal_details(&id.to_string(), clock) {
            let inner = view.inner;
            let body = WithError {
                inner: types::CryptoWithdrawalWebhook {
                    id: inner.id.unwrap_or_default(),
                    amount: inner.amount,
                    fee: inner.fee,
                    destination: inner.destination,
                    status: inner.status,
                    transaction_hash: inner.transaction_hash,
                    currency: inner.currency.map(serde_json::Value::String),
                    created_at: inner.created_at,
                    user: inner.user,
                },
                error: view.error,
            };
            self.emit_json(kind::CRYPTO_WITHDRAWAL, &body, at);
        }
    }
}
