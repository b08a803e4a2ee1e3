//! Local webhook development: `p100 webhooks listen` (a receiver on loopback that checks the
//! token, parses, dedupes and prints each event once, and can forward every delivery to your
//! own app) and `p100 webhooks trigger` (sends the spec's example payload of a kind, or your
//! own body, with the token, as P100 would).
//!
//! The kinds, their schemas and dedupe keys come from the catalog (`p100_api::webhooks`) and the
//! ergonomic crate's receiver pieces; the examples from the spec, through `generated.rs`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use p100_ergonomic::webhooks::{
    Delivery, DeliveryConfig, InMemoryDedupeStore, Sighting, DEFAULT_PATH,
};
use serde_json::value::RawValue;

use crate::flows::{Exit, Outcome};
use crate::output::Format;

/// The token of `listen` and `trigger` when neither `--token` nor `P100_WEBHOOK_TOKEN` gives
/// one: the sandbox's default, so `p100 sandbox` and `p100 webhooks listen` agree out of the box.
pub fn default_token() -> String {
    p100_sandbox::WebhookConfig::default().token
}

/// `p100 webhooks …`.
#[derive(Debug, clap::Subcommand)]
pub enum Webhooks {
    /// Receive webhooks on loopback: token check, parse, dedupe; prints each event once.
    Listen {
        /// Port to listen on (0: a free one, printed at start).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        bind: IpAddr,
        /// The token P100 sends in `Authorization` (default: the sandbox's).
        #[arg(long, env = "P100_WEBHOOK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Also POST every accepted delivery, as received (body and `Authorization`), to this
        /// URL; `{kind}` in it is replaced by the kind.
        #[arg(long, value_name = "URL")]
        forward_to: Option<String>,
    },
    /// Send a webhook of `kind` (the spec's example payload, or --body) to a receiver.
    Trigger {
        /// The kind (`p100 webhooks kinds` lists them).
        kind: String,
        /// The receiver's URL; `{kind}` in it is replaced by the kind.
        #[arg(long, value_name = "URL")]
        to: String,
        /// The token to send in `Authorization` (default: the sandbox's).
        #[arg(long, env = "P100_WEBHOOK_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// A file with the body to send instead of the spec's example.
        #[arg(long, value_name = "FILE")]
        body: Option<std::path::PathBuf>,
    },
    /// List the webhook kinds, and whether the spec has an example payload for each.
    Kinds,
}

#[derive(Clone)]
struct Listener {
    config: DeliveryConfig,
    seen: Arc<InMemoryDedupeStore>,
    forward: Option<(reqwest::Client, String)>,
    format: Format,
}

impl FromRef<Listener> for DeliveryConfig {
    fn from_ref(listener: &Listener) -> Self {
        listener.config.clone()
    }
}

async fn receive(
    State(listener): State<Listener>,
    headers: HeaderMap,
    delivery: Delivery,
) -> StatusCode {
    let kind = delivery.event.kind();
    let first = listener.seen.record_now(&delivery.key) == Sighting::First;
    if first {
        let body = String::from_utf8_lossy(&delivery.body);
        match listener.format {
            Format::Json => {
                // A struct, not `json!`: the body goes in verbatim (a `Value` would read its
                // amounts as floats, `12.30` as `12.3`).
                #[derive(serde::Serialize)]
                struct Line<'a> {
                    kind: String,
                    key: &'a str,
                    body: Option<Box<RawValue>>,
                }
                let line = Line {
                    kind: kind.to_string(),
                    key: delivery.key.as_str(),
                    body: RawValue::from_string(body.trim().to_string()).ok(),
                };
                out!("{}", serde_json::to_string(&line).unwrap_or_default());
            }
            Format::Table => out!("{kind}  {}", body.trim()),
        }
    } else {
        eprintln!(
            "{kind}: repeat of {} (not shown again)",
            delivery.key.as_str()
        );
    }
    if let Some((http, url)) = &listener.forward {
        let url = url.replace("{kind}", &kind.to_string());
        let mut request = http
            .post(&url)
            .header("content-type", "application/json")
            .body(delivery.body.clone());
        if let Some(auth) = headers.get("authorization") {
            request = request.header("authorization", auth);
        }
        match request.send().await {
            Ok(answer) => eprintln!("{kind}: forwarded to {url}: {}", answer.status()),
            Err(e) => eprintln!("{kind}: forwarding to {url} failed: {e}"),
        }
    }
    StatusCode::OK
}

