//! The acknowledging (at-least-once) receiver, driven through `tower::ServiceExt::oneshot` under
//! tokio's paused clock: the handler runs before the answer; success → 200 and retries are not
//! handled again; an error, a panic or the time limit → 500, the key forgotten, and P100's retry
//! reaches the handler again. The default (at-most-once) receiver is `webhook_receiver.rs`.
#![cfg(feature = "axum")]

mod webhook_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use p100_ergonomic::webhooks::testing::TestDelivery;
use p100_ergonomic::webhooks::{
    AcknowledgingHandler, BoxError, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting,
    WebhookEvent, WebhookKind, WebhookReceiver, DEFAULT_HANDLER_TIME_LIMIT, P100_RETRY_DELAYS,
};
use serde_json::json;
use tokio::sync::Notify;
use tokio::time::Instant;
use tower::ServiceExt;
use webhook_support::{sample_body, sample_with};

const TOKEN: &str = "whsec-7f3a9c";

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response: Response<Body> = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Lets every spawned task run: with the clock paused, a sleep returns only once every other
/// task is idle.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

fn deposit(status: &str) -> TestDelivery {
    TestDelivery::new(
        WebhookKind::CryptoDeposit,
        sample_with(WebhookKind::CryptoDeposit, "status", json!(status)),
    )
    .token(TOKEN)
}

/// What a scripted handler does on its n-th call (the last step repeats).
#[derive(Clone, Copy, Debug)]
enum Step {
    Succeed,
    Fail,
    Panic,
    Sleep(Duration),
    /// Waits for `Script::release`, then fails.
    WaitThenFail,
    /// Waits for `Script::release`, then succeeds.
    WaitThenSucceed,
}

/// A handler following a script, counting its calls and the calls that returned.
#[derive(Clone)]
struct Script {
    steps: Arc<Vec<Step>>,
    calls: Arc<AtomicUsize>,
    returned: Arc<AtomicUsize>,
    release: Arc<Notify>,
}

