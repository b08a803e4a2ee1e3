//! What the CLI tests share: a sandbox in this process (on loopback, fast settlement), and the
//! `p100` binary run against it with a clean environment.

#![allow(dead_code)]

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use p100_sandbox::{Config, Sandbox};
use serde_json::value::RawValue;

/// The API key of the test sandboxes: distinctive, so a test can look for it in any output.
pub const KEY: &str = "cli-test-key-9f3b7c1e";

/// How long a test waits for anything at most (real time).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A sandbox that settles after 0.3 s.
pub async fn sandbox() -> Sandbox {
    sandbox_with(Config::default()).await
}

/// A sandbox with `config`, the test key and fast settlement.
pub async fn sandbox_with(config: Config) -> Sandbox {
    Sandbox::start_with(
        config
            .with_api_key(KEY)
            .with_settle_after(Duration::from_millis(300)),
    )
    .await
    .expect("sandbox starts")
}

/// The path of the `p100` binary.
pub fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("p100")
}

/// What a run printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the output when it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code of a run:\n{self:#?}");
        assert!(
            !self.stderr.contains("panicked"),
            "the CLI panicked:\n{}",
            self.stderr
        );
        self
    }
}

/// A `p100` command with a clean environment: no key, no profile file, the sandbox's URL.
pub fn command(sandbox: Option<&Sandbox>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("P100_CONFIG", "/nonexistent/p100-cli-test/config.toml")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(sandbox) = sandbox {
        cmd.env("P100_API_KEY", KEY)
            .env("P100_BASE_URL", sandbox.base_url());
    }
    cmd
}

/// Runs `p100 args…` against `sandbox` (fast polls) and waits for it, within the deadline.
pub async fn p100(sandbox: &Sandbox, args: &[&str]) -> Run {
    let mut cmd = command(Some(sandbox));
    cmd.args(args).args(["--poll-interval", "0.05"]);
    run(cmd).await
}

/// Runs `cmd` to its end, within the deadline.
pub async fn run(mut cmd: tokio::process::Command) -> Run {
    let output = tokio::time::timeout(DEADLINE, cmd.output())
        .await
        .expect("the CLI ends within the deadline")
        .expect("the CLI starts");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The top-level members of a JSON object, their values as written (numbers keep their text).
pub fn members(json: &str) -> HashMap<String, Box<RawValue>> {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not a JSON object ({e}):\n{json}"))
}

/// A new user (with an id of its own).
pub async fn new_user(sandbox: &Sandbox) -> String {
    let user = format!("cli-{}", uuid::Uuid::new_v4());
    p100(
        sandbox,
        &[
            "users",
            "create",
            "--json-body",
            &format!(r#"{{"externalUserId":"{user}"}}"#),
        ],
    )
    .await
    .expect(0);
    user
}

/// A user funded with `amount` EUR from the partner (settled).
pub async fn funded_user(sandbox: &Sandbox, amount: &str) -> String {
    let user = new_user(sandbox).await;
    p100(
        sandbox,
        &[
            "send",
            "transfer",
            "--to",
            &user,
            "--amount",
            amount,
            "--currency",
            "eur",
            "--wait",
        ],
    )
    .await
    .expect(0);
    user
}
