//! The P100 Partner API over HTTP: one route per operation of `spec/p100.yaml` (the same path
//! templates, so a matched route names its `operationId`), request parsing into the generated
//! request types, and the layer every route shares (API key, injected faults).
//!
//! Answers are the generated response types serialized as they are, so they follow the spec by
//! construction; every error is the spec's `Error` body.

mod cards;
mod exchange;
mod money_out;
mod orders;
mod partner;
mod users;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, request::Parts, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use bytes::Bytes;
use p100_api::catalog::AuthFailure;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::clock::VTime;
use crate::error::ApiError;
use crate::faults::{self, Fault};
use crate::server::{ConnKill, Shared};

/// One operation of the spec: `p100_api::catalog` has them all (method, path, effect), so the
/// routes below are keyed by operation id and no path is written here.
pub(crate) use p100_api::catalog::{OperationSpec as Operation, OPERATIONS};
pub(crate) use users::verification_page;

/// The operation a matched route and method serve.
fn operation_for(method: &Method, path: &str) -> Option<&'static Operation> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    OPERATIONS
        .iter()
        .find(|op| op.path == path && op.method == method)
}

pub(crate) type App = Arc<Shared>;

/// The API router (without the admin routes).
pub(crate) fn router(app: App) -> Router {
    let r = Router::new();
    let r = partner::routes(r);
    let r = exchange::routes(r);
    let r = money_out::routes(r);
    let r = orders::routes(r);
    let r = users::routes(r);
    let r = cards::routes(r);
    r.route_layer(axum::middleware::from_fn_with_state(app.clone(), api_layer))
        .with_state(app)
}

/// Builds the routes of a module from its handlers, keyed by operation id, so the catalog stays
/// the only place with paths.
fn route<H, T>(r: Router<App>, id: &str, handler: H) -> Router<App>
where
    H: axum::handler::Handler<T, App>,
    T: 'static,
{
    let Some(op) = OPERATIONS.iter().find(|op| op.operation_id == id) else {
        return r;
    };
    let method_router = match op.method {
        "GET" => get(handler),
        "POST" => post(handler),
        "PATCH" => patch(handler),
        "DELETE" => delete(handler),
        _ => return r,
    };
    r.route(op.path, method_router)
}

/// Marks a request whose exchange or order lock must be treated as expired (injected fault).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ForceLockExpiry;

/// API key, then injected faults, then the operation; drops the connection afterwards when a
/// fault says so.
async fn api_layer(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let Some(op) = operation_for(req.method(), &matched) else {
        return next.run(req).await;
    };
    if op.operation_id != "kyc_redirect_to_verification" {
        match req.headers().get("x-api-key") {
            None => return ApiError::access_denied(AuthFailure::MissingApiKey).into_response(),
            Some(key) if key.as_bytes() != app.api_key.as_bytes() => {
                return ApiError::access_denied(AuthFailure::WrongApiKey).into_response()
            }
            Some(_) => {}
        }
    }
    let plan = faults::plan(&mut app.lock().faults, op.operation_id);
    if !plan.latency.is_zero() {
        tokio::time::sleep(app.clock.scaled(plan.latency)).await;
    }
    match plan.reject {
        Some(Fault::RateLimit { retry_after_secs }) => {
            return ApiError::rate_limited(retry_after_secs).into_response()
        }
        Some(Fault::Unavailable { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            return ApiError::unavailable(
                status,
                "Service temporarily unavailable (injected fault)",
            )
            .into_response();
        }
        _ => {}
    }
    if plan.expire_lock {
        req.extensions_mut().insert(ForceLockExpiry);
    }
    let kill = req.extensions().get::<ConnKill>().cloned();
    let response = next.run(req).await;
    if plan.drop_after {
        if let Some(kill) = kill {
            tracing::info!(
                operation = op.operation_id,
                "dropping the connection after processing (injected fault)"
            );
            kill.kill();
            // The connection is closed without an answer; this future is dropped with it.
            std::future::pending::<()>().await;
        }
    }
    response
}

/// 404 for paths that are not operations of the spec.
pub(crate) async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::no_route(method.as_str(), uri.path())
}

/// 405 for a method the path does not have.
pub(crate) async fn wrong_method(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::method_not_allowed(method.as_str(), uri.path())
}

// ------------------------------------------------------------------------- extractors

/// The largest request body the sandbox reads (P100 documents none); a larger one is a 413
/// (`undocumented.body-too-large`).
pub(crate) const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// How deeply a JSON request body may nest (objects and arrays). The spec's request bodies are
/// a few levels deep; serde_json's own limit (128) would otherwise fail the checks below on a
/// deeper body while the typed parse, which skips unknown fields, still succeeded.
pub(crate) const MAX_DEPTH: usize = 64;

