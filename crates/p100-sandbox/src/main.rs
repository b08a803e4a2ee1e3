//! `p100-sandbox`: runs the sandbox P100 until Ctrl-C.
//!
//! ```text
//! cargo run -p p100-sandbox -- --port 8100 --api-key my-key
//! cargo run -p p100-sandbox -- --config sandbox.toml --time-scale 0.1
//! ```

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use p100_sandbox::{Config, Sandbox};

/// A local, stateful P100 Partner API for examples, tests and newcomers.
#[derive(Debug, Parser)]
#[command(name = "p100-sandbox", version, about)]
struct Args {
    /// Configuration file (.toml, .yaml or .yml); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Port to listen on (0: a free one). Default 8100.
    #[arg(long)]
    port: Option<u16>,
    /// Address to bind. Default 127.0.0.1.
    #[arg(long)]
    bind: Option<std::net::IpAddr>,
    /// The API key to accept in `x-api-key`. Default `sandbox-key`.
    #[arg(long, env = "P100_SANDBOX_API_KEY")]
    api_key: Option<String>,
    /// Factor applied to every delay (0.01: a 64 s webhook retry takes 0.64 s).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Seconds a created transfer, exchange, … stays pending before its final status.
    #[arg(long, value_name = "SECONDS")]
    settle_after: Option<f64>,
    /// Seconds a rate lock is valid. Default 60.
    #[arg(long, value_name = "SECONDS")]
    lock_ttl: Option<f64>,
    /// Seed of the rate walk.
    #[arg(long)]
    seed: Option<u64>,
    /// Send every webhook kind without its own URL to this URL.
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    /// The token sent in the `Authorization` header of webhooks.
    #[arg(long)]
    webhook_token: Option<String>,
    /// Do not create the records the docs use as examples.
    #[arg(long)]
    no_examples: bool,
    /// Settled records kept per money movement kind (older ones are forgotten). Default 10000.
    #[arg(long, value_name = "N")]
    keep_settled: Option<usize>,
    /// Settled webhook deliveries kept (older ones are forgotten). Default 10000.
    #[arg(long, value_name = "N")]
    keep_deliveries: Option<usize>,
}

/// The API key of the binary when none is given: fixed, so that documentation can show it.
const DEFAULT_API_KEY: &str = "sandbox-key";
const DEFAULT_PORT: u16 = 8100;

fn seconds(name: &str, secs: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(secs)
        .with_context(|| format!("--{name} must be a non-negative number of seconds"))
}

fn config(args: Args) -> anyhow::Result<Config> {
    let (mut config, from_file) = match &args.config {
        Some(path) => (Config::from_file(path)?, true),
        None => (Config::default(), false),
    };
    if !from_file {
        config.port = DEFAULT_PORT;
    }
    if let Some(port) = args.port {
        config.port = port;
    }
    if let Some(bind) = args.bind {
        config.bind = bind;
    }
    if let Some(key) = args.api_key {
        config.api_key = Some(key);
    }
    if config.api_key.is_none() {
        config.api_key = Some(DEFAULT_API_KEY.to_string());
    }
    if let Some(scale) = args.time_scale {
        config.time_scale = scale;
    }
    if let Some(s) = args.settle_after {
        config.settle_after = seconds("settle-after", s)?;
    }
    if let Some(s) = args.lock_ttl {
        config.lock_ttl = seconds("lock-ttl", s)?;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(url) = args.webhook_url {
        config.webhooks.default_url = Some(url);
    }
    if let Some(token) = args.webhook_token {
        config.webhooks.token = token;
    }
    if args.no_examples {
        config.seed_examples = false;
    }
    if let Some(n) = args.keep_settled {
        config.retention.settled_records = n;
    }
    if let Some(n) = args.keep_deliveries {
        config.retention.deliveries = n;
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("p100_sandbox=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = config(Args::parse())?;
    let settle = config.settle_after;
    let scale = config.time_scale;
    let sandbox = Sandbox::start_with(config)
        .await
        .context("cannot start the sandbox")?;
    println!("P100 sandbox listening");
    println!("  base URL:  {}", sandbox.base_url());
    println!("  API key:   {}", sandbox.api_key());
    println!("  settle:    {:?} (time scale {scale})", settle);
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
