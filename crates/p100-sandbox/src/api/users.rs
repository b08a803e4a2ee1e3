//! End users: accounts, KYC (both methods), POA, balances, history, suspension.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;
use p100_api::types;

use super::partner::Month;
use super::{answer, change, known, ok, route, App, Body, OpenBody, Path, Query};
use crate::error::ApiError;
use crate::state::{Holder, Profile};

pub(super) fn routes(r: Router<App>) -> Router<App> {
    let r = route(r, "user_create", create);
    let r = route(r, "user_create_without_kyc", create_without_kyc);
    let r = route(r, "user_add_kyc_files", kyc_files);
    let r = route(r, "kyc_create_verification", create_verification);
    let r = route(r, "kyc_redirect_to_verification", redirect_page);
    let r = route(r, "kyc_get_status", kyc_status);
    let r = route(r, "user_add_verification", add_verification);
    let r = route(r, "user_add_poa_files", poa_files);
    let r = route(r, "user_extend", extend);
    let r = route(r, "user_update", update);
    let r = route(r, "user_delete", delete_user);
    let r = route(r, "user_suspend", suspend);
    let r = route(r, "user_unsuspend", unsuspend);
    let r = route(r, "user_get_balances", balances);
    route(r, "user_get_transaction_history", history)
}

fn check_document(d: Option<&types::UserDocumentType>) -> Result<(), ApiError> {
    if let Some(d) = d {
        known(
            "documentType",
            d,
            d.is_unknown(),
            types::UserDocumentType::KNOWN,
        )?;
    }
    Ok(())
}

async fn create(
    State(app): State<App>,
    Body(body): Body<types::UserCreateRequest>,
) -> Result<Response, ApiError> {
    check_document(body.document_type.as_ref())?;
    if body.has_accepted_p100_tc == Some(false) {
        return Err(ApiError::validation("hasAcceptedP100Tc must be true"));
    }
    let address = body
        .address
        .clone()
        .or_else(|| match (&body.street, &body.number) {
            (Some(s), Some(n)) => Some(format!("{s} {n}")),
            (Some(s), None) => Some(s.clone()),
            _ => None,
        });
    let profile = Profile {
        email: body.email,
        phone: body.phone,
        first_name: body.first_name,
        last_name: body.last_name,
        address,
        city: body.city,
        country: body.country,
        birth_country: body.birth_country,
        birth_date: body.birth_date.map(|d| d.to_string()),
        document_type: body.document_type.map(|d| d.to_string()),
        document_number: body.document_number,
        pesel: body.pesel.or(body.user_identification_number),
    };
    let mut st = app.lock();
    let user = st.create_user(&body.external_user_id, true, profile)?;
    Ok(ok(&types::UserCreated {
        user_id: user.user_id,
        poa_required_for_extended: Some(user.poa_required),
        poa_required: None,
        balances: None,
        fiat_balances: Vec::new(),
        crypto_balances: Vec::new(),
    }))
}

async fn create_without_kyc(
    State(app): State<App>,
    Body(body): Body<types::UserCreateWithoutKycRequest>,
) -> Result<Response, ApiError> {
    check_document(body.document_type.as_ref())?;
    let profile = Profile {
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
        address: body.address,
        city: body.city,
        country: body.country,
        birth_country: body.birth_country,
        birth_date: body.birth_date.map(|d| d.to_string()),
        document_type: body.document_type.map(|d| d.to_string()),
        document_number: body.document_number,
        pesel: body.pesel,
        ..Profile::default()
    };
    let now = app.now();
    let mut st = app.lock();
    let user_id = st
        .create_user(&body.external_user_id, false, profile)?
        .user_id;
    let balances = st.user_balance_entries(&body.external_user_id, now)?;
    Ok(ok(&types::UserCreatedWithoutKyc {
        user_id: Some(user_id),
        balances,
    }))
}

/// One part of a `multipart/form-data` body.
struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    size: usize,
}

