//! What a status means, kind by kind: `StatusClass`, the status words of each kind that has a
//! details endpoint (the tables below, in one place), and `Waitable`, implemented for the seven
//! kinds with the operation each one polls. Polling belongs to `poll`, what a wait returns to
//! `outcome`.

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;

use super::outcome::FailureReason;
#[cfg(doc)]
use super::waiter::Waiter;
use crate::types;
#[cfg(doc)]
use crate::Client;

/// What a status means to a waiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusClass {
    /// Not final yet, and a status the SDK knows: keep polling.
    InProgress,
    /// A final success state: the wait is over.
    Succeeded,
    /// A final failed state: the wait is over.
    Failed,
    /// A status the SDK does not know (or no status at all): not final, keep polling, and
    /// report it through `tracing` once per wait.
    Unrecognized,
}

impl StatusClass {
    /// Whether the wait ends on this status.
    pub fn is_final(self) -> bool {
        matches!(self, StatusClass::Succeeded | StatusClass::Failed)
    }
}

/// The status words of one kind, compared without regard to case.
struct Statuses {
    succeeded: &'static [&'static str],
    failed: &'static [&'static str],
    in_progress: &'static [&'static str],
}

impl Statuses {
    fn classify(&self, status: Option<&str>) -> StatusClass {
        let Some(status) = status else {
            return StatusClass::Unrecognized;
        };
        let listed = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(status));
        if listed(self.succeeded) {
            StatusClass::Succeeded
        } else if listed(self.failed) {
            StatusClass::Failed
        } else if listed(self.in_progress) {
            StatusClass::InProgress
        } else {
            StatusClass::Unrecognized
        }
    }
}

/// Exchanges: COMPLETED or FAILED (Create and Finalize an Exchange, both editions).
const EXCHANGE: Statuses = Statuses {
    succeeded: &["COMPLETED"],
    failed: &["FAILED"],
    in_progress: IN_FLIGHT,
};

/// The words P100 uses elsewhere for something under way (KYC attempts and IBAN checks are
/// `PENDING`), taken as "not final yet" for the money movements whose in-flight status the docs
/// never show, so that a normal wait does not log a warning on every poll. Inferred.
const IN_FLIGHT: &[&str] = &["PENDING", "PROCESSING", "IN_PROGRESS"];

/// SEPA transfers: SUCCESSFUL in the details examples, FAILED in the transfer webhooks;
/// UNSUCCESSFUL is P100's other failure word (deposits).
const SEPA_TRANSFER: Statuses = Statuses {
    succeeded: &["SUCCESSFUL"],
    failed: &["FAILED", "UNSUCCESSFUL"],
    in_progress: IN_FLIGHT,
};

/// Internal transfers: SUCCESSFUL documented; the failure value "presumably FAILED".
const TRANSFER: Statuses = SEPA_TRANSFER;

/// Crypto withdrawals: no value was ever documented; P100's money-movement words.
const CRYPTO_WITHDRAWAL: Statuses = Statuses {
    succeeded: &["SUCCESSFUL", "COMPLETED"],
    failed: &["FAILED", "UNSUCCESSFUL"],
    in_progress: IN_FLIGHT,
};

/// Orders: the two waiting states are documented, the final ones are not.
const ORDER: Statuses = Statuses {
    succeeded: &["COMPLETED", "SUCCESSFUL"],
    failed: &["FAILED", "UNSUCCESSFUL", "EXPIRED"],
    in_progress: &["WAITING_FOR_WALLET_ADDRESS", "WAITING_FOR_CONFIRMATION"],
};

/// Payment links: no value was ever documented.
const PAYMENT_LINK: Statuses = Statuses {
    succeeded: &["COMPLETED", "SUCCESSFUL", "PAID"],
    failed: &["FAILED", "UNSUCCESSFUL", "EXPIRED"],
    in_progress: IN_FLIGHT,
};

