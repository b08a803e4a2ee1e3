//! `p100-sandbox`: runs the sandbox P100 until Ctrl-C.
//!
//! ```text
//! cargo run -p p100-sandbox -- --port 8100 --api-key my-key
//! cargo run -p p100-sandbox -- --config sandbox.toml --time-scale 0.1
//! ```
//!
//! The flags are [`p100_sandbox::cli::SandboxArgs`], shared with `p100 sandbox`.

use anyhow::Context;
use clap::Parser;
use p100_sandbox::cli::{serve, SandboxArgs};

/// A local, stateful P100 Partner API for examples, tests and newcomers.
#[derive(Debug, Parser)]
#[command(name = "p100-sandbox", version, about)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
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
    let config = Cli::parse().args.config()?;
    serve(config).await.context("cannot start the sandbox")
}
