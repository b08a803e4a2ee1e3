//! One call, three ways, against the same keep-alive loopback server with fixed documented
//! bodies: hand-written reqwest + serde, the generated client, and the ergonomic client (also
//! with a `fmt` subscriber at INFO), GET (`user_get_balances`) and POST (`transfer_create`),
//! all decoding into the same generated types. The call sites are in `src/lib.rs`.
//!
//! `cargo bench -p p100-perf --bench per_call` runs criterion, then prints the wall-clock
//! ratios to the hand-written call from interleaved rounds (so that load on the machine hits
//! every variant alike). Instruction counts, which load does not move: `crates/p100-perf/callgrind.sh`.

use p100_perf as per_call;
use std::time::{Duration, Instant};

use criterion::Criterion;
use per_call::{Clients, Op, Variant};

/// The variants measured: each client, and the ergonomic one with a subscriber.
const CASES: [(Variant, bool); 5] = [
    (Variant::Handwritten, false),
    (Variant::Raw, false),
    (Variant::Ergonomic, false),
    (Variant::Ergonomic, true),
    (Variant::Call, false),
];

fn case_name((variant, fmt): (Variant, bool)) -> String {
    if fmt {
        format!("{}+fmt-info", variant.name())
    } else {
        variant.name().to_string()
    }
}

/// Runs `f` with the INFO `fmt` subscriber as the thread's default when `fmt` is set.
fn with_subscriber<R>(fmt: bool, f: impl FnOnce() -> R) -> R {
    if fmt {
        tracing::subscriber::with_default(per_call::info_subscriber(), f)
    } else {
        f()
    }
}

fn main() {
    // The server on its own thread and runtime; the clients on a current-thread runtime here.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async {
            let (listener, addr) = per_call::bind().await;
            tx.send(addr).expect("address");
            per_call::serve(listener).await;
        });
    });
    let addr = rx.recv().expect("server address");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let clients = Clients::new(&format!("http://{addr}"));

    let mut criterion = Criterion::default().configure_from_args();
    for op in Op::ALL {
        let mut group = criterion.benchmark_group(format!("per_call/{}", op.name()));
        for case in CASES {
            with_subscriber(case.1, || {
                group.bench_function(case_name(case), |b| {
                    b.iter(|| runtime.block_on(clients.call(case.0, op)))
                });
            });
        }
        group.finish();
    }
    criterion.final_summary();

    // `cargo bench` passes `--bench`; `cargo test --benches` does not (one quick pass above).
    if std::env::args().any(|a| a == "--bench") {
        interleaved_ratios(&runtime, &clients);
    }
}

/// Median time per call of each case over rounds that alternate the cases, as ratios to the
/// hand-written call.
fn interleaved_ratios(runtime: &tokio::runtime::Runtime, clients: &Clients) {
    const ROUNDS: usize = 15;
    const CALLS: u32 = 400;
    println!("\ninterleaved wall clock: median of {ROUNDS} rounds of {CALLS} calls per case");
    for op in Op::ALL {
        let mut samples = vec![Vec::with_capacity(ROUNDS); CASES.len()];
        for _ in 0..ROUNDS {
            for (i, case) in CASES.iter().enumerate() {
                let elapsed = with_subscriber(case.1, || {
                    let start = Instant::now();
                    for _ in 0..CALLS {
                        runtime.block_on(clients.call(case.0, op));
                    }
                    start.elapsed()
                });
                samples[i].push(elapsed / CALLS);
            }
        }
        let medians: Vec<Duration> = samples
            .iter_mut()
            .map(|s| {
                s.sort_unstable();
                s[s.len() / 2]
            })
            .collect();
        for (case, median) in CASES.iter().zip(&medians) {
            println!(
                "{:>4} {:<22} {:>9.1} µs/call  {:.3}× handwritten",
                op.name(),
                case_name(*case),
                median.as_secs_f64() * 1e6,
                median.as_secs_f64() / medians[0].as_secs_f64()
            );
        }
    }
}
