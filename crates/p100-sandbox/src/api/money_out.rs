//! SEPA transfers and deposit details, crypto withdrawals and deposits, internal transfers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use p100_api::types::{self, DecimalNumber};
use serde::Deserialize;

use super::{answer, change, known, ok, route, App, Body, OpenBody, Path, Query};
use crate::error::ApiError;
use crate::money;
use crate::state::Holder;

pub(super) fn routes(r: Router<App>) -> Router<App> {
    let r = route(r, "partner_create_sepa_transfer", partner_sepa);
    let r = route(r, "sepa_transfer_get", sepa_details);
    let r = route(r, "sepa_transfer_create", user_sepa);
    let r = route(r, "user_get_sepa_deposit_info", user_deposit_info);
    let r = route(r, "user_get_sepa_deposit_contacts", user_deposit_contacts);
    let r = route(r, "crypto_withdrawal_get_network_fee", network_fee);
    let r = route(r, "partner_create_crypto_withdrawal", partner_withdrawal);
    let r = route(r, "crypto_withdrawal_get", withdrawal_details);
    let r = route(r, "crypto_deposit_update_travel_rule", travel_rule);
    let r = route(r, "crypto_withdrawal_create", user_withdrawal);
    let r = route(r, "transfer_create", create_transfer);
    route(r, "transfer_get", transfer_details)
}

fn check_receiver(receiver_type: Option<&types::ReceiverType>) -> Result<(), ApiError> {
    if let Some(t) = receiver_type {
        known(
            "receiverType",
            t,
            t.is_unknown(),
            types::ReceiverType::KNOWN,
        )?;
    }
    Ok(())
}

/// The fields both SEPA transfer requests (partner and user) carry.
struct Sepa {
    amount: rust_decimal::Decimal,
    currency: String,
    destination_iban: String,
    transfer_title: String,
    receiver_first_name: Option<String>,
    receiver_last_name: Option<String>,
}

/// Starts a SEPA payout of the partner or a user.
fn sepa_for(app: &App, holder: Holder, sepa: Sepa) -> Result<Response, ApiError> {
    let id = change(app, |st, now| {
        st.create_sepa_transfer(
            holder,
            sepa.amount,
            &sepa.currency.to_ascii_lowercase(),
            &sepa.destination_iban,
            &sepa.transfer_title,
            sepa.receiver_first_name,
            sepa.receiver_last_name,
            now,
        )
    })?;
    Ok(ok(&types::SepaTransferCreated { transfer_id: id }))
}

async fn partner_sepa(
    State(app): State<App>,
    Body(body): Body<types::PartnerCreateSepaTransferRequest>,
) -> Result<Response, ApiError> {
    check_receiver(body.receiver_type.as_ref())?;
    let sepa = Sepa {
        amount: body.amount.0,
        currency: body.currency,
        destination_iban: body.destination_iban,
        transfer_title: body.transfer_title,
        receiver_first_name: body.receiver_first_name,
        receiver_last_name: body.receiver_last_name,
    };
    sepa_for(&app, Holder::Partner, sepa)
}

async fn user_sepa(
    State(app): State<App>,
    Body(body): Body<types::CreateSepaTransferRequest>,
) -> Result<Response, ApiError> {
    check_receiver(body.receiver_type.as_ref())?;
    let user = body
        .source_external_user_id
        .or(body.external_user_id)
        .ok_or_else(|| ApiError::validation("sourceExternalUserId should not be empty"))?;
    let sepa = Sepa {
        amount: body.amount.0,
        currency: body.currency,
        destination_iban: body.destination_iban,
        transfer_title: body.transfer_title,
        receiver_first_name: body.receiver_first_name,
        receiver_last_name: body.receiver_last_name,
    };
    sepa_for(&app, Holder::User(user), sepa)
}

async fn sepa_details(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().sepa_details(&id, &app.clock)?))
}

async fn user_deposit_info(
    State(app): State<App>,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().sepa_deposit_info(&Holder::User(user))?))
}

async fn user_deposit_contacts(
    State(app): State<App>,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().sepa_contacts(&Holder::User(user))?))
}

#[derive(Deserialize)]
struct FeeQuery {
    currency: String,
    network: Option<String>,
}

