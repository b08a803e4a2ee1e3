//! The generated commands against the sandbox: one per tag, `--output json` read back with
//! exact amounts, and bad input (exit 2, one line, no panic, the key in no output).

mod common;

use common::{command, funded_user, members, p100, run, sandbox, KEY};
use p100_sandbox::Holder;

/// An id of the docs' examples that the sandbox serves (a transfer and a SEPA transfer).
const EXAMPLE_TRANSFER: &str = "7fb02323-969a-4936-94ea-86b8773ff1a2";
/// The docs' example user (KYC verified in the sandbox).
const EXAMPLE_USER: &str = "bca65c48-df49-4831-a7b2-de7903321581";

#[tokio::test(flavor = "multi_thread")]
async fn one_generated_command_per_tag() {
    let sandbox = sandbox().await;
    // (tag, the rest of the command, a field the answer has)
    let cases: [(&str, Vec<&str>, &str); 10] = [
        ("partner", vec!["get-balances"], "cryptoBalances"),
        ("exchange", vec!["get-rate"], "btc"),
        (
            "sepa",
            vec!["transfer-get", "--transfer-id", EXAMPLE_TRANSFER],
            "destinationIban",
        ),
        (
            "crypto",
            vec![
                "withdrawal-get-network-fee",
                "--currency",
                "btc",
                "--network",
                "bitcoin",
            ],
            "networkFee",
        ),
        ("orders", vec!["get-rates"], "btc"),
        (
            "payments",
            vec!["link-create", "--json-body", "{}"],
            "paymentLinkId",
        ),
        (
            "users",
            vec!["get-balances", "--external-user-id", EXAMPLE_USER],
            "fiatBalances",
        ),
        (
            "kyc",
            vec!["get-status", "--external-user-id", EXAMPLE_USER],
            "verificationStatus",
        ),
        (
            "transfers",
            vec!["get", "--transfer-id", EXAMPLE_TRANSFER],
            "amount",
        ),
        // The sandbox answers every card endpoint as suspended (P501), as the docs say.
        (
            "cards",
            vec!["list", "--external-user-id", EXAMPLE_USER],
            "",
        ),
    ];
    for (tag, rest, field) in cases {
        let mut args = vec![tag];
        args.extend(rest);
        args.extend(["--output", "json"]);
        let run = p100(&sandbox, &args).await;
        if tag == "cards" {
            // A refused read is an API error (5), never an unknown outcome (3).
            let run = run.expect(5);
            assert!(run.stderr.contains("card_list"), "{}", run.stderr);
            continue;
        }
        let run = run.expect(0);
        assert!(
            members(&run.stdout).contains_key(field),
            "p100 {}: no {field} in\n{}",
            args.join(" "),
            run.stdout
        );
        // The default output shows the same answer as field/value lines.
        let table = p100(&sandbox, &args[..args.len() - 2]).await.expect(0);
        assert!(
            table.stdout.lines().any(|l| l.starts_with(field)),
            "p100 {}: no {field} line in\n{}",
            args.join(" "),
            table.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_keeps_every_digit_of_the_amounts() {
    let sandbox = sandbox().await;
    let user = funded_user(&sandbox, "250.50").await;
    let balances = p100(
        &sandbox,
        &[
            "users",
            "get-balances",
            "--external-user-id",
            &user,
            "-o",
            "json",
        ],
    )
    .await
    .expect(0);
    let fiat: Vec<std::collections::HashMap<String, Box<serde_json::value::RawValue>>> =
        serde_json::from_str(members(&balances.stdout)["fiatBalances"].get()).expect("array");
    let eur = fiat
        .iter()
        .find(|b| b["name"].get() == r#""eur""#)
        .expect("an eur balance");
    let amount = eur["amount"].get().trim_matches('"');
    // As the sandbox holds it: the scale of what was sent (two decimals), nothing rounded.
    assert_eq!(
        amount
            .parse::<p100_ergonomic::rust_decimal::Decimal>()
            .expect("decimal"),
        sandbox
            .balance(&Holder::User(user.clone()), "eur")
            .expect("user")
    );
    assert_eq!(amount, "250.50", "{}", balances.stdout);

    // A rate with all its digits: what the CLI prints is what the API answered.
    let rates = p100(&sandbox, &["exchange", "get-rate", "-o", "json"])
        .await
        .expect(0);
    let raw = reqwest::Client::new()
        .get(format!("{}/v1/exchange/get-rate", sandbox.base_url()))
        .header("x-api-key", KEY)
        .send()
        .await
        .expect("get-rate")
        .text()
        .await
        .expect("body");
    let cli = members(&rates.stdout);
    for (currency, rate) in members(&raw) {
        assert_eq!(cli[&currency].get(), rate.get(), "rate of {currency}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_can_come_from_a_file_or_stdin_and_a_bad_one_is_refused() {
    let sandbox = sandbox().await;
    let dir = std::env::temp_dir().join(format!("p100-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("user.json");
    std::fs::write(&file, r#"{"externalUserId":"from-file"}"#).expect("write");
    p100(
        &sandbox,
        &[
            "users",
            "create",
            "--json-body",
            file.to_str().expect("path"),
        ],
    )
    .await
    .expect(0);

    let mut cmd = command(Some(&sandbox));
    cmd.args(["users", "create", "--json-body", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(br#"{"externalUserId":"from-stdin"}"#)
            .await
            .expect("write");
    }
    let output = child.wait_with_output().await.expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    p100(
        &sandbox,
        &["users", "get-balances", "--external-user-id", "from-stdin"],
    )
    .await
    .expect(0);

    // Not the request's schema: refused before anything is sent (exit 2, one line).
    let bad = p100(
        &sandbox,
        &["transfers", "create", "--json-body", r#"{"amount":"ten"}"#],
    )
    .await
    .expect(2);
    assert_eq!(bad.stderr.trim().lines().count(), 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("CreateTransferRequest"),
        "{}",
        bad.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_one_line_and_exit_2() {
    let sandbox = sandbox().await;
    let cases: [&[&str]; 6] = [
        &["users", "get-balances", "--no-such-flag"],
        &[
            "exchange", "--user", "u", "--amount", "1,5", "--from", "eur", "--to", "btc",
        ],
        &[
            "exchange", "--user", "u", "--amount", "-3", "--from", "eur", "--to", "btc",
        ],
        &[
            "exchange", "--user", "u", "--amount", "10", "--from", "eur", "--to", "xyz",
        ],
        &[
            "send",
            "transfer",
            "--to",
            "u",
            "--amount",
            "1e3",
            "--currency",
            "eur",
        ],
        &["transfers", "get", "--transfer-id", "not-a-uuid"],
    ];
    for args in cases {
        let run = p100(&sandbox, args).await.expect(2);
        let lines: Vec<&str> = run.stderr.trim().lines().collect();
        assert_eq!(lines.len(), 1, "p100 {}: {}", args.join(" "), run.stderr);
        assert!(lines[0].starts_with("error:"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }

    // No key anywhere: one line saying so.
    let mut cmd = command(None);
    cmd.env("P100_BASE_URL", sandbox.base_url())
        .args(["partner", "get-balances"]);
    let run = run(cmd).await.expect(2);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("P100_API_KEY"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_appears_in_no_output_even_at_trace_level() {
    let sandbox = sandbox().await;
    let user = funded_user(&sandbox, "20.00").await;
    let runs: [(&[&str], i32, &str); 4] = [
        (
            &["users", "get-balances", "--external-user-id", &user],
            0,
            KEY,
        ),
        (
            &[
                "exchange", "--user", &user, "--amount", "5", "--from", "eur", "--to", "btc",
                "--wait",
            ],
            0,
            KEY,
        ),
        // A wrong key: the API refuses it, and the CLI must not echo it either.
        (&["partner", "get-balances"], 5, "wrong-key-5d2a8e"),
        (&["config", "show"], 0, KEY),
    ];
    for (args, code, key) in runs {
        let mut cmd = command(Some(&sandbox));
        cmd.env("RUST_LOG", "trace")
            .env("P100_API_KEY", key)
            .args(args)
            .args(["--poll-interval", "0.05"]);
        let run = run(cmd).await.expect(code);
        if args[0] != "config" {
            // Trace logging is on: the HTTP calls are logged.
            assert!(run.stderr.contains("TRACE"), "{}", run.stderr);
        }
        assert!(!run.stdout.contains(key), "key in stdout of {args:?}");
        assert!(!run.stderr.contains(key), "key in stderr of {args:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_and_config_show() {
    let sandbox = sandbox().await;
    let dir = std::env::temp_dir().join(format!("p100-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[profiles.local]\nbase_url = \"{}\"\napi_key = \"{KEY}\"\n\n[profiles.prod]\nenv = \"production\"\n",
            sandbox.base_url()
        ),
    )
    .expect("write");
    let with_file = |args: &[&str]| {
        let mut cmd = command(None);
        cmd.env("P100_CONFIG", &file).args(args);
        cmd
    };
    run(with_file(&["--profile", "local", "exchange", "get-rate"]))
        .await
        .expect(0);
    let shown = run(with_file(&["--profile", "local", "config", "show"]))
        .await
        .expect(0);
    assert!(
        shown.stdout.contains("set (profile local)"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains(&sandbox.base_url()),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains(KEY), "{}", shown.stdout);
    let prod = run(with_file(&["--profile", "prod", "config", "show"]))
        .await
        .expect(0);
    assert!(
        prod.stdout.contains("partner-api.p100.io"),
        "{}",
        prod.stdout
    );
    assert!(
        prod.stdout.contains("API key      unset"),
        "{}",
        prod.stdout
    );
    let unknown = run(with_file(&["--profile", "nope", "config", "show"]))
        .await
        .expect(2);
    assert!(unknown.stderr.contains("local, prod"), "{}", unknown.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let mut cmd = command(None);
        cmd.args(["completions", shell]);
        let run = run(cmd).await.expect(0);
        assert!(run.stdout.contains("get-balances"), "{shell}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn body_fields_are_flags_too() {
    let sandbox = sandbox().await;
    let user = funded_user(&sandbox, "1.00").await;
    // Field flags alone, and over a --json-body (the flag wins).
    for args in [
        vec![
            "--destination-external-user-id",
            user.as_str(),
            "--amount",
            "12.50",
            "--currency",
            "eur",
        ],
        vec![
            "--json-body",
            r#"{"amount":"99.00","currency":"eur"}"#,
            "--destination-external-user-id",
            user.as_str(),
            "--amount",
            "12.50",
        ],
    ] {
        let mut command = vec!["transfers", "create", "-o", "json"];
        command.extend(args);
        let created = p100(&sandbox, &command).await.expect(0);
        let id = members(&created.stdout)["transferId"]
            .get()
            .trim_matches('"')
            .to_string();
        let record = p100(&sandbox, &["wait", "transfer", &id, "-o", "json"])
            .await
            .expect(0);
        assert_eq!(
            members(&record.stdout)["amount"].get().trim_matches('"'),
            "12.50"
        );
    }
    assert_eq!(
        sandbox
            .balance(&Holder::User(user.clone()), "eur")
            .expect("user")
            .to_string(),
        "26.00"
    );
    // A field flag that is no decimal, and a missing required field: exit 2, nothing sent.
    let bad = p100(
        &sandbox,
        &[
            "transfers",
            "create",
            "--amount",
            "lots",
            "--currency",
            "eur",
        ],
    )
    .await
    .expect(2);
    assert!(bad.stderr.contains("--amount"), "{}", bad.stderr);
    let missing = p100(&sandbox, &["transfers", "create", "--currency", "eur"])
        .await
        .expect(2);
    assert!(missing.stderr.contains("amount"), "{}", missing.stderr);
}
