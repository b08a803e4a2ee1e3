//! End users: their profile, creating, updating, suspending and deleting them, and the balance
//! answers of one user. A user's KYC and proof of address are in `kyc`, its money in `accounts`.

use std::collections::HashMap;

use p100_api::types;
use uuid::Uuid;

use super::accounts::Account;
use super::kyc::Kyc;
use super::seed::{iban, key_of, uuid_from};
use super::State;
use crate::clock::VTime;
use crate::error::ApiError;

/// Profile fields of a user, as sent at creation or update.
#[derive(Clone, Debug, Default)]
pub(crate) struct Profile {
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) country: Option<String>,
    pub(crate) birth_country: Option<String>,
    pub(crate) birth_date: Option<String>,
    pub(crate) document_type: Option<String>,
    pub(crate) document_number: Option<String>,
    pub(crate) pesel: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub(crate) user_id: Uuid,
    pub(crate) external_id: String,
    pub(crate) kyc_capable: bool,
    pub(crate) profile: Profile,
    pub(crate) account: Account,
    pub(crate) fiat_status: types::BalanceStatus,
    pub(crate) iban: Option<String>,
    pub(crate) suspended: bool,
    pub(crate) kyc: Option<Kyc>,
    pub(crate) poa: Option<types::PoaVerificationStatus>,
    pub(crate) poa_required: bool,
    pub(crate) deposit_reference: Uuid,
    pub(crate) deposit_iban: String,
    pub(crate) contacts: Vec<String>,
}

/// Countries where the legacy docs require proof of address.
const POA_COUNTRIES: [&str; 7] = ["AM", "AR", "AZ", "GE", "IL", "MD", "UA"];

impl State {
    pub(crate) fn user(&self, id: &str) -> Result<&User, ApiError> {
        self.users
            .get(id)
            .ok_or_else(|| ApiError::user_not_found(id))
    }

    pub(crate) fn user_mut(&mut self, id: &str) -> Result<&mut User, ApiError> {
        self.users
            .get_mut(id)
            .ok_or_else(|| ApiError::user_not_found(id))
    }

    pub(super) fn new_user(&self, external_id: &str, kyc_capable: bool, profile: Profile) -> User {
        let key = key_of(external_id) ^ (self.users.len() as u64);
        let poa_required = profile
            .country
            .as_deref()
            .is_some_and(|c| POA_COUNTRIES.contains(&c.to_ascii_uppercase().as_str()));
        User {
            user_id: Uuid::new_v4(),
            external_id: external_id.to_string(),
            kyc_capable,
            profile,
            account: Account::new(self.seed, key),
            fiat_status: if kyc_capable {
                types::BalanceStatus::WaitingToBeActivated
            } else {
                types::BalanceStatus::Active
            },
            iban: None,
            suspended: false,
            kyc: None,
            poa: None,
            poa_required,
            deposit_reference: uuid_from(self.seed, key, 77),
            deposit_iban: iban(self.seed, key),
            contacts: Vec::new(),
        }
    }

    pub(crate) fn create_user(
        &mut self,
        external_id: &str,
        kyc_capable: bool,
        profile: Profile,
    ) -> Result<&User, ApiError> {
        if external_id.trim().is_empty() {
            return Err(ApiError::validation("externalUserId should not be empty"));
        }
        if self.users.contains_key(external_id) {
            return Err(ApiError::user_exists(external_id));
        }
        let user = self.new_user(external_id, kyc_capable, profile);
        self.users.insert(external_id.to_string(), user);
        self.user(external_id)
    }

    pub(crate) fn user_balances(
        &self,
        id: &str,
        now: VTime,
    ) -> Result<types::UserBalances, ApiError> {
        let user = self.user(id)?;
        Ok(types::UserBalances {
            user_id: Some(user.user_id.to_string()),
            poa_required: Some(user.poa_required),
            fiat_balances: vec![user
                .account
                .fiat_balance(user.iban.clone(), user.fiat_status.clone())],
            crypto_balances: user.account.crypto_balances(&self.walk, now),
        })
    }

    pub(crate) fn user_balance_entries(
        &self,
        id: &str,
        now: VTime,
    ) -> Result<Vec<types::UserBalanceEntry>, ApiError> {
        let user = self.user(id)?;
        let mut entries: Vec<types::UserBalanceEntry> = user
            .account
            .crypto_balances(&self.walk, now)
            .into_iter()
            .map(|b| types::UserBalanceEntry {
                amount: b.amount,
                id: b.id,
                name: b.name,
                network_config: b.network_config,
                rate: b.rate,
                wallet: b.wallet,
            })
            .collect();
        let eur = user.account.fiat_balance(None, user.fiat_status.clone());
        entries.push(types::UserBalanceEntry {
            amount: eur.amount,
            id: eur.id,
            name: eur.name,
            network_config: HashMap::new(),
            rate: eur.rate,
            wallet: None,
        });
        Ok(entries)
    }

    pub(crate) fn update_user(
        &mut self,
        id: &str,
        update: types::UserUpdateRequest,
    ) -> Result<(), ApiError> {
        let user = self.user_mut(id)?;
        if update.email.is_some() {
            user.profile.email = update.email;
        }
        if update.phone.is_some() {
            user.profile.phone = update.phone;
        }
        if update.address.is_some() {
            user.profile.address = update.address;
        }
        Ok(())
    }

    pub(crate) fn delete_user(&mut self, id: &str) -> Result<(), ApiError> {
        self.users
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| ApiError::user_not_found(id))
    }

    pub(crate) fn set_suspended(&mut self, id: &str, suspended: bool) -> Result<(), ApiError> {
        self.user_mut(id)?.suspended = suspended;
        Ok(())
    }
}
