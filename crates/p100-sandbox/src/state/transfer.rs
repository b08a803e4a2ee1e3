//! Internal transfers between the partner and one user, either way: the `Transfer` record and
//! its two sides, validating and creating one, and its settlement, which credits the receiving
//! side (or gives the funds back when that user is gone) and sends the `p2p_transfer` webhook.
//! The details answer belongs to `views`.

use p100_api::types::{self, DecimalNumber};
use p100_api::webhooks::kind;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::accounts::Holder;
use super::movement::{movement, Movement, Outcome};
use super::scheduler::Event;
use super::views::{transfer_status, WithError};
use super::{active_user, check_amount, ts, State};
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Debug)]
pub(crate) struct Transfer {
    pub(super) source: Option<String>,
    pub(super) destination: Option<String>,
    pub(super) amount: Decimal,
    pub(super) currency: String,
    pub(super) reserved: bool,
    pub(super) outcome: Outcome,
    pub(super) created_at: VTime,
}

movement!(Transfer, transfers, SettleTransfer, |t| t
    .sides()
    .map(|(from, _)| (from, t.currency.clone(), t.amount)));

impl Transfer {
    /// The debited and the credited side: a user and the partner, one way or the other.
    fn sides(&self) -> Option<(Holder, Holder)> {
        match (&self.source, &self.destination) {
            (Some(s), _) => Some((Holder::User(s.clone()), Holder::Partner)),
            (None, Some(d)) => Some((Holder::Partner, Holder::User(d.clone()))),
            (None, None) => None,
        }
    }
}

impl State {
    pub(crate) fn create_transfer(
        &mut self,
        source: Option<String>,
        destination: Option<String>,
        amount: Decimal,
        currency: &str,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        match (&source, &destination) {
            (None, None) => return Err(ApiError::source_or_destination_required()),
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "give either sourceExternalUserId or destinationExternalUserId: user-to-user transfers are not supported",
                ))
            }
            (Some(user), None) | (None, Some(user)) => {
                active_user(&mut self.users, user)?;
            }
        }
        let currency = currency.to_ascii_lowercase();
        if !money::is_supported(&currency) {
            return Err(ApiError::validation(format!(
                "currency must be one of the following values: {}",
                money::CURRENCIES.join(", ")
            )));
        }
        check_amount("amount", amount, &currency)?;
        let transfer = Transfer {
            source,
            destination,
            amount,
            currency,
            reserved: false,
            outcome: Outcome::Pending,
            created_at: now,
        };
        Ok(self.start_movement(transfer, now))
    }

    pub(super) fn settle_transfer(&mut self, id: Uuid, at: VTime, clock: &Clock) {
        let settled = self.settle_movement(id, |st, rec: &Transfer| {
            let Some((from, to)) = rec.sides() else {
                return Outcome::Pending;
            };
            match st.account_mut(&to) {
                Some(account) => {
                    account.credit(&rec.currency, rec.amount);
                    Outcome::Done
                }
                None => {
                    // The receiving user was deleted meanwhile: give the funds back.
                    if let Some(a) = st.account_mut(&from) {
                        a.credit(&rec.currency, rec.amount);
                    }
                    Outcome::Failed(ApiError::user_not_found(to.user_id().unwrap_or_default()))
                }
            }
        });
        let Some((rec, outcome)) = settled else {
            return;
        };
        let body = WithError {
            inner: types::P2pTransferWebhook {
                id,
                source_external_user_id: rec.source.clone(),
                destination_external_user_id: rec.destination.clone(),
                amount: DecimalNumber(money::quantize(&rec.currency, rec.amount)),
                currency: rec.currency.clone(),
                status: transfer_status(&outcome),
                created_at: ts(clock, rec.created_at),
                error: None,
            },
            error: outcome.error(),
        };
        self.emit_json(kind::P2P_TRANSFER, &body, at);
    }
}