/// A minimal `multipart/form-data` reader: part names, file names, types and sizes.
async fn multipart(req: Request) -> Result<Vec<Part>, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Err(ApiError::validation(
            "Content-Type must be multipart/form-data",
        ));
    }
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::validation("multipart/form-data without a boundary"))?;
    let body = bytes::Bytes::from_request(req, &())
        .await
        .map_err(|e| ApiError::validation(format!("cannot read the request body: {e}")))?;
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let chunks = split(&body, delimiter.as_bytes());
    for chunk in chunks.iter().skip(1) {
        if chunk.starts_with(b"--") {
            break;
        }
        let chunk = chunk.strip_prefix(b"\r\n").unwrap_or(chunk);
        let Some(split_at) = find(chunk, b"\r\n\r\n") else {
            return Err(ApiError::validation("malformed multipart part"));
        };
        let head = String::from_utf8_lossy(&chunk[..split_at]).to_string();
        let content = &chunk[split_at + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let mut part = Part {
            name: String::new(),
            filename: None,
            content_type: None,
            size: content.len(),
        };
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                for attr in line.split(';').skip(1) {
                    let attr = attr.trim();
                    if let Some(v) = attr.strip_prefix("name=") {
                        part.name = v.trim_matches('"').to_string();
                    } else if let Some(v) = attr.strip_prefix("filename=") {
                        part.filename = Some(v.trim_matches('"').to_string());
                    }
                }
            } else if let Some(v) = lower.strip_prefix("content-type:") {
                part.content_type = Some(v.trim().to_string());
            }
        }
        parts.push(part);
    }
    Ok(parts)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(hay: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = hay;
    while let Some(i) = find(rest, delimiter) {
        out.push(&rest[..i]);
        rest = &rest[i + delimiter.len()..];
    }
    out.push(rest);
    out
}

/// The `files` parts; each must be a file (have a file name).
fn file_parts(parts: &[Part]) -> Result<Vec<&Part>, ApiError> {
    let files: Vec<&Part> = parts.iter().filter(|p| p.name == "files").collect();
    if files.iter().any(|p| p.filename.is_none()) {
        return Err(ApiError::validation(
            "files: every part must be a file (with a filename)",
        ));
    }
    Ok(files)
}

async fn kyc_files(
    State(app): State<App>,
    Path(user): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let parts = multipart(req).await?;
    let files = file_parts(&parts)?.len();
    change(&app, |st, now| st.kyc_files_added(&user, files, now))?;
    Ok(ok(&types::KycFilesAdded::default()))
}

const POA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/jpg", "application/pdf"];
const POA_MAX_BYTES: usize = 5 * 1024 * 1024;

async fn poa_files(
    State(app): State<App>,
    Path(user): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    app.lock().user(&user)?;
    let parts = multipart(req).await?;
    let files = file_parts(&parts)?;
    if files.is_empty() || files.len() > 3 {
        return Err(ApiError::validation(format!(
            "files must contain 1 to 3 files, not {}",
            files.len()
        )));
    }
    for f in &files {
        let ct = f.content_type.clone().unwrap_or_default();
        if !POA_TYPES.contains(&ct.as_str()) {
            return Err(ApiError::invalid_file_type(&ct));
        }
        if f.size > POA_MAX_BYTES {
            return Err(ApiError::file_too_large(f.size));
        }
    }
    change(&app, |st, now| st.poa_files_added(&user, now))?;
    Ok(answer(
        StatusCode::CREATED,
        &types::PoaFilesAdded::default(),
    ))
}

async fn create_verification(
    State(app): State<App>,
    Body(body): Body<types::KycVerificationRequest>,
) -> Result<Response, ApiError> {
    use types::KycIncomeSource as Income;
    known(
        "documentType",
        &body.document_type,
        body.document_type.is_unknown(),
        types::KycDocumentType::KNOWN,
    )?;
    known(
        "incomeSource",
        &body.income_source,
        body.income_source.is_unknown(),
        Income::KNOWN,
    )?;
    known(
        "openAccountReason",
        &body.open_account_reason,
        body.open_account_reason.is_unknown(),
        types::KycOpenAccountReason::KNOWN,
    )?;
    if let Some(o) = &body.occupation {
        known("occupation", o, o.is_unknown(), types::KycOccupation::KNOWN)?;
    }
    let mut missing = Vec::new();
    if body.income_source == Income::BusinessActivity
        && body.tax_id.as_deref().unwrap_or("").is_empty()
    {
        missing.push("taxId is required when incomeSource is BUSINESS_ACTIVITY");
    }
    if body.income_source == Income::Salary && body.occupation.is_none() {
        missing.push("occupation is required when incomeSource is SALARY");
    }
    let needs_info = matches!(
        body.income_source,
        Income::Salary
            | Income::Other
            | Income::MaintainedByFamily
            | Income::Investments
            | Income::SocialBenefits
            | Income::Tenancy
    );
    if needs_info && body.additional_info.as_deref().unwrap_or("").is_empty() {
        missing.push("additionalInfo is required for this incomeSource");
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(missing.join(". ")));
    }
    let verification_id = change(&app, |st, now| {
        st.create_kyc_verification(&body.external_user_id, now)
    })?;
    Ok(ok(&types::KycVerificationCreated {
        verification_id: Some(verification_id),
    }))
}

