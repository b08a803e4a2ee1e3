//! The command-line flags of a sandbox, shared by the `p100-sandbox` binary and `p100 sandbox`
//! (crate `p100-cli`), so that both take the same flags with the same defaults: [`SandboxArgs`]
//! (flatten it into a clap command), [`SandboxArgs::config`] (the flags over the file over the
//! defaults) and [`serve`] (start, print where it listens, run until Ctrl-C).
//!
//! What does not belong here: the simulation itself, and its configuration file format
//! ([`crate::config`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, ConfigError, KycOutcome};
use crate::server::{Sandbox, StartError};

/// The API key of the binaries when none is given: fixed, so that documentation can show it.
pub const DEFAULT_API_KEY: &str = "sandbox-key";
/// The port of the binaries when neither a flag nor a file gives one.
pub const DEFAULT_PORT: u16 = 8100;

/// A local, stateful P100 Partner API for examples, tests and newcomers: its flags.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SandboxArgs {
    /// Configuration file (.toml, .yaml or .yml); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Port to listen on (0: a free one). Default 8100.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to bind. Default 127.0.0.1.
    #[arg(long)]
    pub bind: Option<std::net::IpAddr>,
    /// The API key to accept in `x-api-key`. Default `sandbox-key`.
    #[arg(long, env = "P100_SANDBOX_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Factor applied to every delay (0.01: a 64 s webhook retry takes 0.64 s).
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Seconds a created transfer, exchange, … stays pending before its final status.
    #[arg(long, value_name = "SECONDS")]
    pub settle_after: Option<f64>,
    /// Seconds a rate lock is valid. Default 60.
    #[arg(long, value_name = "SECONDS")]
    pub lock_ttl: Option<f64>,
    /// Seed of the rate walk.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Send every webhook kind without its own URL to this URL.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The token sent in the `Authorization` header of webhooks.
    #[arg(long, hide_env_values = true)]
    pub webhook_token: Option<String>,
    /// Who decides KYC verifications: `approve` or `reject` (the simulated provider, after the
    /// settle delay), or `manual` (a person, on the hosted verification page). Default approve.
    #[arg(long, value_name = "OUTCOME", value_parser = parse_kyc_outcome)]
    pub kyc_outcome: Option<KycOutcome>,
    /// Do not create the records the docs use as examples.
    #[arg(long)]
    pub no_examples: bool,
    /// Settled records kept per money movement kind (older ones are forgotten). Default 10000.
    #[arg(long, value_name = "N")]
    pub keep_settled: Option<usize>,
    /// Settled webhook deliveries kept (older ones are forgotten). Default 10000.
    #[arg(long, value_name = "N")]
    pub keep_deliveries: Option<usize>,
}

fn parse_kyc_outcome(text: &str) -> Result<KycOutcome, String> {
    match text {
        "approve" => Ok(KycOutcome::Approve),
        "reject" => Ok(KycOutcome::Reject),
        "manual" => Ok(KycOutcome::Manual),
        other => Err(format!(
            "{other:?} is not a KYC outcome: approve, reject or manual"
        )),
    }
}

/// Flags that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// The configuration file cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A number of seconds is negative or not a number.
    #[error("--{0} must be a non-negative number of seconds")]
    Seconds(&'static str),
}

fn seconds(name: &'static str, secs: f64) -> Result<Duration, ArgsError> {
    Duration::try_from_secs_f64(secs).map_err(|_| ArgsError::Seconds(name))
}

impl SandboxArgs {
    /// The configuration: the file's (or the defaults, on port [`DEFAULT_PORT`]), with every
    /// flag given on top, and the API key [`DEFAULT_API_KEY`] when none is set anywhere.
    pub fn config(&self) -> Result<Config, ArgsError> {
        let mut config = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config {
                port: DEFAULT_PORT,
                ..Config::default()
            },
        };
        if let Some(port) = self.port {
            config.port = port;
        }
        if let Some(bind) = self.bind {
            config.bind = bind;
        }
        if let Some(key) = &self.api_key {
            config.api_key = Some(key.clone());
        }
        if config.api_key.is_none() {
            config.api_key = Some(DEFAULT_API_KEY.to_string());
        }
        if let Some(scale) = self.time_scale {
            config.time_scale = scale;
        }
        if let Some(s) = self.settle_after {
            config.settle_after = seconds("settle-after", s)?;
        }
        if let Some(s) = self.lock_ttl {
            config.lock_ttl = seconds("lock-ttl", s)?;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(url) = &self.webhook_url {
            config.webhooks.default_url = Some(url.clone());
        }
        if let Some(token) = &self.webhook_token {
            config.webhooks.token = token.clone();
        }
        if let Some(outcome) = self.kyc_outcome {
            config.kyc_outcome = outcome;
        }
        if self.no_examples {
            config.seed_examples = false;
        }
        if let Some(n) = self.keep_settled {
            config.retention.settled_records = n;
        }
        if let Some(n) = self.keep_deliveries {
            config.retention.deliveries = n;
        }
        Ok(config)
    }
}

/// Starts a sandbox with `config`, prints where it listens (base URL, API key, admin API) on
/// stdout, and serves until Ctrl-C.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let settle = config.settle_after;
    let scale = config.time_scale;
    let sandbox = Sandbox::start_with(config).await?;
    println!("P100 sandbox listening");
    println!("  base URL:  {}", sandbox.base_url());
    println!("  API key:   {}", sandbox.api_key());
    println!("  settle:    {settle:?} (time scale {scale})");
    println!("  admin API: {}/__sandbox/state", sandbox.base_url());
    println!("Ctrl-C stops it.");
    sandbox
        .run_until(async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!("cannot listen for Ctrl-C: {e}");
                std::future::pending::<()>().await;
            }
        })
        .await;
    println!("P100 sandbox stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn flags_override_the_defaults() {
        let cli = Cli::parse_from(["x", "--port", "0", "--kyc-outcome", "manual"]);
        let config = cli.args.config().expect("config");
        assert_eq!(config.port, 0);
        assert_eq!(config.kyc_outcome, KycOutcome::Manual);
        assert_eq!(config.api_key.as_deref(), Some(DEFAULT_API_KEY));
        let default = Cli::parse_from(["x"]).args.config().expect("config");
        assert_eq!(default.port, DEFAULT_PORT);
        assert!(Cli::try_parse_from(["x", "--kyc-outcome", "maybe"]).is_err());
        assert!(Cli::parse_from(["x", "--lock-ttl=-1"])
            .args
            .config()
            .is_err());
    }
}
