//! Identity checks of a user: KYC (a P100-hosted verification or added documents, decided by
//! `Config::kyc_outcome`; an approval activates the user's EUR balance and IBAN), KYC file
//! uploads and proof of address, with their webhooks and the scheduled steps that move them
//! forward. Creating users and their profile belong to `users`.

use p100_api::types;
use p100_api::webhooks::kind;
use uuid::Uuid;

use super::scheduler::Event;
use super::seed::{iban, key_of};
use super::{active_user, State};
use crate::clock::VTime;
use crate::config::KycOutcome;
use crate::error::ApiError;

#[derive(Clone, Debug)]
pub(crate) struct Kyc {
    pub(super) verification_id: Option<String>,
    pub(super) verification: types::KycVerificationStatus,
    pub(super) attempt: types::KycAttemptStatus,
    pub(super) rejection: Option<String>,
}

impl State {
    /// Method B: a P100-hosted verification; the attempt is PENDING, then VERIFICATION, then
    /// decided.
    pub(crate) fn create_kyc_verification(
        &mut self,
        id: &str,
        now: VTime,
    ) -> Result<String, ApiError> {
        let user = active_user(&mut self.users, id)?;
        if !user.kyc_capable {
            return Err(ApiError::validation(format!(
                "user {id:?} was created without KYC and can never become a KYC user"
            )));
        }
        let verification_id = Uuid::new_v4().to_string();
        user.kyc = Some(Kyc {
            verification_id: Some(verification_id.clone()),
            verification: types::KycVerificationStatus::NotVerified,
            attempt: types::KycAttemptStatus::Pending,
            rejection: None,
        });
        self.kyc_webhook(id, now);
        self.settle_later(now, Event::KycStep(id.to_string()));
        Ok(verification_id)
    }

    pub(crate) fn verification_exists(
        &self,
        id: &str,
        verification_id: &str,
    ) -> Result<bool, ApiError> {
        let user = self.user(id)?;
        Ok(user.kyc.as_ref().and_then(|k| k.verification_id.as_deref()) == Some(verification_id))
    }

    /// Add User Verification: the document data is in, the decision runs.
    pub(crate) fn add_user_verification(&mut self, id: &str, now: VTime) -> Result<(), ApiError> {
        let user = active_user(&mut self.users, id)?;
        if !user.kyc_capable {
            return Err(ApiError::validation(format!(
                "user {id:?} was created without KYC and can never become a KYC user"
            )));
        }
        let verification_id = user.kyc.as_ref().and_then(|k| k.verification_id.clone());
        user.kyc = Some(Kyc {
            verification_id,
            verification: types::KycVerificationStatus::NotVerified,
            attempt: types::KycAttemptStatus::Verification,
            rejection: None,
        });
        self.kyc_webhook(id, now);
        self.settle_later(now, Event::KycStep(id.to_string()));
        Ok(())
    }

    pub(crate) fn kyc_status(&self, id: &str) -> Result<types::KycStatus, ApiError> {
        let user = self.user(id)?;
        let kyc = user
            .kyc
            .as_ref()
            .ok_or_else(|| ApiError::kyc_not_found(id))?;
        Ok(types::KycStatus {
            external_user_id: Some(id.to_string()),
            verification_status: Some(kyc.verification.clone()),
            attempt_status: Some(kyc.attempt.clone()),
            rejection_reason: kyc.rejection.clone(),
        })
    }

    fn kyc_webhook(&mut self, id: &str, at: VTime) {
        let Some(kyc) = self.users.get(id).and_then(|u| u.kyc.clone()) else {
            return;
        };
        let body = types::KycVerificationStatusWebhook {
            external_user_id: id.to_string(),
            verification_status: kyc.verification,
            attempt_status: kyc.attempt,
            rejection_reason: kyc.rejection,
        };
        self.emit_json(kind::KYC_VERIFICATION_STATUS, &body, at);
    }

    pub(super) fn kyc_step(&mut self, id: &str, at: VTime) {
        let outcome = self.kyc_outcome;
        let Some(kyc) = self.users.get_mut(id).and_then(|u| u.kyc.as_mut()) else {
            return;
        };
        match kyc.attempt {
            types::KycAttemptStatus::Pending => {
                kyc.attempt = types::KycAttemptStatus::Verification;
                self.kyc_webhook(id, at);
                self.settle_later(at, Event::KycStep(id.to_string()));
            }
            types::KycAttemptStatus::Verification => match outcome {
                KycOutcome::Approve => self.decide(id, true, at),
                KycOutcome::Reject => self.decide(id, false, at),
                // A person decides on the hosted page (`decide_kyc`).
                KycOutcome::Manual => {}
            },
            _ => {}
        }
    }

