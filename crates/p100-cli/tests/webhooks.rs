//! `p100 webhooks listen` receiving the sandbox's deliveries (each event printed once, retries
//! and repeats not), forwarding them, and `p100 webhooks trigger` against a local receiver.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{command, funded_user, p100, sandbox_with, DEADLINE};
use p100_sandbox::{Config, DeliveryState};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout};

const TOKEN: &str = "cli-webhook-token-4c1d";

/// A running `p100 webhooks listen --port 0`, its URL template and its output.
struct Listener {
    child: Child,
    url: String,
    stdout: Lines<BufReader<ChildStdout>>,
    _stderr: Lines<BufReader<ChildStderr>>,
}

async fn listen(extra: &[&str]) -> Listener {
    let mut cmd = command(None);
    cmd.args(["webhooks", "listen", "--port", "0", "--token", TOKEN])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("listen starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(DEADLINE, stderr.next_line())
        .await
        .expect("listen says where")
        .expect("read")
        .expect("a line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    Listener {
        child,
        url,
        stdout,
        _stderr: stderr,
    }
}

impl Listener {
    async fn next_line(&mut self) -> String {
        tokio::time::timeout(DEADLINE, self.stdout.next_line())
            .await
            .expect("a line within the deadline")
            .expect("read")
            .expect("listen still runs")
    }

    /// Stops it and returns what it printed since.
    async fn stop(mut self) -> Vec<String> {
        self.child.start_kill().expect("kill");
        let _ = self.child.wait().await;
        let mut rest = Vec::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(5), self.stdout.next_line()).await
        {
            rest.push(line);
        }
        rest
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_prints_each_sandbox_delivery_once() {
    let mut listener = listen(&["--output", "json"]).await;
    let sandbox = sandbox_with(
        Config::default()
            .with_default_webhook_url(listener.url.clone())
            .with_webhook_token(TOKEN),
    )
    .await;
    // A funding transfer: one p2p_transfer event.
    let user = funded_user(&sandbox, "12.30").await;
    let delivered = sandbox
        .wait_for_deliveries(DEADLINE, |ds| {
            ds.iter().any(|d| {
                d.kind == "p2p_transfer"
                    && d.state == DeliveryState::Delivered
                    && d.body.as_deref().is_some_and(|b| b.contains(&user))
            })
        })
        .await
        .expect("the sandbox delivered to the listener");
    let event = delivered
        .iter()
        .find(|d| d.kind == "p2p_transfer" && d.body.as_deref().is_some_and(|b| b.contains(&user)))
        .expect("event");
    let line = loop {
        let line = listener.next_line().await;
        if line.contains(&user) {
            break line;
        }
    };
    let printed: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(printed["kind"].get(), r#""p2p_transfer""#);
    // The body as delivered, amounts and all.
    assert_eq!(
        printed["body"].get(),
        event.body.as_deref().expect("body").trim(),
        "{line}"
    );

    // P100 sends the same event again (a retry): acknowledged, not printed again.
    let body = event.body.clone().expect("body");
    let again = reqwest::Client::new()
        .post(listener.url.replace("{kind}", "p2p_transfer"))
        .header("authorization", TOKEN)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(again.status(), 200);
    // A wrong token is refused and printed neither.
    let refused = reqwest::Client::new()
        .post(listener.url.replace("{kind}", "p2p_transfer"))
        .header("authorization", "not-the-token")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 401);
    // A new event after them proves they were processed, and not printed.
    let marker = p100(
        &sandbox,
        &[
            "webhooks",
            "trigger",
            "kyc_file_added",
            "--to",
            &listener.url,
            "--token",
            TOKEN,
        ],
    )
    .await
    .expect(0);
    assert!(marker.stdout.contains("HTTP 200"), "{}", marker.stdout);
    let next = listener.next_line().await;
    assert!(
        next.contains("kyc_file_added"),
        "only the new event: {next}"
    );
    let rest = listener.stop().await;
    assert!(
        rest.iter().all(|l| !l.contains(&user)),
        "printed again: {rest:?}"
    );
    // Every delivery the sandbox made was acknowledged.
    let deliveries = sandbox.deliveries();
    assert!(deliveries
        .iter()
        .filter(|d| d.url.is_some())
        .all(|d| d.state == DeliveryState::Delivered));
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_sends_the_spec_example_and_listen_forwards_it() {
    // The app listen forwards to: another listener (it checks the same token).
    let mut app = listen(&[]).await;
    let mut listener = listen(&["--forward-to", &app.url.clone()]).await;
    let sent = {
        let mut cmd = command(None);
        cmd.args([
            "webhooks",
            "trigger",
            "crypto_deposit",
            "--to",
            &listener.url,
            "--token",
            TOKEN,
        ]);
        common::run(cmd).await.expect(0)
    };
    assert!(sent.stdout.contains("answer: HTTP 200"), "{}", sent.stdout);
    // The spec's example payload of the kind, with its amount as written there.
    assert!(sent.stdout.contains(r#""amount":0.001"#), "{}", sent.stdout);
    let shown = listener.next_line().await;
    assert!(shown.starts_with("crypto_deposit  {"), "{shown}");
    let forwarded = app.next_line().await;
    assert_eq!(forwarded, shown, "the raw delivery, forwarded");

    // Without the right token the receiver answers 401, and trigger exits 5.
    let mut cmd = command(None);
    cmd.args([
        "webhooks",
        "trigger",
        "crypto_deposit",
        "--to",
        &listener.url,
        "--token",
        "wrong",
    ]);
    let refused = common::run(cmd).await.expect(5);
    assert!(refused.stdout.contains("HTTP 401"), "{}", refused.stdout);

    // A kind the spec documents no example for needs --body; an unknown kind is a usage error.
    let mut cmd = command(None);
    cmd.args(["webhooks", "trigger", "no_such_kind", "--to", &listener.url]);
    common::run(cmd).await.expect(2);
    listener.stop().await;
    app.stop().await;
}