async fn redirect_page(
    State(app): State<App>,
    Path((user, verification)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let status = {
        let state = app.lock();
        if !state.verification_exists(&user, &verification)? {
            return Err(ApiError::not_found("verification", &verification));
        }
        state.kyc_status(&user)?
    };
    Ok(Html(verification_page(&user, &verification, &status)).into_response())
}

/// The hosted verification page: the user's KYC status and, while the attempt is open, a form
/// to approve or reject it (posted to the admin route `/__sandbox/kyc/{user}/{verification}`).
/// Small and self-contained: no script, no external assets.
pub(crate) fn verification_page(
    user: &str,
    verification: &str,
    status: &types::KycStatus,
) -> String {
    let text = |s: Option<&str>| escape(s.unwrap_or("-"));
    let verification_status = status
        .verification_status
        .as_ref()
        .map(|s| s.as_str().to_owned());
    let attempt_status = status
        .attempt_status
        .as_ref()
        .map(|s| s.as_str().to_owned());
    let open = matches!(
        status.attempt_status,
        Some(types::KycAttemptStatus::Pending | types::KycAttemptStatus::Verification)
    );
    let action = format!(
        "/__sandbox/kyc/{}/{}",
        percent_encode(user),
        percent_encode(verification)
    );
    let form = if open {
        format!(
            "<form method=\"post\" action=\"{}\"><p>Decide this verification as the KYC \
             provider would:</p><button type=\"submit\" name=\"decision\" value=\"approve\" \
             id=\"approve\">Approve</button> <button type=\"submit\" name=\"decision\" \
             value=\"reject\" id=\"reject\">Reject</button></form>",
            escape(&action)
        )
    } else {
        "<p id=\"decided\">This verification is decided.</p>".to_string()
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>P100 sandbox: KYC \
         verification</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}\
         button{{font-size:1.2em;margin-right:1em}}</style></head><body><h1>P100 sandbox</h1>\
         <p>Hosted KYC capture for user <code>{}</code>, verification <code>{}</code>.</p>\
         <p>Verification status: <strong id=\"verification-status\">{}</strong>; attempt: \
         <strong id=\"attempt-status\">{}</strong>; rejection reason: \
         <span id=\"rejection-reason\">{}</span>.</p>{}<p>Follow it with Get KYC Status or \
         the KYC Verification Status webhook.</p></body></html>",
        escape(user),
        escape(verification),
        text(verification_status.as_deref()),
        text(attempt_status.as_deref()),
        text(status.rejection_reason.as_deref()),
        form
    )
}

/// Percent-encodes a path segment (everything but unreserved characters).
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn kyc_status(
    State(app): State<App>,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    Ok(ok(&app.lock().kyc_status(&user)?))
}

async fn add_verification(
    State(app): State<App>,
    OpenBody(body): OpenBody<types::UserVerificationRequest>,
) -> Result<Response, ApiError> {
    // The body's fields were never documented; the sandbox needs to know the user.
    let user = match body.get::<String>("externalUserId") {
        Some(Ok(id)) => id,
        _ => {
            return Err(ApiError::validation(
                "externalUserId should not be empty (the sandbox reads the user from it)",
            ))
        }
    };
    change(&app, |st, now| st.add_user_verification(&user, now))?;
    Ok(ok(&types::UserVerificationAdded::default()))
}

async fn extend(
    State(app): State<App>,
    Path(user): Path<String>,
    OpenBody(_body): OpenBody<types::UserExtendRequest>,
) -> Result<Response, ApiError> {
    app.lock().user(&user)?;
    Ok(ok(&types::UserExtended::default()))
}

async fn update(
    State(app): State<App>,
    Path(user): Path<String>,
    Body(body): Body<types::UserUpdateRequest>,
) -> Result<Response, ApiError> {
    app.lock().update_user(&user, body)?;
    Ok(ok(&types::UserUpdated::default()))
}

async fn delete_user(
    State(app): State<App>,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    app.lock().delete_user(&user)?;
    Ok(ok(&types::UserDeleted::default()))
}

async fn suspend(State(app): State<App>, Path(user): Path<String>) -> Result<Response, ApiError> {
    app.lock().set_suspended(&user, true)?;
    Ok(ok(&types::UserSuspended::default()))
}

async fn unsuspend(State(app): State<App>, Path(user): Path<String>) -> Result<Response, ApiError> {
    app.lock().set_suspended(&user, false)?;
    Ok(ok(&types::UserUnsuspended::default()))
}

async fn balances(State(app): State<App>, Path(user): Path<String>) -> Result<Response, ApiError> {
    let now = app.now();
    Ok(ok(&app.lock().user_balances(&user, now)?))
}

async fn history(
    State(app): State<App>,
    Path(user): Path<String>,
    Query(q): Query<Month>,
) -> Result<Response, ApiError> {
    let (month, year) = q.check()?;
    let st = app.lock();
    st.user(&user)?;
    Ok(ok(&st.history(
        &Holder::User(user),
        month,
        year,
        &app.clock,
    )))
}
