//! Orders at a locked rate, payment links and hosted checkout.

use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Router};
use p100_api::types;

use serde::Deserialize;

use super::{change, ok, route, App, Body, ForceLockExpiry, OpenBodyFields, Path};
use crate::error::ApiError;

pub(super) fn routes(r: Router<App>) -> Router<App> {
    let r = route(r, "order_get_rates", rates);
    let r = route(r, "order_create_lock", create_lock);
    let r = route(r, "order_create", create_order);
    let r = route(r, "order_get", details);
    let r = route(r, "payment_link_create", create_link);
    let r = route(r, "checkout_create", create_checkout);
    route(r, "payment_link_get", link_details)
}

async fn rates(State(app): State<App>) -> Response {
    let now = app.now();
    ok(&app.lock().order_rates(now))
}

async fn create_lock(
    State(app): State<App>,
    Body(body): Body<types::CreateOrderLockRequest>,
) -> Result<Response, ApiError> {
    let now = app.now();
    let lock = app.lock().create_order_lock(
        &body.currency,
        body.amount.0,
        &body.network,
        now,
        &app.clock,
    )?;
    Ok(ok(&lock))
}

async fn create_order(
    State(app): State<App>,
    expiry: Option<Extension<ForceLockExpiry>>,
    Body(body): Body<types::CreateOrderRequest>,
) -> Result<Response, ApiError> {
    let id = change(&app, |st, now| {
        st.create_order(body.lock_id, expiry.is_some(), now)
    })?;
    Ok(ok(&types::OrderCreated { order_id: id }))
}

async fn details(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().order_details(&id, &app.clock)?))
}

/// The field of a payment-link or checkout body the sandbox reads as a number: by the rules of
/// every decimal of the API (`P403` naming `amount` and the value).
#[derive(Deserialize)]
struct LinkAmount {
    #[serde(default)]
    amount: Option<types::DecimalNumber>,
}

async fn create_link(
    State(app): State<App>,
    OpenBodyFields(body, fields): OpenBodyFields<types::CreatePaymentLinkRequest, LinkAmount>,
) -> Result<Response, ApiError> {
    let amount = fields.amount.map(types::DecimalNumber::value);
    let id = change(&app, |st, now| st.create_payment_link(&body, amount, now))?;
    Ok(ok(&types::PaymentLinkCreated {
        payment_link_id: Some(id),
    }))
}

async fn create_checkout(
    State(app): State<App>,
    OpenBodyFields(body, fields): OpenBodyFields<types::CreateCheckoutRequest, LinkAmount>,
) -> Result<Response, ApiError> {
    let amount = fields.amount.map(types::DecimalNumber::value);
    let id = change(&app, |st, now| st.create_payment_link(&body, amount, now))?;
    let mut answer = super::empty_object();
    answer.insert("checkoutId".into(), id.clone().into());
    answer.insert("paymentLinkId".into(), id.into());
    Ok(ok(&types::CheckoutCreated::from(answer)))
}

async fn link_details(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().payment_link_details(&id)?))
}
