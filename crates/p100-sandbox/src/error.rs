//! The errors the sandbox answers with, always as the spec's `Error` body
//! (`{"errorCode", "errorName"?, "errorMessage"?}`).
//!
//! Codes, HTTP statuses and names come from the facts where the docs show them; where the docs
//! name no code (an unknown exchange id, a 429) the sandbox says so in the message. Nothing here
//! answers 5xx: the only 5xx the sandbox can produce is an injected fault configured that way.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use p100_api::types;

/// An error answer: HTTP status plus the spec's `Error` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) name: Option<String>,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, name: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            name: name.map(str::to_string),
            message: message.into(),
            retry_after: None,
        }
    }

    /// `P403`: the request failed validation. Like P100, no `errorName`.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "P403", None, message)
    }

    /// 401 with the docs' wording: `Access Denied. xo1` (no key) / `xo2` (wrong key).
    pub(crate) fn access_denied(reason: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "P401",
            Some("access-denied"),
            format!("Access Denied. {reason}"),
        )
    }

    /// `P410`: unknown or unsupported currency.
    pub(crate) fn invalid_currency(currency: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P410",
            Some("invalid-currency"),
            format!("Currency {currency:?} is not supported"),
        )
    }

    /// `P411`: the external user id is taken.
    pub(crate) fn user_exists(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P411",
            Some("user-exists"),
            format!("A user with externalUserId {id:?} already exists"),
        )
    }

    /// `P412`: no user with this external id.
    pub(crate) fn user_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P412",
            Some("invalid-user"),
            format!("User {id:?} does not exist"),
        )
    }

    /// `P424`: internal transfer without source or destination.
    pub(crate) fn source_or_destination_required() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P424",
            Some("source-or-destination-required"),
            "Source or destination must be provided.",
        )
    }

    /// `P426`: a POA file of a type the docs do not allow.
    pub(crate) fn invalid_file_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P426",
            Some("invalid-file-type"),
            format!(
                "File type {content_type:?} is not allowed (image/jpeg, image/png, image/jpg, application/pdf)"
            ),
        )
    }

    /// `P428` (HTTP 404): unknown SEPA transfer id.
    pub(crate) fn sepa_transfer_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "P428",
            Some("sepa-transfer-not-found"),
            format!("SEPA transfer {id:?} not found"),
        )
    }

    /// `P432`: the lock is unknown, expired, already used or not the caller's.
    pub(crate) fn invalid_lock(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P432",
            Some("invalid-exchange-lock"),
            message,
        )
    }

    /// `P433`: insufficient funds (reported inside a FAILED record, not synchronously).
    pub(crate) fn insufficient_funds(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P433",
            Some("insufficient-funds"),
            message,
        )
    }

    /// `P440`: a POA file over 5 MB.
    pub(crate) fn file_too_large(size: usize) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P440",
            Some("file-too-large"),
            format!("File of {size} bytes is larger than 5 MB"),
        )
    }

    /// `P445` (HTTP 404): the user has no KYC verification.
    pub(crate) fn kyc_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "P445",
            Some("kyc-not-found"),
            format!("No KYC verification for user {id:?}"),
        )
    }

    /// `P447`: POA already verified.
    pub(crate) fn poa_already_verified(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P447",
            Some("poa-already-verified"),
            format!("Proof of address of user {id:?} is already verified"),
        )
    }

    /// `P455`: the user is suspended.
    pub(crate) fn user_suspended(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P455",
            Some("user-suspended"),
            format!("User {id:?} is suspended"),
        )
    }

    /// `P457`: same currency on both sides.
    pub(crate) fn same_currencies() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P457",
            Some("currencies-cannot-be-the-same"),
            "currencyFrom and currencyTo cannot be the same",
        )
    }

    /// `P501`, as documented under HTTP 400 (an injected fault may choose another status).
    pub(crate) fn unavailable(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(
            status,
            "P501",
            Some("service-temporarily-unavailable"),
            message,
        )
    }

    /// The answer of every card endpoint: the docs mark the card module "Service Suspended"
    /// and say its endpoints return an error, without naming a code. The sandbox uses `P501`
    /// (Service temporarily unavailable) under HTTP 400, with its own `errorName`.
    pub(crate) fn card_module_suspended() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "P501",
            Some("card-service-suspended"),
            "Virtual cards are suspended by P100 (Service Suspended): card endpoints are disabled",
        )
    }

    /// 429 with `Retry-After` (injected fault; P100 documents no rate-limit body, so the code is
    /// the sandbox's own).
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "P429",
            Some("too-many-requests"),
            format!("Rate limited by the sandbox (injected fault); retry after {retry_after} s"),
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// HTTP 404 for an unknown id of a kind whose not-found code the docs do not show. The
    /// sandbox answers `P404` and `<kind>-not-found`.
    pub(crate) fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "P404",
            Some(&format!("{kind}-not-found")),
            format!(
                "No {kind} with id {id:?} (the docs name no code for this; the sandbox uses P404)"
            ),
        )
    }

    /// HTTP 404 for a path the spec does not describe.
    pub(crate) fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "P404",
            Some("not-found"),
            format!("{method} {path} is not an operation of the P100 Partner API"),
        )
    }

    /// HTTP 405 for a method the path does not have.
    pub(crate) fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "P405",
            Some("method-not-allowed"),
            format!("{method} is not allowed on {path}"),
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
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