/// Runs `p100 webhooks listen` until Ctrl-C.
pub async fn listen(
    bind: IpAddr,
    port: u16,
    token: Option<String>,
    forward_to: Option<String>,
    format: Format,
) -> Outcome {
    let listener = Listener {
        config: DeliveryConfig::new(token.unwrap_or_else(default_token)),
        seen: Arc::new(InMemoryDedupeStore::new()),
        forward: forward_to.map(|url| (reqwest::Client::new(), url)),
        format,
    };
    let app = Router::new()
        .route(DEFAULT_PATH, post(receive))
        .with_state(listener);
    let socket = match tokio::net::TcpListener::bind(SocketAddr::new(bind, port)).await {
        Ok(socket) => socket,
        Err(e) => {
            return Outcome::new(
                Exit::Usage,
                format!("error: cannot listen on {bind}:{port}: {e}"),
            )
        }
    };
    let addr = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    eprintln!("listening for P100 webhooks at http://{addr}{DEFAULT_PATH} (Ctrl-C stops)");
    tokio::select! {
        served = p100_ergonomic::webhooks::serve(socket, app, Default::default()) => match served {
            Ok(()) => Outcome::ok(),
            Err(e) => Outcome::new(Exit::Api, format!("error: the receiver stopped: {e}")),
        },
        _ = tokio::signal::ctrl_c() => Outcome::ok(),
    }
}

/// Runs `p100 webhooks trigger`.
pub async fn trigger(
    kind: &str,
    to: &str,
    token: Option<String>,
    body: Option<std::path::PathBuf>,
) -> Outcome {
    let Some(spec) = p100_api::webhooks::ALL.iter().find(|k| k.kind == kind) else {
        return Outcome::new(
            Exit::Usage,
            format!("error: unknown webhook kind {kind:?}; `p100 webhooks kinds` lists them"),
        );
    };
    let body = match body {
        Some(path) => match std::fs::read(&path) {
            Ok(body) => body,
            Err(e) => return Outcome::new(Exit::Usage, format!("error: {}: {e}", path.display())),
        },
        None => match crate::generated::webhook_example(spec.schema) {
            Some(example) => example.as_bytes().to_vec(),
            None => {
                return Outcome::new(
                    Exit::Usage,
                    format!(
                        "error: the spec documents no example payload of {kind}; give one with \
                         --body FILE"
                    ),
                )
            }
        },
    };
    let url = to.replace("{kind}", kind);
    let answer = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("authorization", token.unwrap_or_else(default_token))
        .body(body.clone())
        .send()
        .await;
    match answer {
        Ok(answer) => {
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            out!("sent {kind} to {url}: {}", String::from_utf8_lossy(&body));
            out!("answer: HTTP {status} {}", text.trim());
            if status.is_success() {
                Outcome::ok()
            } else {
                Outcome::new(Exit::Api, format!("the receiver answered {status}"))
            }
        }
        Err(e) => Outcome::new(Exit::Api, format!("error: cannot send to {url}: {e}")),
    }
}

/// Runs `p100 webhooks kinds`.
pub fn kinds() -> Outcome {
    for spec in p100_api::webhooks::ALL.iter() {
        let example = if crate::generated::webhook_example(spec.schema).is_some() {
            "example"
        } else {
            "no example (use --body)"
        };
        out!("{:26} {:32} {example}", spec.kind, spec.title);
    }
    Outcome::ok()
}
