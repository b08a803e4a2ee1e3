//! The client's tracing, in a test binary of its own: a scoped subscriber sees the spans of its
//! own thread only if no other test reaches the same callsites at the same time.

mod support;

use p100_ergonomic::RetryPolicy;
use support::{get_balances, Captured, Reply, ScriptServer, KEY};

/// One retried call (503, then 200) with a `fmt` subscriber at `level`; what it wrote.
async fn retried_call_logs(level: tracing::Level) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(level)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests of this binary may have reached the span's callsite first, with no subscriber,
    // on another thread: its cached interest ("never") must be computed again for this one.
    tracing::callsite::rebuild_interest_cache();
    let server = ScriptServer::start(vec![
        Reply::text(503, "busy"),
        Reply::json(200, r#"{"userId":"42"}"#),
    ])
    .await;
    let client = support::client(
        &server.url(),
        RetryPolicy::default().with_jitter(p100_ergonomic::Jitter::none()),
    );

    get_balances(&client)
        .await
        .expect("second attempt succeeds");
    captured.text()
}

// One test, so that the two subscribers never see each other's callsites.
#[tokio::test(start_paused = true)]
async fn each_call_is_traced_without_secrets() {
    // At INFO the call's span (DEBUG) is off: the retry event names its operation itself.
    let logs = retried_call_logs(tracing::Level::INFO).await;
    let retry = logs
        .lines()
        .find(|line| line.contains("retrying P100 call"))
        .unwrap_or_else(|| panic!("no retry event in {logs}"));
    assert!(!retry.contains("p100.call{"), "{retry}");
    assert!(
        retry.contains("operation_id=\"user_get_balances\" attempt=1 reason=HTTP 503"),
        "{retry}"
    );
    assert!(!logs.contains("close"), "{logs}");

    let logs = retried_call_logs(tracing::Level::DEBUG).await;
    assert!(!logs.contains(KEY), "{logs}");
    assert!(!logs.contains("x-api-key"), "{logs}");
    let retry = logs
        .lines()
        .find(|line| line.contains("retrying P100 call"))
        .unwrap_or_else(|| panic!("no retry event in {logs}"));
    assert!(
        retry.contains("p100.call{operation_id=\"user_get_balances\" method=GET}"),
        "{retry}"
    );
    assert!(
        retry.contains("attempt=1 reason=HTTP 503 delay_ms=500"),
        "{retry}"
    );
    let close = logs
        .lines()
        .find(|line| line.contains("close"))
        .unwrap_or_else(|| panic!("no span close in {logs}"));
    for field in [
        "operation_id=\"user_get_balances\"",
        "attempts=2",
        "status=200",
        "elapsed_ms=500",
    ] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
}
