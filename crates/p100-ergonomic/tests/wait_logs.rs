//! What a waiter reports through `tracing`. Alone in its test binary: `tracing` caches per call
//! site whether anyone listens, so a test on another thread without a subscriber could hide the
//! events from this one's thread-local subscriber.

mod support;

use std::time::Duration;

use p100_ergonomic::wait::{StatusClass, WaitError};
use p100_ergonomic::{Jitter, RetryPolicy, WaitPolicy};
use support::{client, Captured, Reply, ScriptServer};

fn exchange(status: &str) -> Reply {
    Reply::json(200, &format!(r#"{{"id":"x-1","status":"{status}"}}"#))
}

#[tokio::test(start_paused = true)]
async fn an_unknown_status_is_not_final_and_is_reported_once() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = ScriptServer::start(vec![
        exchange("PENDING"),
        exchange("REVIEW"),
        exchange("QUEUED"),
        exchange("REVIEW"),
    ])
    .await;
    let client = client(&server.url(), RetryPolicy::none());

    let error = client
        .wait_for_exchange("x-1")
        .treat("QUEUED", StatusClass::InProgress)
        // Polls at 0, 2, 6 and 14 s.
        .policy(
            WaitPolicy::default()
                .with_jitter(Jitter::none())
                .with_max_wait(Duration::from_secs(14)),
        )
        .wait()
        .await
        .expect_err("never final");

    assert!(
        matches!(&error, WaitError::TimedOut(late) if late.polls == 4),
        "{error:?}"
    );
    let logs = captured.text();
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    let warning = warnings[0];
    assert!(
        warning.contains("p100.wait{kind=\"exchange\" id=x-1}"),
        "{warning}"
    );
    assert!(warning.contains("status=\"REVIEW\""), "{warning}");
    assert!(warning.contains("does not know"), "{warning}");
    assert!(!logs.contains(support::KEY), "{logs}");
    let polls = logs.lines().filter(|l| l.contains(" polled ")).count();
    assert_eq!(polls, 4, "{logs}");
}
