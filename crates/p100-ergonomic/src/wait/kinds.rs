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
use p100_api::catalog::{self, StatusText};

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

    /// The type of the record's status: its status enum (`types::ExchangeStatus`, …), or for
    /// KYC the [`StatusPair`] of `verificationStatus` and `attemptStatus`.
    type Status: Clone + fmt::Debug + fmt::Display + PartialEq + Send + Sync + 'static;

    /// The status, typed; `None` when the record has none.
    fn typed_status(&self) -> Option<Self::Status>;

    /// The status as P100 sent it (for KYC: `verificationStatus/attemptStatus`), if any.
    fn status(&self) -> Option<Cow<'_, str>>;

    /// What the status means.
    fn classify(&self) -> StatusClass;

    /// P100's explanation of a failed state, read from the record's JSON: the field the spec's
    /// waiter names (`error`, with `description` and `status`; KYC: `rejectionReason`).
    fn failure_reason(raw: &serde_json::Value) -> Option<FailureReason>;
}

/// The status fields, record noun, details operation and path of every kind a waiter polls come
/// from the spec (`x-p100-waiter`, through `p100_api::with_waiters!`); what each status value
/// means comes from its `x-p100-status-classes` ([`catalog::WaiterSpec::classify`]): with several
/// status fields (KYC: `verificationStatus`, `attemptStatus`), a success in any field is success,
/// otherwise the most specific field present decides.
macro_rules! define_waitable {
    ($(($record:ident, $noun:literal, $operation:literal, $path:literal, [$($field:ident: $set:ident),*])),* $(,)?) => {$(
        impl sealed::Sealed for types::$record {}

        impl Waitable for types::$record {
            const KIND: &'static str = $noun;
            const OPERATION_ID: &'static str = $operation;
            const PATH: &'static str = $path;
            type Status = status_type!($($set),*);

            fn typed_status(&self) -> Option<Self::Status> {
                typed_status!(self; $($field: $set),*)
            }

            fn status(&self) -> Option<Cow<'_, str>> {
                joined(&[$(self.$field.status_text()),*])
            }

            fn classify(&self) -> StatusClass {
                classify($operation, &[$(self.$field.status_text()),*])
            }

            fn failure_reason(raw: &serde_json::Value) -> Option<FailureReason> {
                failure_reason($operation, raw)
            }
        }
    )*};
}

/// The status type of a record with one status field, or the pair of two.
macro_rules! status_type {
    ($set:ident) => { types::$set };
    ($general:ident, $specific:ident) => { StatusPair<types::$general, types::$specific> };
}

macro_rules! typed_status {
    ($record:ident; $field:ident: $set:ident) => {
        owned::<types::$set>(&$record.$field)
    };
    ($record:ident; $general:ident: $gset:ident, $specific:ident: $sset:ident) => {{
        let pair = StatusPair {
            general: owned::<types::$gset>(&$record.$general),
            specific: owned::<types::$sset>(&$record.$specific),
        };
        (pair.general.is_some() || pair.specific.is_some()).then_some(pair)
    }};
}

/// A status field's value, whether the field is optional (`&Option<T>`) or not (`&T`).
fn owned<'a, T: Clone + 'a>(field: impl Into<Option<&'a T>>) -> Option<T> {
    field.into().cloned()
}

p100_api::with_waiters!(define_waitable);

/// The status of a record with two status fields, from the general to the specific (KYC:
/// `verificationStatus`, then `attemptStatus`); shown as `GENERAL/SPECIFIC`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct StatusPair<G, S> {
    /// The general status (KYC: `verificationStatus`), if present.
    pub general: Option<G>,
    /// The specific status (KYC: `attemptStatus`), if present.
    pub specific: Option<S>,
}

impl<G: fmt::Display, S: fmt::Display> fmt::Display for StatusPair<G, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.general, &self.specific) {
            (Some(general), Some(specific)) => write!(f, "{general}/{specific}"),
            (Some(general), None) => general.fmt(f),
            (None, Some(specific)) => specific.fmt(f),
            (None, None) => Ok(()),
        }
    }
}

/// The present status values, joined by `/` (KYC: `NOT_VERIFIED/PENDING`).
fn joined<'a>(values: &[Option<&'a str>]) -> Option<Cow<'a, str>> {
    let mut present = values.iter().flatten();
    let first = present.next()?;
    match present.next() {
        None => Some(Cow::Borrowed(first)),
        Some(second) => {
            let mut text = format!("{first}/{second}");
            for more in present {
                text.push('/');
                text.push_str(more);
            }
            Some(Cow::Owned(text))
        }
    }
}

fn waiter(operation: &str) -> Option<&'static catalog::WaiterSpec> {
    catalog::waiters_polling(operation).next()
}

fn classify(operation: &str, values: &[Option<&str>]) -> StatusClass {
    match waiter(operation).and_then(|w| w.classify(values)) {
        Some(catalog::StatusClass::Succeeded) => StatusClass::Succeeded,
        Some(catalog::StatusClass::Failed) => StatusClass::Failed,
        Some(catalog::StatusClass::InProgress) => StatusClass::InProgress,
        // A record state that is no outcome, or a value the spec does not list.
        _ => StatusClass::Unrecognized,
    }
}

/// P100's explanation of a failed state: the field the spec's waiter names (`error`: the
/// `description`/`status` object of the transfer webhooks; KYC: `rejectionReason`).
fn failure_reason(operation: &str, raw: &serde_json::Value) -> Option<FailureReason> {
    let field = waiter(operation)?.error_field?;
    let value = raw.get(field)?;
    if value.is_object() {
        return FailureReason::from_error_field(raw, field);
    }
    Some(FailureReason::new(
        None,
        value.as_str().map(String::from),
        value.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_compared_without_case() {
        let exchange = |s: Option<&str>| classify("exchange_get", &[s]);
        assert_eq!(exchange(Some("completed")), StatusClass::Succeeded);
        assert_eq!(exchange(Some("FAILED")), StatusClass::Failed);
        assert_eq!(exchange(Some("pending")), StatusClass::InProgress);
        assert_eq!(exchange(Some("REVIEW")), StatusClass::Unrecognized);
        assert_eq!(exchange(None), StatusClass::Unrecognized);
        assert_eq!(
            classify("order_get", &[Some("WAITING_FOR_CONFIRMATION")]),
            StatusClass::InProgress
        );
        // A details operation no waiter polls classifies nothing.
        assert_eq!(
            classify("user_get_balances", &[Some("COMPLETED")]),
            StatusClass::Unrecognized
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