    /// The hosted verification page's decision: approve or reject the user's open attempt now,
    /// with the webhooks the provider's decision sends. A decided attempt stays as it is (a
    /// second click changes nothing and sends nothing).
    pub(crate) fn decide_kyc(
        &mut self,
        id: &str,
        verification_id: &str,
        approve: bool,
        now: VTime,
    ) -> Result<types::KycStatus, ApiError> {
        if !self.verification_exists(id, verification_id)? {
            return Err(ApiError::not_found("verification", verification_id));
        }
        let open = self
            .users
            .get(id)
            .and_then(|u| u.kyc.as_ref())
            .is_some_and(|k| {
                matches!(
                    k.attempt,
                    types::KycAttemptStatus::Pending | types::KycAttemptStatus::Verification
                )
            });
        if open {
            self.decide(id, approve, now);
        }
        self.kyc_status(id)
    }

    /// Decides the user's attempt and sends the KYC webhook (and, for a first approval, the
    /// balance generation webhook).
    fn decide(&mut self, id: &str, approve: bool, at: VTime) {
        let seed = self.seed;
        let Some(user) = self.users.get_mut(id) else {
            return;
        };
        let Some(kyc) = user.kyc.as_mut() else {
            return;
        };
        let mut activated = false;
        if approve {
            kyc.attempt = types::KycAttemptStatus::Successful;
            kyc.verification = types::KycVerificationStatus::Verified;
            kyc.rejection = None;
            if user.fiat_status != types::BalanceStatus::Active || user.iban.is_none() {
                user.fiat_status = types::BalanceStatus::Active;
                user.iban = Some(iban(seed, key_of(id) ^ 0xac71));
                activated = true;
            }
        } else {
            kyc.attempt = types::KycAttemptStatus::RejectedByProvider;
            kyc.verification = types::KycVerificationStatus::NotVerified;
            kyc.rejection = Some("NO_FACE_FOUND".to_string());
        }
        self.kyc_webhook(id, at);
        if activated {
            let body = types::UserBalanceGenerationWebhook {
                external_user_id: id.to_string(),
                status: types::BalanceStatus::Active,
            };
            self.emit_json(kind::USER_BALANCE_GENERATION, &body, at);
        }
    }

    /// A KYC file upload: `ADDED` when at least one file came, `ERROR` otherwise.
    pub(crate) fn kyc_files_added(
        &mut self,
        id: &str,
        files: usize,
        now: VTime,
    ) -> Result<(), ApiError> {
        active_user(&mut self.users, id)?;
        let body = types::KycFileAddedWebhook {
            external_user_id: id.to_string(),
            status: if files > 0 {
                types::KycFileStatus::Added
            } else {
                types::KycFileStatus::Error
            },
        };
        self.emit_json(kind::KYC_FILE_ADDED, &body, now);
        Ok(())
    }

    pub(crate) fn poa_files_added(&mut self, id: &str, now: VTime) -> Result<(), ApiError> {
        let user = active_user(&mut self.users, id)?;
        if user.poa == Some(types::PoaVerificationStatus::Approved) {
            return Err(ApiError::poa_already_verified(id));
        }
        user.poa = Some(types::PoaVerificationStatus::Waiting);
        self.poa_webhook(id, now);
        self.settle_later(now, Event::PoaStep(id.to_string()));
        Ok(())
    }

    fn poa_webhook(&mut self, id: &str, at: VTime) {
        let status = self.users.get(id).and_then(|u| u.poa.clone());
        let body = types::PoaVerificationStatusWebhook {
            external_user_id: Some(id.to_string()),
            status,
        };
        self.emit_json(kind::POA_VERIFICATION_STATUS, &body, at);
    }

    pub(super) fn poa_step(&mut self, id: &str, at: VTime) {
        let Some(user) = self.users.get_mut(id) else {
            return;
        };
        if user.poa != Some(types::PoaVerificationStatus::Waiting) {
            return;
        }
        user.poa = Some(types::PoaVerificationStatus::Approved);
        self.poa_webhook(id, at);
    }
}
