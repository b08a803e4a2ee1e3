//! Rates, rate locks and exchanges (partner and user).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Router};
use p100_api::types::{self, DecimalNumber};
use uuid::Uuid;

use super::{answer, change, ok, route, App, Body, ForceLockExpiry, Path};
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

/// A rate lock for the partner or a user: the same answer either way.
fn lock_for(app: &App, holder: Holder) -> Result<Response, ApiError> {
    let now = app.now();
    Ok(ok(&app.lock().create_lock(holder, now, &app.clock)?))
}

async fn partner_lock(State(app): State<App>) -> Result<Response, ApiError> {
    lock_for(&app, Holder::Partner)
}

async fn user_lock(State(app): State<App>, Path(user): Path<String>) -> Result<Response, ApiError> {
    lock_for(&app, Holder::User(user))
}

/// The fields both exchange requests (partner and user) carry.
struct ExchangeFields {
    amount: DecimalNumber,
    currency_from: String,
    currency_to: String,
    lock_id: Uuid,
}

/// Executes an exchange of the partner or a user at a locked rate: 201 with its id.
fn exchange_for(
    app: &App,
    holder: Holder,
    fields: ExchangeFields,
    expiry: Option<Extension<ForceLockExpiry>>,
) -> Result<Response, ApiError> {
    let id = change(app, |st, now| {
        st.create_exchange(
            holder,
            fields.amount.0,
            &fields.currency_from.to_ascii_lowercase(),
            &fields.currency_to.to_ascii_lowercase(),
            fields.lock_id,
            expiry.is_some(),
            now,
        )
    })?;
    Ok(answer(
        StatusCode::CREATED,
        &types::ExchangeCreated {
            exchange_id: id.to_string(),
        },
    ))
}

async fn partner_exchange(
    State(app): State<App>,
    expiry: Option<Extension<ForceLockExpiry>>,
    Body(body): Body<types::PartnerCreateExchangeRequest>,
) -> Result<Response, ApiError> {
    let fields = ExchangeFields {
        amount: body.amount,
        currency_from: body.currency_from,
        currency_to: body.currency_to,
        lock_id: body.lock_id,
    };
    exchange_for(&app, Holder::Partner, fields, expiry)
}

async fn user_exchange(
    State(app): State<App>,
    expiry: Option<Extension<ForceLockExpiry>>,
    Body(body): Body<types::CreateExchangeRequest>,
) -> Result<Response, ApiError> {
    let fields = ExchangeFields {
        amount: body.amount,
        currency_from: body.currency_from,
        currency_to: body.currency_to,
        lock_id: body.lock_id,
    };
    let holder = Holder::User(body.source_external_user_id);
    exchange_for(&app, holder, fields, expiry)
}

async fn details(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().exchange_details(&id, &app.clock)?))
}