mod sealed {
    pub trait Sealed {}
}

/// A record with a status that P100 settles asynchronously, and the details operation that
/// reads it: what a [`Waiter`] can wait for.
///
/// Implemented for the seven kinds in the [module table](crate::wait); sealed, so that new methods
/// can be added. Most callers never name it: they call [`Client::wait_for_exchange`] and friends.
pub trait Waitable:
    DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static + sealed::Sealed
{
    /// What is waited for, in messages (`"exchange"`, `"SEPA transfer"`, …).
    const KIND: &'static str;
    /// The spec's `operationId` of the details operation that is polled.
    const OPERATION_ID: &'static str;
    /// The spec's path of that operation, with its one parameter in braces.
    const PATH: &'static str;

    /// The status as P100 sent it (for KYC: `verificationStatus/attemptStatus`), if any.
    fn status(&self) -> Option<Cow<'_, str>>;

    /// What the status means.
    fn classify(&self) -> StatusClass;

    /// P100's explanation of a failed state, read from the record's JSON: by default its
    /// `error` object (`description`, `status`).
    fn failure_reason(raw: &serde_json::Value) -> Option<FailureReason> {
        FailureReason::from_error_field(raw)
    }
}

/// The text of the status types the details records use.
trait StatusText {
    fn status_text(&self) -> Option<&str>;
}

impl<T: StatusText> StatusText for Option<T> {
    fn status_text(&self) -> Option<&str> {
        self.as_ref().and_then(StatusText::status_text)
    }
}

macro_rules! status_text {
    ($($status:ty => |$s:ident| $text:expr;)*) => {$(
        impl StatusText for $status {
            fn status_text(&self) -> Option<&str> {
                let $s = self;
                Some($text)
            }
        }
    )*};
}

status_text! {
    types::ExchangeStatus => |s| s.as_str();
    types::SepaTransferStatus => |s| s.as_str();
    types::TransferStatus => |s| s.as_str();
    types::OrderStatus => |s| s.as_str();
    types::CryptoWithdrawalStatus => |s| s.0.as_str();
    types::PaymentLinkStatus => |s| s.0.as_str();
}

macro_rules! waitable {
    ($($record:ty: $kind:literal, $operation:literal, $path:literal, $statuses:ident;)*) => {$(
        impl sealed::Sealed for $record {}

        impl Waitable for $record {
            const KIND: &'static str = $kind;
            const OPERATION_ID: &'static str = $operation;
            const PATH: &'static str = $path;

            fn status(&self) -> Option<Cow<'_, str>> {
                self.status.status_text().map(Cow::Borrowed)
            }

            fn classify(&self) -> StatusClass {
                $statuses.classify(self.status.status_text())
            }
        }
    )*};
}

waitable! {
    types::ExchangeDetails: "exchange", "exchange_get", "/v1/exchange/details/{exchangeId}", EXCHANGE;
    types::SepaTransferDetails: "SEPA transfer", "sepa_transfer_get",
        "/v1/sepa-transfer/details/{transferId}", SEPA_TRANSFER;
    types::CryptoWithdrawalDetails: "crypto withdrawal", "crypto_withdrawal_get",
        "/v1/crypto-withdrawal/details/{withdrawalId}", CRYPTO_WITHDRAWAL;
    types::TransferDetails: "transfer", "transfer_get", "/v1/transfer/details/{transferId}", TRANSFER;
    types::OrderDetails: "order", "order_get", "/v1/order/details/{orderId}", ORDER;
    types::PaymentLinkDetails: "payment link", "payment_link_get",
        "/v1/payment-link/details/{paymentLinkId}", PAYMENT_LINK;
}

impl sealed::Sealed for types::KycStatus {}

