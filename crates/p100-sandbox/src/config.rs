//! How a sandbox is configured: in code (`Config::default().with_…`), or from a TOML or YAML
//! file (the binary's `--config`). Every field has a default, so an empty file is a valid
//! configuration; unknown keys are rejected so a typo does not go unnoticed.
//!
//! Durations are written in seconds (`settle_after = 2.5`).
//!
//! ```toml
//! port = 8100
//! api_key = "sandbox-key"
//! settle_after = 2
//! time_scale = 1.0
//!
//! [webhooks]
//! token = "my-webhook-token"
//! urls = { exchange = "http://127.0.0.1:3000/p100/exchange" }
//!
//! [retention]
//! settled_records = 10000
//! deliveries = 10000
//! unsent_webhook_bodies = false
//!
//! [[faults]]
//! operation = "exchange_create"
//! kind = "rate_limit"
//! retry_after_secs = 2
//! times = 1
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultRule;
use crate::money;
use crate::webhooks::WEBHOOK_KINDS;

/// Everything a sandbox can be told. See the field docs for the defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind. Default `127.0.0.1`.
    pub bind: IpAddr,
    /// Port to bind; `0` (the default) picks a free one.
    pub port: u16,
    /// The partner API key the sandbox accepts in `x-api-key`. Default: a random key per start.
    pub api_key: Option<String>,
    /// Seed of the exchange-rate walk and of generated numbers. Default `100`.
    pub seed: u64,
    /// Factor applied to every delay of the simulation (settlement, lock lifetime, webhook
    /// retries, rate steps, injected latency): `0.01` makes a 64 s retry take 0.64 s. Default `1`.
    pub time_scale: f64,
    /// Sandbox time moves only when told to (`Sandbox::advance`, `POST /__sandbox/advance`).
    /// Default `false`.
    pub manual_clock: bool,
    /// How long (sandbox time) a created exchange, transfer, withdrawal, order step, payment
    /// link or KYC step stays pending before it reaches its next status. Default 2 s.
    #[serde(with = "secs")]
    pub settle_after: Duration,
    /// Lifetime of exchange and order rate locks. Default 60 s (the current docs).
    #[serde(with = "secs")]
    pub lock_ttl: Duration,
    /// How often the rates take a step of their walk. Default 10 s.
    #[serde(with = "secs")]
    pub rate_step: Duration,
    /// Outcome of every KYC verification. Default [`KycOutcome::Approve`].
    pub kyc_outcome: KycOutcome,
    /// Starting balances of the partner, by lowercase currency code (decimal strings).
    /// Default: generous amounts of every supported currency.
    pub partner_balances: BTreeMap<String, String>,
    /// Create the records the docs use as examples (users, a transfer, an exchange, an order,
    /// a SEPA transfer) at start, so the documented ids answer. Default `true`.
    pub seed_examples: bool,
    /// Where webhooks go.
    pub webhooks: WebhookConfig,
    /// Faults injected from the start (more can be added through the admin API).
    pub faults: Vec<FaultRule>,
    /// How much history is kept, so that a long run under load stays bounded in memory.
    pub retention: Retention,
}

/// How much of the past the sandbox keeps. Pending movements and deliveries with attempts to
/// come are always kept; what is settled is kept up to these numbers, newest first, and older
/// entries are forgotten: their ids then answer like unknown ids (`P404`), and they leave the
/// transaction history and `GET /__sandbox/state` / `deliveries`. The documented example
/// records are never forgotten.
///
/// With the defaults a sandbox keeps at most 10 000 settled records of each money movement kind
/// and 10 000 settled deliveries, whatever it has processed (the RSS this gives is measured in
/// the crate README).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Settled (final or FAILED) records kept per money movement kind: exchanges, SEPA
    /// transfers, crypto withdrawals, internal transfers. Default 10 000.
    pub settled_records: usize,
    /// Settled webhook deliveries kept (delivered, failed after the last attempt, or recorded
    /// without URL). Default 10 000.
    pub deliveries: usize,
    /// Keep the body of events whose kind has no URL (`Delivery::body`), to inspect what would
    /// have been sent. Default `false`: such an event is recorded without its body.
    pub unsent_webhook_bodies: bool,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            settled_records: 10_000,
            deliveries: 10_000,
            unsent_webhook_bodies: false,
        }
    }
}

/// Webhook delivery: one URL per kind (the spec's `x-webhooks` keys) and the partner's token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Sent as the `Authorization` header of every delivery. Default `sandbox-webhook-token`.
    pub token: String,
    /// URL per webhook kind (`exchange`, `p2p_transfer`, …). Kinds without a URL are recorded
    /// as not delivered.
    pub urls: BTreeMap<String, String>,
    /// One URL for every kind that has none in `urls`; `{kind}` in it is replaced by the kind
    /// (`http://127.0.0.1:3000/webhooks/p100/{kind}`). Default none.
    pub default_url: Option<String>,
    /// Time limit of one delivery attempt (real time, not scaled). Default 10 s.
    #[serde(with = "secs")]
    pub timeout: Duration,
}

