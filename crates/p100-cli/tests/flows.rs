//! The flows against the sandbox, each to its final state and exit code: exchange, send and wait
//! succeeding (0), a failed transfer (1), an unknown outcome from the sandbox's
//! drop-after-processing fault (3, the money moved once), a timed-out wait (4); and
//! `p100 exchange --wait` in a pseudo-terminal, with its spinner.

mod common;

use std::time::Duration;

use common::{command, funded_user, members, p100, run, sandbox, sandbox_with, DEADLINE, KEY};
use p100_sandbox::{Config, Fault, FaultRule, Holder, Sandbox};

/// The spinner's frames (indicatif's default).
const SPINNER: [char; 8] = ['⠁', '⠂', '⠄', '⡀', '⢀', '⠠', '⠐', '⠈'];

fn eur(sandbox: &Sandbox, user: &str) -> String {
    sandbox
        .balance(&Holder::User(user.to_string()), "eur")
        .expect("user")
        .normalize()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_waits_until_completed() {
    let sandbox = sandbox().await;
    let user = funded_user(&sandbox, "100.00").await;
    let run = p100(
        &sandbox,
        &[
            "exchange", "--user", &user, "--amount", "40", "--from", "eur", "--to", "btc",
            "--wait", "-o", "json",
        ],
    )
    .await
    .expect(0);
    let record = members(&run.stdout);
    assert_eq!(record["status"].get(), r#""COMPLETED""#, "{}", run.stdout);
    assert_eq!(record["amount"].get(), "40", "{}", run.stdout);
    assert!(run.stderr.contains("COMPLETED after"), "{}", run.stderr);
    // Not a terminal: plain lines, no spinner.
    assert!(
        run.stderr.contains("waiting for exchange"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(SPINNER), "{}", run.stderr);
    assert_eq!(eur(&sandbox, &user), "60");

    // Without --wait: executed, the answer printed, the outcome left for later.
    let executed = p100(
        &sandbox,
        &[
            "exchange", "--user", &user, "--amount", "10", "--from", "eur", "--to", "btc", "-o",
            "json",
        ],
    )
    .await
    .expect(0);
    let id = members(&executed.stdout)["exchangeId"]
        .get()
        .trim_matches('"')
        .to_string();
    let waited = p100(&sandbox, &["wait", "exchange", &id]).await.expect(0);
    assert!(waited.stdout.contains("COMPLETED"), "{}", waited.stdout);

    // A quote outside --max-rate is refused: nothing executed, exit 1.
    let refused = p100(
        &sandbox,
        &[
            "exchange",
            "--user",
            &user,
            "--amount",
            "10",
            "--from",
            "eur",
            "--to",
            "btc",
            "--max-rate",
            "0.0000000001",
        ],
    )
    .await
    .expect(1);
    assert!(
        refused.stderr.contains("nothing was executed"),
        "{}",
        refused.stderr
    );
    assert_eq!(eur(&sandbox, &user), "50");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_transfer_succeeds_and_a_failed_one_exits_1() {
    let sandbox = sandbox().await;
    let user = funded_user(&sandbox, "30.00").await;
    assert_eq!(eur(&sandbox, &user), "30");
    let poor = funded_user(&sandbox, "1.00").await;
    // More than the user has, back to the partner: P100 takes it, then it fails (FAILED,
    // P433).
    let failed = p100(
        &sandbox,
        &[
            "send",
            "transfer",
            "--from",
            &poor,
            "--amount",
            "5.00",
            "--currency",
            "eur",
            "--wait",
            "-o",
            "json",
        ],
    )
    .await
    .expect(1);
    assert!(
        failed.stderr.contains("failed with status"),
        "{}",
        failed.stderr
    );
    assert_eq!(members(&failed.stdout)["status"].get(), r#""FAILED""#);
    assert_eq!(eur(&sandbox, &poor), "1");
    assert_eq!(eur(&sandbox, &user), "30");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_sepa_and_wait() {
    let sandbox = sandbox().await;
    // The docs' example user has an active EUR balance and an IBAN in the sandbox.
    let user = "bca65c48-df49-4831-a7b2-de7903321581";
    p100(
        &sandbox,
        &[
            "send",
            "transfer",
            "--to",
            user,
            "--amount",
            "20.00",
            "--currency",
            "eur",
            "--wait",
        ],
    )
    .await
    .expect(0);
    let run = p100(
        &sandbox,
        &[
            "send",
            "sepa",
            "--user",
            user,
            "--iban",
            "DE89370400440532013000",
            "--amount",
            "12.34",
            "--currency",
            "eur",
            "--title",
            "invoice 42",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--wait",
            "-o",
            "json",
        ],
    )
    .await
    .expect(0);
    let record = members(&run.stdout);
    assert_eq!(
        record["amount"].get().trim_matches('"'),
        "12.34",
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("SUCCESSFUL after"), "{}", run.stderr);
}

/// Polls (with a deadline, no fixed sleep) until `done` holds.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_is_an_unknown_outcome_and_the_money_moves_once() {
    let sandbox = sandbox_with(Config::default().with_unsent_webhook_bodies()).await;
    let user = funded_user(&sandbox, "50.00").await;

    // The transfer is processed, then the connection is dropped: exit 3, never sent again.
    sandbox
        .add_fault(
            FaultRule::new(Fault::DropAfterProcessing)
                .operation("transfer_create")
                .times(1),
        )
        .expect("fault");
    let receiver = common::new_user(&sandbox).await;
    let lost = p100(
        &sandbox,
        &[
            "send",
            "transfer",
            "--to",
            &receiver,
            "--amount",
            "7.25",
            "--currency",
            "eur",
            "--wait",
        ],
    )
    .await
    .expect(3);
    assert!(lost.stderr.contains("UNKNOWN"), "{}", lost.stderr);
    assert!(lost.stderr.contains("transfer_create"), "{}", lost.stderr);
    assert!(
        lost.stderr.contains("7.25"),
        "the request to reconcile: {}",
        lost.stderr
    );
    eventually("the transfer settles", || {
        eur(&sandbox, &receiver) == "7.25"
    })
    .await;
    let transfers = sandbox
        .deliveries()
        .into_iter()
        .filter(|d| d.kind == "p2p_transfer")
        .filter(|d| d.body.as_deref().is_some_and(|b| b.contains(&receiver)))
        .count();
    assert_eq!(transfers, 1, "one transfer, once");
    assert_eq!(eur(&sandbox, &receiver), "7.25");

    // The same for an exchange's execute.
    let exchanges = |sandbox: &Sandbox| {
        sandbox
            .deliveries()
            .iter()
            .filter(|d| d.kind == "exchange")
            .count()
    };
    let before = exchanges(&sandbox);
    sandbox
        .add_fault(
            FaultRule::new(Fault::DropAfterProcessing)
                .operation("exchange_create")
                .times(1),
        )
        .expect("fault");
    let lost = p100(
        &sandbox,
        &[
            "exchange", "--user", &user, "--amount", "2.750", "--from", "eur", "--to", "btc",
            "--wait",
        ],
    )
    .await
    .expect(3);
    assert!(lost.stderr.contains("NOT sent again"), "{}", lost.stderr);
    // The request to reconcile as it was sent: the amount is a JSON number, printed with its
    // digits (through f64 it would read 2.75).
    assert!(
        lost.stderr.contains(r#""amount":2.750"#),
        "the request to reconcile: {}",
        lost.stderr
    );
    assert!(lost.stderr.contains("exchange_create"), "{}", lost.stderr);
    eventually("the exchange debits once", || {
        eur(&sandbox, &user) == "47.25"
    })
    .await;
    eventually("the exchange completes", || exchanges(&sandbox) > before).await;
    assert_eq!(exchanges(&sandbox), before + 1, "one exchange, once");
    assert_eq!(eur(&sandbox, &user), "47.25");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_past_its_limit_exits_4() {
    let sandbox = Sandbox::start_with(
        Config::default()
            .with_api_key(KEY)
            .with_settle_after(Duration::from_secs(3600)),
    )
    .await
    .expect("sandbox");
    let run = p100(
        &sandbox,
        &[
            "send",
            "transfer",
            "--to",
            "bca65c48-df49-4831-a7b2-de7903321581",
            "--amount",
            "1",
            "--currency",
            "eur",
            "--wait",
            "--max-wait",
            "0.3",
        ],
    )
    .await
    .expect(4);
    assert!(run.stderr.contains("is not final"), "{}", run.stderr);
    assert!(run.stderr.contains("p100 wait"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_wait_in_a_terminal_shows_a_spinner_then_the_final_line() {
    // `script` (util-linux) runs the command on a pseudo-terminal and copies what it draws.
    let script = std::path::Path::new("/usr/bin/script");
    assert!(
        script.exists(),
        "this test needs `script` from util-linux to make a pseudo-terminal"
    );
    // Settlement takes long enough for the spinner to draw several frames.
    let sandbox = Sandbox::start_with(
        Config::default()
            .with_api_key(KEY)
            .with_settle_after(Duration::from_millis(1500)),
    )
    .await
    .expect("sandbox");
    let user = funded_user(&sandbox, "10.00").await;
    let line = format!(
        "{} exchange --user {user} --amount 5 --from eur --to btc --wait --poll-interval 0.05",
        common::bin().display()
    );
    let mut cmd = command(Some(&sandbox));
    cmd.env("TERM", "xterm").args(["-qfec", &line, "/dev/null"]);
    let cmd = {
        // The same environment, with `script` as the program.
        let std = cmd.as_std();
        let mut out = tokio::process::Command::new(script);
        out.env_clear().kill_on_drop(true);
        for (k, v) in std.get_envs() {
            if let Some(v) = v {
                out.env(k, v);
            }
        }
        out.args(std.get_args());
        out
    };
    let run = run(cmd).await.expect(0);
    let screen = run.stdout;
    let spinner_at = screen
        .find(SPINNER)
        .unwrap_or_else(|| panic!("no spinner frame in:\n{screen}"));
    assert!(screen.contains("waiting for exchange"), "{screen}");
    let final_at = screen
        .find("COMPLETED after")
        .unwrap_or_else(|| panic!("no final line in:\n{screen}"));
    assert!(
        spinner_at < final_at,
        "the spinner comes before the final line"
    );
    // The spinner showed the status while waiting.
    assert!(screen.contains("PENDING"), "{screen}");
}