/// KYC: the overall `verificationStatus` and the current `attemptStatus` (KYC Verification
/// Status webhook; the status endpoint's body was never seen and is assumed to mirror it).
impl Waitable for types::KycStatus {
    const KIND: &'static str = "KYC verification";
    const OPERATION_ID: &'static str = "kyc_get_status";
    const PATH: &'static str = "/v1/kyc/status/{externalUserId}";

    fn status(&self) -> Option<Cow<'_, str>> {
        let verification = self.verification_status.as_ref().map(|s| s.as_str());
        let attempt = self.attempt_status.as_ref().map(|s| s.as_str());
        match (verification, attempt) {
            (Some(v), Some(a)) => Some(Cow::Owned(format!("{v}/{a}"))),
            (Some(one), None) | (None, Some(one)) => Some(Cow::Borrowed(one)),
            (None, None) => None,
        }
    }

    fn classify(&self) -> StatusClass {
        use types::{KycAttemptStatus as Attempt, KycVerificationStatus as Verification};
        match (&self.verification_status, &self.attempt_status) {
            (Some(Verification::Verified), _) | (_, Some(Attempt::Successful)) => {
                StatusClass::Succeeded
            }
            (_, Some(Attempt::RejectedByProvider)) | (Some(Verification::Expired), None) => {
                StatusClass::Failed
            }
            (_, Some(Attempt::Pending | Attempt::Verification))
            | (Some(Verification::NotVerified), None) => StatusClass::InProgress,
            _ => StatusClass::Unrecognized,
        }
    }

    /// The provider's `rejectionReason` (e.g. `NO_FACE_FOUND`).
    fn failure_reason(raw: &serde_json::Value) -> Option<FailureReason> {
        let reason = raw.get("rejectionReason")?;
        Some(FailureReason {
            description: None,
            code: reason.as_str().map(String::from),
            raw: reason.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_compared_without_case() {
        assert_eq!(EXCHANGE.classify(Some("completed")), StatusClass::Succeeded);
        assert_eq!(EXCHANGE.classify(Some("FAILED")), StatusClass::Failed);
        assert_eq!(EXCHANGE.classify(Some("pending")), StatusClass::InProgress);
        assert_eq!(EXCHANGE.classify(Some("REVIEW")), StatusClass::Unrecognized);
        assert_eq!(EXCHANGE.classify(None), StatusClass::Unrecognized);
        assert_eq!(
            ORDER.classify(Some("WAITING_FOR_CONFIRMATION")),
            StatusClass::InProgress
        );
    }

    #[test]
    fn kyc_states() {
        let kyc = |v: Option<&str>, a: Option<&str>| types::KycStatus {
            verification_status: v.map(types::KycVerificationStatus::from),
            attempt_status: a.map(types::KycAttemptStatus::from),
            ..Default::default()
        };
        let cases = [
            (Some("VERIFIED"), None, StatusClass::Succeeded),
            (
                Some("NOT_VERIFIED"),
                Some("SUCCESSFUL"),
                StatusClass::Succeeded,
            ),
            (
                Some("NOT_VERIFIED"),
                Some("REJECTED_BY_PROVIDER"),
                StatusClass::Failed,
            ),
            (Some("EXPIRED"), None, StatusClass::Failed),
            (Some("EXPIRED"), Some("PENDING"), StatusClass::InProgress),
            (
                Some("NOT_VERIFIED"),
                Some("VERIFICATION"),
                StatusClass::InProgress,
            ),
            (Some("NOT_VERIFIED"), None, StatusClass::InProgress),
            (
                Some("NOT_VERIFIED"),
                Some("ON_HOLD"),
                StatusClass::Unrecognized,
            ),
            (None, None, StatusClass::Unrecognized),
        ];
        for (v, a, class) in cases {
            assert_eq!(kyc(v, a).classify(), class, "{v:?}/{a:?}");
        }
        assert_eq!(
            kyc(Some("NOT_VERIFIED"), Some("PENDING"))
                .status()
                .as_deref(),
            Some("NOT_VERIFIED/PENDING")
        );
    }
}
