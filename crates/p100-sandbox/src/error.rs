//! The errors the sandbox answers with: the spec's `Error` body (`{"errorCode", "errorName"?,
//! "errorMessage"?}`), except for 401, which is the plain text the docs show
//! (`Access Denied. xo1`).
//!
//! Codes, HTTP statuses and `errorName`s come from the spec's error registry through
//! `p100_api::catalog` ([`ErrorCode::spec`]): a code is answered with the status the registry
//! gives it and with an `errorName` only where the docs show one. Where the docs show nothing
//! (an unknown exchange id, a 429, an unknown route) the sandbox answers the registry's
//! `undocumented` entries, whose codes are its own and never look like P-codes. One choice the
//! registry cannot express stays here: the card endpoints answer `P501` (the docs mark the card
//! module "Service Suspended" and say its endpoints fail, without naming a code). Nothing here
//! answers 5xx: the only 5xx the sandbox can produce is an injected fault configured that way.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use p100_api::catalog::{undocumented, AuthFailure, ErrorCode, UndocumentedAnswer};
use p100_api::types;

/// An error answer: HTTP status plus the spec's `Error` body (or the 401 plain text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) name: Option<String>,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
    /// Answered as `text/plain` with the message alone (P100's 401).
    plain_text: bool,
}

impl ApiError {
    /// A documented code, with the status and `errorName` the registry gives it.
    fn of(code: ErrorCode, message: impl Into<String>) -> Self {
        let spec = code.spec();
        Self {
            status: spec
                .and_then(|s| StatusCode::from_u16(s.http).ok())
                .unwrap_or(StatusCode::BAD_REQUEST),
            code: code.as_str().to_string(),
            name: spec.and_then(|s| s.error_name).map(str::to_string),
            message: message.into(),
            retry_after: None,
            plain_text: false,
        }
    }

