//! The partner's own account: balances, history, wallet, SEPA deposit details.

use axum::extract::State;
use axum::response::Response;
use axum::Router;
use p100_api::types;
use serde::Deserialize;

use super::{ok, route, App, OpenBody, Query};
use crate::error::ApiError;
use crate::state::Holder;

pub(super) fn routes(r: Router<App>) -> Router<App> {
    let r = route(r, "partner_get_balances", balances);
    let r = route(r, "partner_get_transaction_history", history);
    let r = route(r, "partner_create_wallet", create_wallet);
    let r = route(r, "partner_get_sepa_deposit_info", sepa_deposit_info);
    route(
        r,
        "partner_get_sepa_deposit_contacts",
        sepa_deposit_contacts,
    )
}

async fn balances(State(app): State<App>) -> Response {
    let now = app.now();
    ok(&app.lock().partner_balances(now))
}

/// `month` and `year` of a transaction history request.
#[derive(Deserialize)]
pub(super) struct Month {
    month: i64,
    year: i64,
}

impl Month {
    pub(super) fn check(&self) -> Result<(i64, i64), ApiError> {
        if !(1..=12).contains(&self.month) {
            return Err(ApiError::validation("month must be between 1 and 12"));
        }
        if !(2000..=9999).contains(&self.year) {
            return Err(ApiError::validation("year must be between 2000 and 9999"));
        }
        Ok((self.month, self.year))
    }
}

async fn history(State(app): State<App>, Query(q): Query<Month>) -> Result<Response, ApiError> {
    let (month, year) = q.check()?;
    Ok(ok(&app.lock().history(
        &Holder::Partner,
        month,
        year,
        &app.clock,
    )))
}

async fn create_wallet(
    State(app): State<App>,
    OpenBody(body): OpenBody<types::PartnerCreateWalletRequest>,
) -> Result<Response, ApiError> {
    let currency = match body
        .get::<serde_json::Value>("currency")
        .and_then(Result::ok)
    {
        None => None,
        Some(serde_json::Value::String(c))
            if crate::money::is_supported(&c.to_ascii_lowercase()) =>
        {
            Some(c.to_ascii_lowercase())
        }
        Some(other) => return Err(ApiError::invalid_currency(&other.to_string())),
    };
    let now = app.now();
    let id = app.lock().create_wallet(now);
    app.kick();
    let mut answer = serde_json::Map::new();
    answer.insert("walletId".into(), id.to_string().into());
    if let Some(c) = currency {
        answer.insert("currency".into(), c.into());
    }
    Ok(ok(&types::PartnerWalletCreated::from(answer)))
}

async fn sepa_deposit_info(State(app): State<App>) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().sepa_deposit_info(&Holder::Partner)?))
}

async fn sepa_deposit_contacts(State(app): State<App>) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().sepa_contacts(&Holder::Partner)?))
}
