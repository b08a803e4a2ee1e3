//! The transaction history of the partner or one user for one month: every kind of record it
//! took part in, with its type, amount, currency and status, oldest first.

use p100_api::types;
use rust_decimal::Decimal;

use super::accounts::Holder;
use super::views::{
    exchange_status, order_status, payment_link_status, sepa_status, transfer_status,
    withdrawal_status,
};
use super::{ts_string, State};
use crate::clock::{Clock, VTime};
use crate::money;

impl State {
    pub(crate) fn history(
        &self,
        holder: &Holder,
        month: i64,
        year: i64,
        clock: &Clock,
    ) -> types::TransactionHistory {
        use chrono::Datelike;
        let mut items: Vec<(VTime, types::TransactionHistoryItem)> = Vec::new();
        let mut push = |at: VTime, kind: &str, amount: Decimal, currency: &str, status: String| {
            let when = clock.wall(at);
            if i64::from(when.month()) == month && i64::from(when.year()) == year {
                items.push((
                    at,
                    types::TransactionHistoryItem {
                        type_: Some(kind.to_string()),
                        amount: Some(money::amount_string(currency, amount)),
                        currency: Some(currency.to_string()),
                        status: Some(status),
                        created_at: Some(ts_string(clock, at)),
                    },
                ));
            }
        };
        for e in self.exchanges.values().filter(|e| &e.owner == holder) {
            push(
                e.created_at,
                "EXCHANGE",
                e.amount,
                &e.from,
                exchange_status(&e.outcome).to_string(),
            );
        }
        for s in self.sepa.values().filter(|s| &s.owner == holder) {
            push(
                s.created_at,
                "SEPA_TRANSFER",
                s.amount,
                &s.currency,
                sepa_status(&s.outcome).to_string(),
            );
        }
        for w in self.withdrawals.values().filter(|w| &w.owner == holder) {
            push(
                w.created_at,
                "CRYPTO_WITHDRAWAL",
                w.amount,
                &w.currency,
                withdrawal_status(&w.outcome).0,
            );
        }
        for t in self.transfers.values() {
            let involved = match holder {
                Holder::Partner => true,
                Holder::User(u) => {
                    t.source.as_ref() == Some(u) || t.destination.as_ref() == Some(u)
                }
            };
            if involved {
                push(
                    t.created_at,
                    "INTERNAL_TRANSFER",
                    t.amount,
                    &t.currency,
                    transfer_status(&t.outcome).to_string(),
                );
            }
        }
        for d in self.deposits.values() {
            if holder.user_id() == Some(d.user.as_str()) {
                push(
                    d.created_at,
                    "CRYPTO_DEPOSIT",
                    d.amount,
                    &d.currency,
                    d.status.to_string(),
                );
            }
        }
        for d in self.sepa_deposits.values().filter(|d| &d.holder == holder) {
            push(
                d.created_at,
                "SEPA_DEPOSIT",
                d.amount,
                "eur",
                d.status.to_string(),
            );
        }
        if *holder == Holder::Partner {
            for o in self.orders.values() {
                push(
                    o.created_at,
                    "ORDER",
                    o.fiat_amount,
                    "eur",
                    order_status(o.phase).to_string(),
                );
            }
            for l in self.payment_links.values() {
                if let Some(amount) = l.amount {
                    push(
                        l.created_at,
                        "PAYMENT_LINK",
                        amount,
                        &l.currency,
                        payment_link_status(&l.outcome).0,
                    );
                }
            }
        }
        items.sort_by_key(|(at, _)| *at);
        let list: Vec<serde_json::Value> = items
            .into_iter()
            .filter_map(|(_, item)| serde_json::to_value(item).ok())
            .collect();
        let mut map = serde_json::Map::new();
        map.insert("month".into(), month.into());
        map.insert("year".into(), year.into());
        map.insert("transactions".into(), serde_json::Value::Array(list));
        types::TransactionHistory::from(map)
    }
}