    /// An answer the docs never show, with the sandbox's own code.
    fn undocumented(answer: UndocumentedAnswer, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(answer.http).unwrap_or(StatusCode::BAD_REQUEST),
            code: answer.code.to_string(),
            name: None,
            message: message.into(),
            retry_after: None,
            plain_text: false,
        }
    }

    /// `P403`: the request failed validation. Like P100, no `errorName`.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::ValidationFailed, message)
    }

    /// 401 with the docs' plain text: `Access Denied. xo1` (no key) / `xo2` (wrong key).
    pub(crate) fn access_denied(reason: AuthFailure) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: String::new(),
            name: None,
            message: reason.body(),
            retry_after: None,
            plain_text: true,
        }
    }

    /// `P410`: unknown or unsupported currency.
    pub(crate) fn invalid_currency(currency: &str) -> Self {
        Self::of(
            ErrorCode::CurrencyNotFound,
            format!("Currency {currency:?} is not supported"),
        )
    }

    /// `P411`: the external user id is taken.
    pub(crate) fn user_exists(id: &str) -> Self {
        Self::of(
            ErrorCode::UserAlreadyExists,
            format!("A user with externalUserId {id:?} already exists"),
        )
    }

    /// `P412`: no user with this external id.
    pub(crate) fn user_not_found(id: &str) -> Self {
        Self::of(
            ErrorCode::UserNotFound,
            format!("User {id:?} does not exist"),
        )
    }

    /// `P424`: internal transfer without source or destination.
    pub(crate) fn source_or_destination_required() -> Self {
        Self::of(
            ErrorCode::SourceOrDestinationRequired,
            "Source or destination must be provided.",
        )
    }

    /// `P426`: a POA file of a type the docs do not allow.
    pub(crate) fn invalid_file_type(content_type: &str) -> Self {
        Self::of(
            ErrorCode::InvalidFileType,
            format!(
                "File type {content_type:?} is not allowed (image/jpeg, image/png, image/jpg, application/pdf)"
            ),
        )
    }

    /// `P428`: unknown SEPA transfer id.
    pub(crate) fn sepa_transfer_not_found(id: &str) -> Self {
        Self::of(
            ErrorCode::SepaTransferNotFound,
            format!("SEPA transfer {id:?} not found"),
        )
    }

    /// `P432`: the lock is unknown, expired, already used or not the caller's.
    pub(crate) fn invalid_lock(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::InvalidExchangeLock, message)
    }

    /// `P433`: insufficient funds (reported inside a FAILED record, not synchronously).
    pub(crate) fn insufficient_funds(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::InsufficientFunds, message)
    }

    /// `P440`: a POA file over 5 MB.
    pub(crate) fn file_too_large(size: usize) -> Self {
        Self::of(
            ErrorCode::FileTooLarge,
            format!("File of {size} bytes is larger than 5 MB"),
        )
    }

    /// `P445`: the user has no KYC verification.
    pub(crate) fn kyc_not_found(id: &str) -> Self {
        Self::of(
            ErrorCode::KycNotFound,
            format!("No KYC verification for user {id:?}"),
        )
    }

    /// `P447`: POA already verified.
    pub(crate) fn poa_already_verified(id: &str) -> Self {
        Self::of(
            ErrorCode::PoaAlreadyVerified,
            format!("Proof of address of user {id:?} is already verified"),
        )
    }

    /// `P455`: the user is suspended.
    pub(crate) fn user_suspended(id: &str) -> Self {
        Self::of(
            ErrorCode::UserSuspended,
            format!("User {id:?} is suspended"),
        )
    }

    /// `P457`: same currency on both sides.
    pub(crate) fn same_currencies() -> Self {
        Self::of(
            ErrorCode::SameCurrencies,
            "currencyFrom and currencyTo cannot be the same",
        )
    }

    /// `P501`, as documented (an injected fault may choose another status).
    pub(crate) fn unavailable(status: StatusCode, message: impl Into<String>) -> Self {
        let mut e = Self::of(ErrorCode::ServiceUnavailable, message);
        e.status = status;
        e
    }

    /// The answer of every card endpoint: the docs mark the card module "Service Suspended"
    /// and say its endpoints return an error, without naming a code. The sandbox uses `P501`
    /// (Service temporarily unavailable), with the status the registry gives it.
    pub(crate) fn card_module_suspended() -> Self {
        Self::of(
            ErrorCode::ServiceUnavailable,
            "Virtual cards are suspended by P100 (Service Suspended): card endpoints are disabled",
        )
    }

    /// 429 with `Retry-After` (injected fault; P100 documents no rate limit, so the code is the
    /// sandbox's own: the registry's `undocumented.rate-limited`).
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::undocumented(
            undocumented::RATE_LIMITED,
            format!("Rate limited by the sandbox (injected fault); retry after {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// An unknown id of a kind whose not-found code the docs do not show
    /// (`undocumented.unknown-record`).
    pub(crate) fn not_found(kind: &str, id: &str) -> Self {
        Self::undocumented(
            undocumented::UNKNOWN_RECORD,
            format!("No {kind} with id {id:?} (the docs name no code for this)"),
        )
    }

    /// A path the spec does not describe (`undocumented.unknown-route`).
    pub(crate) fn no_route(method: &str, path: &str) -> Self {
        Self::undocumented(
            undocumented::UNKNOWN_ROUTE,
            format!("{method} {path} is not an operation of the P100 Partner API"),
        )
    }

    /// A method the path does not have (`undocumented.method-not-allowed`).
    pub(crate) fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::undocumented(
            undocumented::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}"),
        )
    }

    /// A request body over the sandbox's limit (`undocumented.body-too-large`, 413).
    pub(crate) fn body_too_large(limit: usize) -> Self {
        Self::undocumented(
            undocumented::BODY_TOO_LARGE,
            format!(
                "the request body is larger than the sandbox's limit of {} MiB",
                limit / (1024 * 1024)
            ),
        )
    }

    /// The spec's `Error` body of this answer.
    pub(crate) fn body(&self) -> types::Error {
        types::Error {
            error_code: self.code.clone(),
            error_name: self.name.clone(),
            error_message: Some(self.message.clone()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.plain_text {
            return (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                self.message,
            )
                .into_response();
        }
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
