//! Maintainer tasks for the P100 SDK.
//!
//! `cargo xtask codegen` turns `spec/p100.yaml` into the checked-in Rust sources of `p100-api`,
//! `p100-api-httpmock`, `p100-ergonomic`'s operations and `p100-cli`'s commands (and the spec's
//! OpenAPI 3.1 rendering, `spec/p100.openapi-3.1.json`); `cargo xtask codegen --check`
//! regenerates in memory and fails, naming the stale files, when they differ from what is
//! checked in. Both print the change report (what the
//! spec change does to Rust users and to other languages' clients) from the API-surface
//! snapshots (`surface`, `report`).

mod catalog;
mod cli;
mod codegen;
mod enums;
mod openapi31;
mod operations;
mod readme;
mod report;
mod spec;
mod split;
mod surface;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Maintainer tasks for the P100 SDK")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the raw client and its httpmock helpers from spec/p100.yaml.
    Codegen {
        /// Regenerate in memory and fail if the checked-in files differ.
        #[arg(long)]
        check: bool,
        /// The spec to read (default: spec/p100.yaml at the workspace root).
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Run every test: the Rust workspace (unit, integration, doc tests) and the check of every
    /// documented example against the spec's schemas.
    Test,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Codegen { check, spec } => {
            let root = workspace_root();
            let spec = spec.unwrap_or_else(|| root.join("spec/p100.yaml"));
            codegen::run(&root, &spec, check)
        }
        Command::Test => test(&workspace_root()),
    }
}

fn test(root: &std::path::Path) -> Result<()> {
    let run = |program: &str, args: &[&str]| -> Result<()> {
        println!("$ {program} {}", args.join(" "));
        let status = std::process::Command::new(program)
            .args(args)
            .current_dir(root)
            .status()
            .map_err(|e| anyhow::anyhow!("could not start {program}: {e}"))?;
        anyhow::ensure!(
            status.success(),
            "{program} {} failed ({status})",
            args.join(" ")
        );
        Ok(())
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(&cargo, &["test", "--workspace", "--all-features"])?;
    run("python3", &["tests/spec/check_examples.py"])
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}
