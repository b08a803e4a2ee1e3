//! Orders (a payer pays crypto for a fiat amount fixed by an order lock): the `Order` record
//! and its phases, creating one from an order lock, the steps that give it a wallet address,
//! then confirm and complete it (crediting the partner in EUR), its `order_status` webhook, and
//! the rates orders are priced at. Order locks belong to `locks`, the details answer to `views`.

use p100_api::webhooks::kind;
use std::time::Duration;

use p100_api::types;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::scheduler::Event;
use super::seed::{hex, key_of, wallet_address};
use super::views::order_status;
use super::State;
use crate::clock::{Clock, VTime};
use crate::error::ApiError;
use crate::money;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OrderPhase {
    WaitingForWalletAddress,
    WaitingForConfirmation,
    Completed,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub(super) lock_id: Uuid,
    pub(super) currency: String,
    pub(super) network: String,
    pub(super) fiat_amount: Decimal,
    pub(super) crypto_amount: Decimal,
    pub(super) phase: OrderPhase,
    pub(super) wallet: Option<String>,
    pub(super) tx_hash: Option<String>,
    pub(super) received: Decimal,
    pub(super) confirmations: i64,
    pub(super) created_at: VTime,
    pub(super) expires_at: Option<VTime>,
}

impl State {
    pub(crate) fn create_order(
        &mut self,
        lock_id: Uuid,
        force_expired: bool,
        now: VTime,
    ) -> Result<Uuid, ApiError> {
        let lock = self.order_locks.get_mut(&lock_id).ok_or_else(|| {
            ApiError::invalid_lock(format!("Order lock {lock_id} does not exist"))
        })?;
        lock.validity
            .take("Order lock", lock_id, force_expired, now)?;
        let lock = lock.clone();
        let id = Uuid::new_v4();
        self.orders.insert(
            id,
            Order {
                lock_id,
                currency: lock.currency,
                network: lock.network,
                fiat_amount: lock.fiat_amount,
                crypto_amount: lock.crypto_amount,
                phase: OrderPhase::WaitingForWalletAddress,
                wallet: None,
                tx_hash: None,
                received: Decimal::ZERO,
                confirmations: 0,
                created_at: now,
                expires_at: None,
            },
        );
        self.order_webhook(id, now);
        self.settle_later(now, Event::OrderStep(id));
        Ok(id)
    }

    fn order_webhook(&mut self, id: Uuid, at: VTime) {
        let Some(order) = self.orders.get(&id) else {
            return;
        };
        let body = types::OrderStatusWebhook {
            order_id: Some(id.to_string()),
            status: Some(order_status(order.phase)),
        };
        self.emit_json(kind::ORDER_STATUS, &body, at);
    }

    pub(super) fn order_step(&mut self, id: Uuid, at: VTime, _clock: &Clock) {
        let seed = self.seed;
        let Some(order) = self.orders.get_mut(&id) else {
            return;
        };
        let key = key_of(&id.to_string());
        match order.phase {
            OrderPhase::WaitingForWalletAddress => {
                order.phase = OrderPhase::WaitingForConfirmation;
                order.wallet = Some(wallet_address(seed, key, &order.currency));
                order.expires_at = Some(at.saturating_add(Duration::from_secs(30 * 60)));
            }
            OrderPhase::WaitingForConfirmation => {
                // The simulated payer pays the full amount; it is confirmed and settled in EUR.
                order.phase = OrderPhase::Completed;
                order.received = order.crypto_amount;
                order.confirmations = 3;
                order.tx_hash = Some(format!("0x{}", hex(seed, key ^ 0x7a, 64)));
                let fiat = order.fiat_amount;
                self.partner.credit("eur", fiat);
            }
            OrderPhase::Completed => return,
        }
        let again = self
            .orders
            .get(&id)
            .is_some_and(|o| o.phase != OrderPhase::Completed);
        self.order_webhook(id, at);
        if again {
            self.settle_later(at, Event::OrderStep(id));
        }
    }

    pub(crate) fn order_rates(&self, now: VTime) -> types::OrderRates {
        let mut map = serde_json::Map::new();
        for c in money::crypto_currencies() {
            map.insert(
                c.to_string(),
                serde_json::Value::String(self.walk.rate(c, now).to_string()),
            );
        }
        types::OrderRates::from(map)
    }
}
