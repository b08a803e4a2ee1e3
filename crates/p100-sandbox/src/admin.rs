//! The admin API, under `/__sandbox/` (a prefix P100 does not use), without API key:
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/__sandbox/state` | balances, users, the kept records, pending events |
//! | POST | `/__sandbox/advance` | `{"seconds": 60}`: move sandbox time forward |
//! | POST | `/__sandbox/expire-locks` | expire every rate lock now |
//! | GET, POST, DELETE | `/__sandbox/faults` | list, add (a `FaultRule`), clear injected faults |
//! | GET | `/__sandbox/deliveries` | the kept webhook events and their attempts |
//! | POST | `/__sandbox/webhooks/{kind}` | emit a webhook of any kind (body: the JSON to send) |
//! | POST | `/__sandbox/crypto-deposits` | `{"externalUserId", "currency", "amount", "travelRule"}` |
//! | POST | `/__sandbox/sepa-deposits` | `{"externalUserId"?, "amount", "senderIban", "senderName"}` |
//! | POST | `/__sandbox/kyc/{user}/{verification}` | the hosted KYC page's form (`decision=approve` or `reject`): decides the attempt now, answers the page |

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::api::{answer, ok, parse_json, App, Path};
use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::money;
use crate::state::Holder;
use crate::webhooks::WEBHOOK_KINDS;

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/__sandbox/state", get(state))
        .route("/__sandbox/advance", post(advance))
        .route("/__sandbox/expire-locks", post(expire_locks))
        .route(
            "/__sandbox/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/__sandbox/deliveries", get(deliveries))
        .route("/__sandbox/webhooks/{kind}", post(emit_webhook))
        .route("/__sandbox/crypto-deposits", post(crypto_deposit))
        .route("/__sandbox/sepa-deposits", post(sepa_deposit))
        .route("/__sandbox/kyc/{user}/{verification}", post(decide_kyc))
        .with_state(app)
}

// The dumps copy what they show under the state lock (bounded by `Config::retention`) and
// serialise it after releasing the lock, so a large dump does not stall the API.

async fn state(State(app): State<App>) -> Response {
    let now = app.now();
    let snapshot = app.lock().snapshot(now, &app.clock);
    ok(&snapshot)
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn advance(State(app): State<App>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let a: Advance = parse_json(&body)?;
    let by = Duration::try_from_secs_f64(a.seconds)
        .map_err(|_| ApiError::validation("seconds must be a non-negative number"))?;
    app.advance(by);
    Ok(ok(
        &serde_json::json!({ "nowSecs": app.now().as_secs_f64() }),
    ))
}

async fn expire_locks(State(app): State<App>) -> Response {
    let now = app.now();
    let n = app.lock().expire_locks(now);
    ok(&serde_json::json!({ "expired": n }))
}

async fn faults(State(app): State<App>) -> Response {
    let faults = app.lock().faults.clone();
    ok(&faults)
}

async fn add_fault(State(app): State<App>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let rule: FaultRule = parse_json(&body)?;
    rule.validate().map_err(ApiError::validation)?;
    app.lock().faults.push(rule.clone());
    Ok(answer(StatusCode::CREATED, &rule))
}

async fn clear_faults(State(app): State<App>) -> Response {
    app.lock().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn deliveries(State(app): State<App>) -> Response {
    let deliveries = app.lock().deliveries.to_vec();
    ok(&deliveries)
}

async fn emit_webhook(
    State(app): State<App>,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if !WEBHOOK_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::validation(format!(
            "unknown webhook kind {kind:?}; kinds: {}",
            WEBHOOK_KINDS.join(", ")
        )));
    }
    let text = if body.iter().all(u8::is_ascii_whitespace) {
        "{}".to_string()
    } else {
        let value: serde_json::Value = parse_json(&body)?;
        if !value.is_object() {
            return Err(ApiError::validation(
                "the webhook body must be a JSON object",
            ));
        }
        String::from_utf8_lossy(&body).into_owned()
    };
    let now = app.now();
    let id = app.lock().emit(&kind, text, now);
    app.kick();
    Ok(answer(
        StatusCode::CREATED,
        &serde_json::json!({ "deliveryId": id }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CryptoDeposit {
    external_user_id: String,
    currency: String,
    amount: String,
    #[serde(default)]
    travel_rule: bool,
}

async fn crypto_deposit(
    State(app): State<App>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let d: CryptoDeposit = parse_json(&body)?;
    let amount =
        money::parse_amount(&d.amount).map_err(|e| ApiError::validation(format!("amount: {e}")))?;
    let now = app.now();
    let id = app.lock().crypto_deposit(
        &d.external_user_id,
        &d.currency,
        amount,
        d.travel_rule,
        now,
        &app.clock,
    )?;
    app.kick();
    Ok(answer(
        StatusCode::CREATED,
        &serde_json::json!({ "cryptoDepositId": id.to_string() }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SepaDeposit {
    external_user_id: Option<String>,
    amount: String,
    sender_iban: String,
    sender_name: String,
}

async fn sepa_deposit(
    State(app): State<App>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let d: SepaDeposit = parse_json(&body)?;
    let amount =
        money::parse_amount(&d.amount).map_err(|e| ApiError::validation(format!("amount: {e}")))?;
    let holder = d.external_user_id.map_or(Holder::Partner, Holder::User);
    let now = app.now();
    let id = app
        .lock()
        .sepa_deposit(holder, amount, d.sender_iban, d.sender_name, now)?;
    app.kick();
    Ok(answer(
        StatusCode::CREATED,
        &serde_json::json!({ "sepaDepositId": id.to_string() }),
    ))
}

/// The hosted KYC page's form post: `decision=approve` or `decision=reject`
/// (`application/x-www-form-urlencoded`, as a browser sends it); answers the page again, now
/// showing the decision.
async fn decide_kyc(
    State(app): State<App>,
    Path((user, verification)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let form = String::from_utf8_lossy(&body);
    let decision = form
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "decision")
        .map(|(_, value)| value);
    let approve = match decision {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return Err(ApiError::validation(
                "decision must be `approve` or `reject`",
            ))
        }
    };
    let now = app.now();
    let status = app.lock().decide_kyc(&user, &verification, approve, now)?;
    // The webhooks go out now, not at the scheduler's next wake.
    app.kick();
    Ok(
        axum::response::Html(crate::api::verification_page(&user, &verification, &status))
            .into_response(),
    )
}
