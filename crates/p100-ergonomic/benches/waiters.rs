//! The default `WaitPolicy` against a transaction that settles 60 s after it was created.
//!
//! A loopback server answers `exchange_get` with `PENDING` until 60 s after the wait started,
//! then `COMPLETED`. The clock is tokio's, paused, so a 60-second wait runs in milliseconds and
//! its timing is exact. Printed first: how many polls the waiter made and how long after the
//! settlement it noticed it, over many runs (jitter makes them differ), and without jitter.
//! Then criterion measures the wall time of one whole wait, which is the per-poll overhead
//! (HTTP on loopback, JSON, the waiter's own work) times the polls.
//!
//! Run: `cargo bench -p p100-ergonomic --bench waiters`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant as WallClock};

use criterion::{criterion_group, criterion_main, Criterion};
use p100_ergonomic::{Jitter, RetryPolicy, WaitPolicy};
use support::{Reply, ScriptServer};
use tokio::time::Instant;

const SETTLES_AFTER: Duration = Duration::from_secs(60);
const RUNS: u32 = 500;

fn exchange(status: &str) -> Reply {
    Reply::json(
        200,
        &format!(r#"{{"id":"3f0aeaa7-1177-4d77-9985-0cb987809801","status":"{status}"}}"#),
    )
}

/// One wait for a transaction created now that settles `SETTLES_AFTER` later: (polls, how long
/// after settling it was noticed).
async fn settle_once(policy: WaitPolicy) -> (u32, Duration) {
    let created = Instant::now();
    let server = ScriptServer::start_with(move |request| {
        if request.at - created >= SETTLES_AFTER {
            exchange("COMPLETED")
        } else {
            exchange("PENDING")
        }
    })
    .await;
    let client = support::client(&server.url(), RetryPolicy::none());
    let settled = client
        .wait_for_exchange("3f0aeaa7-1177-4d77-9985-0cb987809801")
        .policy(policy)
        .wait()
        .await
        .expect("the transaction settles");
    let noticed = server.requests().last().map(|r| r.at).expect("polled");
    (settled.polls, noticed - created - SETTLES_AFTER)
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("tokio runtime")
}

fn report() {
    let runtime = paused_runtime();
    let policy = WaitPolicy::default();
    let started = WallClock::now();
    let runs: Vec<(u32, Duration)> = (0..RUNS)
        .map(|_| runtime.block_on(settle_once(policy.clone())))
        .collect();
    let wall = started.elapsed();
    let polls: Vec<u32> = runs.iter().map(|(polls, _)| *polls).collect();
    let lags: Vec<Duration> = runs.iter().map(|(_, lag)| *lag).collect();
    let total_polls: u32 = polls.iter().sum();
    let (exact_polls, exact_lag) = runtime.block_on(settle_once(
        WaitPolicy::default().with_jitter(Jitter::none()),
    ));

    println!("\nDefault WaitPolicy ({policy:?})");
    println!("transaction settling {SETTLES_AFTER:?} after creation, {RUNS} runs:");
    println!(
        "  polls:           min {}  mean {:.2}  max {}   (target <= 10)",
        polls.iter().min().unwrap_or(&0),
        f64::from(total_polls) / f64::from(RUNS),
        polls.iter().max().unwrap_or(&0),
    );
    println!(
        "  noticed after:   min {:?}  mean {:?}  max {:?}   (target <= max delay {:?})",
        lags.iter().min().unwrap_or(&Duration::ZERO),
        lags.iter().sum::<Duration>() / RUNS,
        lags.iter().max().unwrap_or(&Duration::ZERO),
        policy.max_delay(),
    );
    println!("  without jitter:  {exact_polls} polls, noticed after {exact_lag:?}");
    println!(
        "  wall time per poll (loopback HTTP + JSON + waiter): {:?}\n",
        wall / total_polls.max(1)
    );
}

fn bench(c: &mut Criterion) {
    report();
    let runtime = paused_runtime();
    let mut group = c.benchmark_group("wait_until_final");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("exchange_settling_after_60s_default_policy", |b| {
        b.to_async(&runtime)
            .iter(|| settle_once(WaitPolicy::default()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