impl Script {
    fn new(steps: impl Into<Vec<Step>>) -> Self {
        Self {
            steps: Arc::new(steps.into()),
            calls: Arc::default(),
            returned: Arc::default(),
            release: Arc::default(),
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn returned(&self) -> usize {
        self.returned.load(Ordering::SeqCst)
    }
}

impl AcknowledgingHandler for Script {
    async fn handle(&self, event: WebhookEvent) -> Result<(), BoxError> {
        assert_eq!(event.kind(), WebhookKind::CryptoDeposit);
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let step = self.steps[call.min(self.steps.len() - 1)];
        let result = match step {
            Step::Succeed => Ok(()),
            Step::Fail => Err("database unavailable".into()),
            Step::Panic => panic!("handler bug"),
            Step::Sleep(time) => {
                tokio::time::sleep(time).await;
                Ok(())
            }
            Step::WaitThenFail => {
                self.release.notified().await;
                Err("database unavailable".into())
            }
            Step::WaitThenSucceed => {
                self.release.notified().await;
                Ok(())
            }
        };
        self.returned.fetch_add(1, Ordering::SeqCst);
        result
    }
}

// ---- success ---------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_handled_event_is_200_and_p100s_retries_are_not_handled_again() {
    let script = Script::new([Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();
    let mut statuses = Vec::new();
    for delay in std::iter::once(Duration::ZERO).chain(P100_RETRY_DELAYS) {
        tokio::time::advance(delay).await;
        statuses.push(send(&app, deposit("SUCCESSFUL").into_request()).await);
    }
    assert_eq!(statuses, vec![(StatusCode::OK, String::new()); 5]);
    assert_eq!(script.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_answer_waits_for_the_handler() {
    let script = Script::new([Step::WaitThenSucceed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();
    let answer =
        tokio::spawn(async move { send(&app, deposit("SUCCESSFUL").into_request()).await });
    settle().await;
    assert_eq!(script.calls(), 1);
    assert!(
        !answer.is_finished(),
        "answered before the handler returned"
    );
    script.release.notify_one();
    assert_eq!(answer.await.unwrap().0, StatusCode::OK);
}

// ---- failure → 500, key forgotten, the retry reaches the handler -----------------------------

#[tokio::test(start_paused = true)]
async fn a_failed_handler_is_500_and_p100s_retry_reaches_it_again() {
    let script = Script::new([Step::Fail, Step::Succeed]);
    let store = Arc::new(InMemoryDedupeStore::new());
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone())
        .dedupe_store(Arc::clone(&store))
        .into_router();

    let (status, text) = send(&app, deposit("SUCCESSFUL").into_request()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text, "P100 webhook handler failed");
    assert!(store.is_empty(), "the failed event's key was not forgotten");

    tokio::time::advance(P100_RETRY_DELAYS[0]).await;
    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    assert_eq!(script.calls(), 2);
    assert_eq!(store.len(), 1);

    // Handled now: P100's later retries (if the 200 was lost) are not handled again.
    tokio::time::advance(P100_RETRY_DELAYS[1]).await;
    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    assert_eq!(script.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_handler_failing_on_every_attempt_sees_each_of_p100s_five() {
    let script = Script::new([Step::Fail]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();
    for delay in std::iter::once(Duration::ZERO).chain(P100_RETRY_DELAYS) {
        tokio::time::advance(delay).await;
        let (status, _) = send(&app, deposit("SUCCESSFUL").into_request()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert_eq!(script.calls(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_is_500_and_p100s_retry_is_handled() {
    let script = Script::new([Step::Panic, Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();

    let (status, text) = send(&app, deposit("SUCCESSFUL").into_request()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text, "P100 webhook handler panicked");

    tokio::time::advance(P100_RETRY_DELAYS[0]).await;
    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    assert_eq!(script.calls(), 2);
    assert_eq!(script.returned(), 1);
}

/// A closure whose call panics before it returns a future, rather than in the future.
#[tokio::test(start_paused = true)]
async fn a_handler_panicking_before_its_future_is_caught_too() {
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = {
        let calls = Arc::clone(&calls);
        move |_event: WebhookEvent| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("handler bug");
            }
            async { Ok::<(), BoxError>(()) }
        }
    };
    let app = WebhookReceiver::acknowledging(TOKEN, handler).into_router();
    let first = send(&app, deposit("SUCCESSFUL").into_request()).await.0;
    let retry = send(&app, deposit("SUCCESSFUL").into_request()).await.0;
    assert_eq!(
        (first, retry),
        (StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

// ---- time limit ------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_handler_over_the_time_limit_is_500_at_the_limit_and_cancelled() {
    let script = Script::new([Step::Sleep(Duration::from_secs(60)), Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();

    let start = Instant::now();
    let (status, text) = send(&app, deposit("SUCCESSFUL").into_request()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(text, "P100 webhook handler exceeded its time limit");
    assert_eq!(start.elapsed(), DEFAULT_HANDLER_TIME_LIMIT);

    tokio::time::advance(Duration::from_secs(120)).await;
    settle().await;
    assert_eq!(script.returned(), 0, "the late handler was not cancelled");

    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    assert_eq!(script.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_time_limit_is_configurable() {
    let script = Script::new([
        Step::Sleep(Duration::from_secs(3)),
        Step::Sleep(Duration::from_secs(1)),
    ]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone())
        .handler_time_limit(Duration::from_secs(2))
        .into_router();
    let start = Instant::now();
    let first = send(&app, deposit("SUCCESSFUL").into_request()).await.0;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    let retry = send(&app, deposit("SUCCESSFUL").into_request()).await.0;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(
        (first, retry),
        (StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK)
    );
}

// ---- concurrent deliveries of one event ------------------------------------------------------

/// Two deliveries of one event in flight together, then `release` once the handler started.
async fn first_and_concurrent_retry(
    app: &Router,
    script: &Script,
) -> (StatusCode, StatusCode, usize) {
    let first = tokio::spawn({
        let app = app.clone();
        async move { send(&app, deposit("SUCCESSFUL").into_request()).await.0 }
    });
    settle().await;
    let retry = tokio::spawn({
        let app = app.clone();
        async move { send(&app, deposit("SUCCESSFUL").into_request()).await.0 }
    });
    settle().await;
    assert!(
        !retry.is_finished(),
        "the retry was answered before the first was handled"
    );
    let calls_while_in_flight = script.calls();
    script.release.notify_one();
    (
        first.await.unwrap(),
        retry.await.unwrap(),
        calls_while_in_flight,
    )
}

#[tokio::test(start_paused = true)]
async fn a_retry_during_handling_waits_for_it_and_gets_its_failure() {
    let script = Script::new([Step::WaitThenFail, Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();
    let (first, retry, calls) = first_and_concurrent_retry(&app, &script).await;
    assert_eq!(calls, 1, "the handler ran twice at the same time");
    assert_eq!(
        (first, retry),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::INTERNAL_SERVER_ERROR
        )
    );
    // Neither got a 200, so P100 delivers again, and that reaches the handler.
    tokio::time::advance(P100_RETRY_DELAYS[0]).await;
    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    assert_eq!(script.calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_retry_during_handling_waits_for_it_and_gets_its_success() {
    let script = Script::new([Step::WaitThenSucceed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();
    let (first, retry, calls) = first_and_concurrent_retry(&app, &script).await;
    assert_eq!(calls, 1);
    assert_eq!((first, retry), (StatusCode::OK, StatusCode::OK));
    assert_eq!(script.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failure_is_forgotten_even_if_p100_hung_up() {
    let script = Script::new([Step::WaitThenFail, Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone()).into_router();
    let first = tokio::spawn({
        let app = app.clone();
        async move { send(&app, deposit("SUCCESSFUL").into_request()).await }
    });
    settle().await;
    first.abort(); // P100 stopped waiting: the request future is dropped
    settle().await;
    script.release.notify_one();
    settle().await;
    assert_eq!(script.returned(), 1, "the handler did not finish");
    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    assert_eq!(script.calls(), 2);
}

// ---- the rest of the receiver is shared with the default mode --------------------------------

#[tokio::test(start_paused = true)]
async fn tokens_bodies_and_undeduplicated_kinds() {
    let script = Script::new([Step::Fail, Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone())
        .without_dedupe(WebhookKind::CryptoDeposit)
        .into_router();
    let no_token = TestDelivery::new(
        WebhookKind::CryptoDeposit,
        sample_body(WebhookKind::CryptoDeposit),
    );
    assert_eq!(
        send(&app, no_token.into_request()).await.0,
        StatusCode::UNAUTHORIZED
    );
    let unparseable = TestDelivery::new(WebhookKind::CryptoDeposit, "{}").token(TOKEN);
    assert_eq!(
        send(&app, unparseable.into_request()).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(script.calls(), 0);

    // Without dedupe every delivery is handled and answered by its own outcome.
    let answers = [
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
    ];
    assert_eq!(
        answers,
        [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::OK,
            StatusCode::OK
        ]
    );
    assert_eq!(script.calls(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_async_fn_is_a_handler() {
    async fn save(event: WebhookEvent) -> std::io::Result<()> {
        match event {
            WebhookEvent::CryptoDeposit(_) => Ok(()),
            other => Err(std::io::Error::other(format!(
                "unexpected {}",
                other.kind()
            ))),
        }
    }
    let app = WebhookReceiver::acknowledging(TOKEN, save).into_router();
    assert_eq!(
        send(&app, deposit("SUCCESSFUL").into_request()).await.0,
        StatusCode::OK
    );
    let other = TestDelivery::new(
        WebhookKind::KycFileAdded,
        sample_body(WebhookKind::KycFileAdded),
    )
    .token(TOKEN);
    assert_eq!(
        send(&app, other.into_request()).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// A store written before `forget` existed: it still compiles, and the failure is still answered
/// 500, but the key stays, so P100's retry is taken as handled (the receiver logs an error).
struct RecordOnly(InMemoryDedupeStore);

impl DedupeStore for RecordOnly {
    async fn record(&self, key: &DedupeKey) -> Result<Sighting, BoxError> {
        self.0.record(key).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_store_without_forget_takes_the_retry_of_a_failed_event_as_handled() {
    let script = Script::new([Step::Fail, Step::Succeed]);
    let app = WebhookReceiver::acknowledging(TOKEN, script.clone())
        .dedupe_store(RecordOnly(InMemoryDedupeStore::new()))
        .into_router();
    let first = send(&app, deposit("SUCCESSFUL").into_request()).await.0;
    let retry = send(&app, deposit("SUCCESSFUL").into_request()).await.0;
    assert_eq!(
        (first, retry),
        (StatusCode::INTERNAL_SERVER_ERROR, StatusCode::OK)
    );
    assert_eq!(script.calls(), 1);
}

#[test]
fn the_acknowledging_receiver_debug_hides_the_token() {
    let receiver = WebhookReceiver::acknowledging(TOKEN, Script::new([Step::Succeed]));
    let text = format!("{receiver:?}");
    assert!(!text.contains(TOKEN), "{text}");
}
