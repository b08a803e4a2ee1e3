//! Whose money and where it sits: the `Holder` (the partner or one user), the `Account` of
//! balances, balance ids and wallet addresses each holder has, and the answers that read them
//! (partner balances, SEPA deposit details and contacts), plus creating a partner wallet.
//! Balances change only through `debit` and `credit`, called by the money movements; what a
//! movement debits or credits belongs to its own module, a user's profile to `users`.

use std::collections::BTreeMap;

use p100_api::types::{self, DecimalNumber};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::scheduler::Event;
use super::seed::{uuid_from, wallet_address};
use super::State;
use crate::clock::VTime;
use crate::error::ApiError;
use crate::money;
use crate::rates::RateWalk;

/// Whose balance: the partner's own account or one user's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Holder {
    /// The partner's own account.
    Partner,
    /// The user with this external user id.
    User(String),
}

impl Holder {
    pub(super) fn user_id(&self) -> Option<&str> {
        match self {
            Holder::Partner => None,
            Holder::User(id) => Some(id),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Account {
    pub(crate) balances: BTreeMap<String, Decimal>,
    ids: BTreeMap<String, Uuid>,
    wallets: BTreeMap<String, String>,
}

impl Account {
    pub(super) fn new(seed: u64, owner_key: u64) -> Self {
        let mut account = Account::default();
        for (i, currency) in money::CURRENCIES.iter().enumerate() {
            account
                .balances
                .insert((*currency).to_string(), Decimal::ZERO);
            account.ids.insert(
                (*currency).to_string(),
                uuid_from(seed, owner_key, i as u64),
            );
            if *currency != "eur" {
                account.wallets.insert(
                    (*currency).to_string(),
                    wallet_address(seed, owner_key, currency),
                );
            }
        }
        account
    }

    pub(crate) fn balance(&self, currency: &str) -> Decimal {
        self.balances.get(currency).copied().unwrap_or_default()
    }

    pub(super) fn debit(&mut self, currency: &str, amount: Decimal) -> bool {
        let available = self.balance(currency);
        if available < amount {
            return false;
        }
        self.balances
            .insert(currency.to_string(), available - amount);
        true
    }

    pub(super) fn credit(&mut self, currency: &str, amount: Decimal) {
        let now = self.balance(currency);
        self.balances.insert(
            currency.to_string(),
            now.checked_add(amount).unwrap_or(Decimal::MAX),
        );
    }

    pub(super) fn crypto_balances(&self, walk: &RateWalk, at: VTime) -> Vec<types::BalanceCrypto> {
        money::crypto_currencies()
            .map(|c| types::BalanceCrypto {
                id: self.ids.get(c).copied().unwrap_or_default(),
                amount: money::amount_string(c, self.balance(c)),
                name: c.to_string(),
                wallet: self.wallets.get(c).cloned(),
                rate: Some(DecimalNumber(walk.rate(c, at))),
                network_config: money::network_config(c),
            })
            .collect()
    }

    pub(super) fn fiat_balance(
        &self,
        iban: Option<String>,
        status: types::BalanceStatus,
    ) -> types::BalanceFiat {
        types::BalanceFiat {
            id: self.ids.get("eur").copied().unwrap_or_default(),
            amount: money::amount_string("eur", self.balance("eur")),
            name: "eur".to_string(),
            rate: Some(DecimalNumber(Decimal::ONE)),
            iban,
            status: Some(status),
        }
    }
}

impl State {
    fn account(&self, holder: &Holder) -> Option<&Account> {
        match holder {
            Holder::Partner => Some(&self.partner),
            Holder::User(id) => self.users.get(id).map(|u| &u.account),
        }
    }

    pub(super) fn account_mut(&mut self, holder: &Holder) -> Option<&mut Account> {
        match holder {
            Holder::Partner => Some(&mut self.partner),
            Holder::User(id) => self.users.get_mut(id).map(|u| &mut u.account),
        }
    }

    pub(crate) fn balance(&self, holder: &Holder, currency: &str) -> Option<Decimal> {
        self.account(holder).map(|a| a.balance(currency))
    }

    pub(crate) fn partner_balances(&self, now: VTime) -> types::PartnerBalances {
        types::PartnerBalances {
            fiat_balances: vec![self.partner.fiat_balance(
                Some(self.partner_iban.clone()),
                types::BalanceStatus::Active,
            )],
            crypto_balances: self.partner.crypto_balances(&self.walk, now),
        }
    }

    pub(crate) fn sepa_deposit_info(
        &self,
        holder: &Holder,
    ) -> Result<types::SepaDepositInfo, ApiError> {
        let (reference, iban) = match holder {
            Holder::Partner => (self.partner_deposit_reference, self.partner_iban.clone()),
            Holder::User(id) => {
                let user = self.user(id)?;
                (user.deposit_reference, user.deposit_iban.clone())
            }
        };
        Ok(types::SepaDepositInfo {
            title: reference.to_string(),
            iban,
            swift: "BZENLT22".to_string(),
            account_holder: "P100 sp. z o.o.".to_string(),
            address: "Połonińska 19".to_string(),
        })
    }

    pub(crate) fn sepa_contacts(
        &self,
        holder: &Holder,
    ) -> Result<types::SepaDepositContacts, ApiError> {
        let contacts = match holder {
            Holder::Partner => &self.partner_contacts,
            Holder::User(id) => &self.user(id)?.contacts,
        };
        let list: Vec<serde_json::Value> = contacts
            .iter()
            .map(|iban| serde_json::json!({ "iban": iban }))
            .collect();
        let mut map = serde_json::Map::new();
        map.insert("contacts".into(), serde_json::Value::Array(list));
        Ok(types::SepaDepositContacts::from(map))
    }

    pub(crate) fn create_wallet(&mut self, now: VTime) -> Uuid {
        let id = Uuid::new_v4();
        self.settle_later(now, Event::WalletCreated(id));
        id
    }
}