/// A JSON request body parsed into a generated request type; a body that does not parse is a
/// `P403` naming the field. A `null` anywhere in it is rejected too, naming its path: no
/// request field of the spec is nullable, but the generated `Option` fields would read `null`
/// as absent. The checks are never skipped: a body they cannot read is rejected.
pub(crate) struct Body<T>(pub(crate) T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        match serde_json::from_slice(&bytes) {
            Ok(serde_json::Value::Object(map)) => {
                if let Some(path) = first_null(&map) {
                    return Err(ApiError::validation(format!("{path} must not be null")));
                }
            }
            // Serde would read an array as the struct's fields in order.
            Ok(_) => {
                return Err(ApiError::validation(
                    "the request body must be a JSON object",
                ))
            }
            // Not JSON: the typed parse names the failing field. Should it succeed all the
            // same, the body is still refused: its nulls were not checked.
            Err(e) => {
                parse_json::<T>(&bytes)?;
                return Err(ApiError::validation(format!("invalid request body: {e}")));
            }
        }
        parse_json(&bytes).map(Body)
    }
}

/// The path (`extra.list[0].deep`) of the first `null` in an object, at any depth.
fn first_null(map: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    fn walk(value: &serde_json::Value, path: &mut String) -> bool {
        match value {
            serde_json::Value::Null => true,
            serde_json::Value::Object(map) => map.iter().any(|(key, v)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                let found = walk(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(v, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    map.iter()
        .any(|(key, v)| {
            path.clear();
            path.push_str(key);
            walk(v, &mut path)
        })
        .then_some(path)
}

/// How deeply `bytes` nest as JSON (`{}` and `[]` outside strings), stopping past `limit`.
fn depth_over(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0_usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A JSON request body whose schema is a free-form object (its fields were never documented).
pub(crate) struct OpenBody<T>(pub(crate) T);

impl<S, T> FromRequest<S> for OpenBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(OpenBody)
    }
}

/// A free-form JSON request body (`T`) and the fields of it the sandbox reads (`F`), parsed from
/// the same bytes, so that `F`'s decimals are read from the number's text, exactly and strictly
/// (a `serde_json::Value` would already have turned a number into an `f64`).
pub(crate) struct OpenBodyFields<T, F>(pub(crate) T, pub(crate) F);

impl<S, T, F> FromRequest<S> for OpenBodyFields<T, F>
where
    S: Send + Sync,
    T: DeserializeOwned,
    F: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        Ok(OpenBodyFields(parse_json(&bytes)?, parse_json(&bytes)?))
    }
}

/// The body of a JSON request: present, and `application/json` when a type is given.
async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let json_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        });
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::body_too_large(BODY_LIMIT)
        } else {
            ApiError::validation(format!("cannot read the request body: {e}"))
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation("the request body is required (JSON)"));
    }
    if json_type == Some(false) {
        return Err(ApiError::validation(
            "Content-Type must be application/json",
        ));
    }
    if depth_over(&bytes, MAX_DEPTH) {
        return Err(ApiError::validation(format!(
            "the request body is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(bytes)
}

/// Parses JSON into `T`, naming the failing field in the P403 message.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            ApiError::validation(format!("invalid request body: {inner}"))
        } else {
            ApiError::validation(format!("{path}: {inner}"))
        }
    })
}

/// Query parameters; a missing or malformed one is a `P403`.
pub(crate) struct Query<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::validation(e.body_text()))
    }
}

/// Path parameters; undecodable ones are a `P403`.
pub(crate) struct Path<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::validation(e.body_text()))
    }
}

/// A success answer: the generated type as JSON with the operation's success status.
pub(crate) fn answer<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::validation(format!("cannot serialize the answer: {e}")).into_response(),
    }
}

/// Runs a change of the simulated P100 at the current sandbox time, then applies what fell due
/// (`kick`), as every operation that changes the state must.
pub(crate) fn change<T>(
    app: &App,
    f: impl FnOnce(&mut crate::state::State, VTime) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let now = app.now();
    let out = f(&mut app.lock(), now)?;
    app.kick();
    Ok(out)
}

pub(crate) fn ok<T: Serialize>(body: &T) -> Response {
    answer(StatusCode::OK, body)
}

/// An empty object, for the operations whose answer body the docs never showed.
pub(crate) fn empty_object() -> serde_json::Map<String, serde_json::Value> {
    serde_json::Map::new()
}

/// Rejects an open-enum value the spec does not list (the generated types accept them).
pub(crate) fn known<E: std::fmt::Display>(
    field: &str,
    value: &E,
    is_unknown: bool,
    known: &[E],
) -> Result<(), ApiError> {
    if is_unknown {
        let list: Vec<String> = known.iter().map(ToString::to_string).collect();
        return Err(ApiError::validation(format!(
            "{field} must be one of the following values: {} (got {value})",
            list.join(", ")
        )));
    }
    Ok(())
}