/// What the simulated KYC provider decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KycOutcome {
    /// The attempt succeeds: `VERIFIED`, fiat balance `ACTIVE` with an IBAN.
    #[default]
    Approve,
    /// The attempt is `REJECTED_BY_PROVIDER` (`NO_FACE_FOUND`).
    Reject,
    /// A person decides, on the hosted verification page (`kyc_redirect_to_verification`): the
    /// attempt stays in `VERIFICATION` until they approve or reject it there.
    Manual,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or YAML for a [`Config`].
    #[error("invalid configuration {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the place.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            api_key: None,
            seed: 100,
            time_scale: 1.0,
            manual_clock: false,
            settle_after: Duration::from_secs(2),
            lock_ttl: Duration::from_secs(60),
            rate_step: Duration::from_secs(10),
            kyc_outcome: KycOutcome::Approve,
            partner_balances: money::default_partner_balances(),
            seed_examples: true,
            webhooks: WebhookConfig::default(),
            faults: Vec::new(),
            retention: Retention::default(),
        }
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            token: "sandbox-webhook-token".to_string(),
            urls: BTreeMap::new(),
            default_url: None,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Reads a `.toml`, `.yaml` or `.yml` file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let parsed = match ext.as_str() {
            "toml" => Self::from_toml_str(&text),
            "yaml" | "yml" => Self::from_yaml_str(&text),
            _ => Err(ConfigError::Invalid(format!(
                "{shown}: the file name must end in .toml, .yaml or .yml"
            ))),
        };
        parsed.map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: shown,
                message,
            },
            other => other,
        })
    }

    /// Parses TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<toml>".into(),
            message: e.to_string(),
        })
    }

    /// Parses YAML text.
    pub fn from_yaml_str(text: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "<yaml>".into(),
            message: e.to_string(),
        })
    }

    /// Checks the values that have a range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.time_scale.is_finite() && (1e-6..=1e6).contains(&self.time_scale)) {
            return Err(ConfigError::Invalid(format!(
                "time_scale must be between 0.000001 and 1000000, not {}",
                self.time_scale
            )));
        }
        if self.rate_step.is_zero() {
            return Err(ConfigError::Invalid("rate_step must be positive".into()));
        }
        if let Some(key) = &self.api_key {
            if key.is_empty() || axum::http::HeaderValue::from_str(key).is_err() {
                return Err(ConfigError::Invalid(
                    "api_key must be a non-empty header value".into(),
                ));
            }
        }
        if axum::http::HeaderValue::from_str(&self.webhooks.token).is_err() {
            return Err(ConfigError::Invalid(
                "webhooks.token must be a valid header value".into(),
            ));
        }
        for (kind, url) in &self.webhooks.urls {
            if !WEBHOOK_KINDS.contains(&kind.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "unknown webhook kind {kind:?}; kinds: {}",
                    WEBHOOK_KINDS.join(", ")
                )));
            }
            check_url(url)?;
        }
        if let Some(url) = &self.webhooks.default_url {
            check_url(url)?;
        }
        for (currency, amount) in &self.partner_balances {
            if !money::is_supported(currency) {
                return Err(ConfigError::Invalid(format!(
                    "partner_balances: unsupported currency {currency:?}; currencies: {}",
                    money::CURRENCIES.join(", ")
                )));
            }
            let value = money::parse_amount(amount)
                .map_err(|e| ConfigError::Invalid(format!("partner_balances.{currency}: {e}")))?;
            if value.is_sign_negative() || value > rust_decimal::Decimal::from(10_i64.pow(18)) {
                return Err(ConfigError::Invalid(format!(
                    "partner_balances.{currency}: must be between 0 and 10^18"
                )));
            }
        }
        for rule in &self.faults {
            rule.validate().map_err(ConfigError::Invalid)?;
        }
        Ok(())
    }

    /// Sets [`Config::api_key`].
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets [`Config::port`].
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets [`Config::seed`].
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`Config::time_scale`].
    pub fn with_time_scale(mut self, factor: f64) -> Self {
        self.time_scale = factor;
        self
    }

    /// Sets [`Config::manual_clock`]: sandbox time moves only by `Sandbox::advance`.
    pub fn with_manual_clock(mut self) -> Self {
        self.manual_clock = true;
        self
    }

    /// Sets [`Config::settle_after`].
    pub fn with_settle_after(mut self, delay: Duration) -> Self {
        self.settle_after = delay;
        self
    }

    /// Sets [`Config::lock_ttl`].
    pub fn with_lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// Sets [`Config::kyc_outcome`].
    pub fn with_kyc_outcome(mut self, outcome: KycOutcome) -> Self {
        self.kyc_outcome = outcome;
        self
    }

    /// Sets [`Config::seed_examples`].
    pub fn with_seed_examples(mut self, seed: bool) -> Self {
        self.seed_examples = seed;
        self
    }

    /// Sets the partner's starting balance of one currency (a decimal string).
    pub fn with_partner_balance(
        mut self,
        currency: impl Into<String>,
        amount: impl Into<String>,
    ) -> Self {
        self.partner_balances.insert(currency.into(), amount.into());
        self
    }

    /// Sends webhooks of `kind` (e.g. `"exchange"`) to `url`.
    pub fn with_webhook(mut self, kind: impl Into<String>, url: impl Into<String>) -> Self {
        self.webhooks.urls.insert(kind.into(), url.into());
        self
    }

    /// Sends webhooks of every kind without its own URL to `url`.
    pub fn with_default_webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhooks.default_url = Some(url.into());
        self
    }

    /// Sets [`WebhookConfig::token`].
    pub fn with_webhook_token(mut self, token: impl Into<String>) -> Self {
        self.webhooks.token = token.into();
        self
    }

    /// Sets [`Config::retention`].
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Keeps the body of webhook events whose kind has no URL
    /// ([`Retention::unsent_webhook_bodies`]), to inspect what would have been sent.
    pub fn with_unsent_webhook_bodies(mut self) -> Self {
        self.retention.unsent_webhook_bodies = true;
        self
    }

    /// Adds a fault injected from the start.
    pub fn with_fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }
}

fn check_url(url: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        _ => Err(ConfigError::Invalid(format!(
            "webhook URL {url:?} is not an http(s) URL"
        ))),
    }
}

/// Durations as seconds (integer or fractional) in configuration files.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs)
            .map_err(|_| serde::de::Error::custom(format!("{secs} is not a duration in seconds")))
    }
}