async fn network_fee(Query(q): Query<FeeQuery>) -> Result<Response, ApiError> {
    let currency = q.currency.trim().to_ascii_lowercase();
    if currency == "eur" || !money::is_supported(&currency) {
        return Err(ApiError::invalid_currency(&q.currency));
    }
    let network = money::network_for(&currency, q.network.as_deref().filter(|n| !n.is_empty()))
        .map_err(ApiError::validation)?;
    Ok(ok(&types::NetworkFeeQuote {
        network_fee: DecimalNumber(money::network_fee(&currency, network)),
    }))
}

struct Withdrawal {
    currency: String,
    amount: rust_decimal::Decimal,
    network: Option<String>,
    wallet_address: String,
}

fn withdrawal_fields(
    currency: Option<String>,
    amount: Option<DecimalNumber>,
    network: Option<String>,
    wallet_address: Option<String>,
    wallet_type: Option<&types::WalletType>,
    receiver_type: Option<&types::ReceiverType>,
) -> Result<Withdrawal, ApiError> {
    if let Some(t) = wallet_type {
        known("walletType", t, t.is_unknown(), types::WalletType::KNOWN)?;
    }
    check_receiver(receiver_type)?;
    Ok(Withdrawal {
        currency: currency.ok_or_else(|| ApiError::validation("currency should not be empty"))?,
        amount: amount
            .map(|a| a.0)
            .ok_or_else(|| ApiError::validation("amount should not be empty"))?,
        network,
        wallet_address: wallet_address
            .ok_or_else(|| ApiError::validation("walletAddress should not be empty"))?,
    })
}

/// Starts a crypto withdrawal of the partner or a user.
fn withdrawal_for(app: &App, holder: Holder, w: Withdrawal) -> Result<Response, ApiError> {
    let id = change(app, |st, now| {
        st.create_withdrawal(
            holder,
            &w.currency,
            w.amount,
            w.network.as_deref(),
            &w.wallet_address,
            now,
        )
    })?;
    Ok(ok(&types::CryptoWithdrawalCreated {
        withdrawal_id: id.to_string(),
    }))
}

async fn partner_withdrawal(
    State(app): State<App>,
    Body(body): Body<types::PartnerCreateCryptoWithdrawalRequest>,
) -> Result<Response, ApiError> {
    let w = withdrawal_fields(
        body.currency,
        body.amount,
        body.network,
        body.wallet_address,
        body.wallet_type.as_ref(),
        body.receiver_type.as_ref(),
    )?;
    withdrawal_for(&app, Holder::Partner, w)
}

async fn user_withdrawal(
    State(app): State<App>,
    Body(body): Body<types::CreateCryptoWithdrawalRequest>,
) -> Result<Response, ApiError> {
    let w = withdrawal_fields(
        Some(body.currency),
        Some(body.amount),
        body.network,
        Some(body.wallet_address),
        Some(&body.wallet_type),
        Some(&body.receiver_type),
    )?;
    withdrawal_for(&app, Holder::User(body.source_external_user_id), w)
}

async fn withdrawal_details(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().withdrawal_details(&id, &app.clock)?))
}

async fn travel_rule(
    State(app): State<App>,
    Path(id): Path<String>,
    OpenBody(_body): OpenBody<types::UpdateTravelRuleRequest>,
) -> Result<Response, ApiError> {
    change(&app, |st, now| st.update_travel_rule(&id, now, &app.clock))?;
    let mut answer = super::empty_object();
    answer.insert("cryptoDepositId".into(), id.into());
    answer.insert(
        "status".into(),
        types::CryptoDepositStatus::WaitingForVerification
            .as_str()
            .into(),
    );
    Ok(ok(&types::TravelRuleUpdated::from(answer)))
}

async fn create_transfer(
    State(app): State<App>,
    Body(body): Body<types::CreateTransferRequest>,
) -> Result<Response, ApiError> {
    let id = change(&app, |st, now| {
        st.create_transfer(
            body.source_external_user_id,
            body.destination_external_user_id,
            body.amount.0,
            &body.currency,
            now,
        )
    })?;
    Ok(answer(
        StatusCode::CREATED,
        &types::TransferCreated { transfer_id: id },
    ))
}

async fn transfer_details(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().transfer_details(&id, &app.clock)?))
}
