//! Webhook delivery as P100 describes it: a flat JSON `POST` per event to the partner's URL for
//! that kind, the partner's secret token in the `Authorization` header, and, until a 2xx
//! answer, retries about 8, 16, 32 and 64 s after each failure (5 attempts in all). Every
//! delay is sandbox time (scaled by `time_scale`, moved by `advance`).
//!
//! Every emitted event is recorded as a [`Delivery`], also when no URL is configured for its
//! kind, so tests and the admin API (`GET /__sandbox/deliveries`) can see what was sent when.
//! Without a URL its body is kept only with `Retention::unsent_webhook_bodies`, and only the
//! newest settled deliveries are kept (`Retention::deliveries`).

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::clock::VTime;

const KIND_COUNT: usize = p100_api::webhooks::ALL.len();

/// The webhook kinds: the keys of the spec's `x-webhooks` (from `p100_api::webhooks`), sorted.
pub const WEBHOOK_KINDS: [&str; KIND_COUNT] = {
    let mut kinds = [""; KIND_COUNT];
    let mut i = 0;
    while i < KIND_COUNT {
        kinds[i] = p100_api::webhooks::ALL[i].kind;
        i += 1;
    }
    kinds
};

const RETRIES: usize = p100_api::webhooks::RETRY_DELAYS_SECS.len();

/// Delays before the 2nd, 3rd, 4th and 5th attempt, after the previous one failed: the spec's
/// `x-p100-delivery-schedule`.
pub const RETRY_DELAYS: [Duration; RETRIES] = {
    let mut delays = [Duration::ZERO; RETRIES];
    let mut i = 0;
    while i < RETRIES {
        delays[i] = Duration::from_secs(p100_api::webhooks::RETRY_DELAYS_SECS[i]);
        i += 1;
    }
    delays
};

/// One emitted webhook event and what became of it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Sequence number, from 1.
    pub id: u64,
    /// The webhook kind (`exchange`, `p2p_transfer`, …).
    pub kind: String,
    /// Where it goes; `None` when no URL is configured for the kind.
    pub url: Option<String>,
    /// The JSON body, as sent; `None` for an event of a kind without URL, unless the sandbox
    /// keeps those ([`Retention::unsent_webhook_bodies`](crate::Retention::unsent_webhook_bodies)).
    #[serde(serialize_with = "raw_json")]
    pub body: Option<String>,
    /// Where it stands.
    pub state: DeliveryState,
    /// When it was emitted (sandbox time since start).
    #[serde(serialize_with = "seconds")]
    pub emitted_at: Duration,
    /// Every attempt so far, in order.
    pub attempts: Vec<DeliveryAttempt>,
}

/// One delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// When it was sent (sandbox time since start).
    #[serde(serialize_with = "seconds")]
    pub at: Duration,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why it failed without an answer (connection refused, timeout).
    pub error: Option<String>,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// No URL is configured for the kind: recorded, not sent.
    NoUrl,
    /// Not acknowledged yet; another attempt will come.
    Pending,
    /// A 2xx answer acknowledged it.
    Delivered,
    /// Five attempts failed; P100 gives up.
    Failed,
}

impl Delivery {
    /// The body as a JSON value (numbers read as `f64`: inspect, do not compute, with it);
    /// `Null` when the body was not kept.
    pub fn json(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|body| serde_json::from_str(body).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Whether the delivery needs no more attempts.
    pub fn is_settled(&self) -> bool {
        !matches!(self.state, DeliveryState::Pending)
    }
}

fn raw_json<S: Serializer>(body: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let Some(body) = body else {
        return s.serialize_none();
    };
    match serde_json::value::RawValue::from_string(body.clone()) {
        Ok(raw) => raw.serialize(s),
        Err(_) => s.serialize_str(body),
    }
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// What a delivery task needs, taken out of the state.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: u64,
    pub(crate) url: String,
    pub(crate) body: String,
}

/// Sends one attempt; returns the status or the failure.
pub(crate) async fn attempt(http: &reqwest::Client, token: &str, job: &Job) -> Result<u16, String> {
    let response = http
        .post(&job.url)
        .header(reqwest::header::AUTHORIZATION, token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(job.body.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timeout".to_string()
            } else {
                format!("{e}")
            }
        })?;
    Ok(response.status().as_u16())
}

/// The sandbox time of the next attempt after `failed` failed attempts, if any is left.
pub(crate) fn next_attempt(failed: usize, now: VTime) -> Option<VTime> {
    RETRY_DELAYS
        .get(failed.checked_sub(1)?)
        .map(|d| now.saturating_add(*d))
}
