//! Rates, rate locks and exchanges (partner and user).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Router};
use p100_api::types::{self, DecimalNumber};
use rust_decimal::Decimal;

use super::{answer, ok, route, App, Body, ForceLockExpiry, Path};
use crate::error::ApiError;
use crate::state::Holder;

pub(super) fn routes(r: Router<App>) -> Router<App> {
    let r = route(r, "exchange_get_rate", rates);
    let r = route(r, "partner_create_exchange_lock", partner_lock);
    let r = route(r, "partner_create_exchange", partner_exchange);
    let r = route(r, "exchange_get", details);
    let r = route(r, "exchange_create_lock", user_lock);
    route(r, "exchange_create", user_exchange)
}

async fn rates(State(app): State<App>) -> Response {
    let now = app.now();
    let rates = app.lock().walk.rates(now);
    ok(&types::ExchangeRates(
        rates
            .into_iter()
            .map(|(c, r)| (c, DecimalNumber(r)))
            .collect(),
    ))
}

async fn partner_lock(State(app): State<App>) -> Result<Response, ApiError> {
    let now = app.now();
    Ok(ok(&app.lock().create_lock(
        Holder::Partner,
        now,
        &app.clock,
    )?))
}

async fn user_lock(State(app): State<App>, Path(user): Path<String>) -> Result<Response, ApiError> {
    let now = app.now();
    Ok(ok(&app.lock().create_lock(
        Holder::User(user),
        now,
        &app.clock,
    )?))
}

async fn partner_exchange(
    State(app): State<App>,
    expiry: Option<Extension<ForceLockExpiry>>,
    Body(body): Body<types::PartnerCreateExchangeRequest>,
) -> Result<Response, ApiError> {
    let now = app.now();
    let id = app.lock().create_exchange(
        Holder::Partner,
        body.amount.0,
        &body.currency_from.to_ascii_lowercase(),
        &body.currency_to.to_ascii_lowercase(),
        body.lock_id,
        expiry.is_some(),
        now,
    )?;
    app.kick();
    Ok(answer(
        StatusCode::CREATED,
        &types::ExchangeCreated { exchange_id: id },
    ))
}

async fn user_exchange(
    State(app): State<App>,
    expiry: Option<Extension<ForceLockExpiry>>,
    Body(body): Body<types::CreateExchangeRequest>,
) -> Result<Response, ApiError> {
    let amount: Decimal = body.amount.0;
    let (from, to, lock_id) = (body.currency_from, body.currency_to, body.lock_id);
    let now = app.now();
    let id = app.lock().create_exchange(
        Holder::User(body.source_external_user_id),
        amount,
        &from.to_ascii_lowercase(),
        &to.to_ascii_lowercase(),
        lock_id,
        expiry.is_some(),
        now,
    )?;
    app.kick();
    Ok(answer(
        StatusCode::CREATED,
        &types::ExchangeCreated { exchange_id: id },
    ))
}

async fn details(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().exchange_details(&id, &app.clock)?))
}
