//! Fixed-iteration driver of the per-call comparison, for instruction counts under valgrind
//! (`crates/p100-perf/callgrind.sh` runs it; the call sites are in `src/lib.rs`).
//!
//! ```text
//! per_call serve                           # prints the base URL, serves until killed
//! per_call sizes                           # the size of each variant's call future
//! per_call run VARIANT OP CALLS BASE_URL   # VARIANT: handwritten | raw | ergonomic | ergonomic+fmt | call
//!                                          # OP: get | post
//! ```
//!
//! `ergonomic+fmt` is the ergonomic client with a `fmt` subscriber at INFO (writing nowhere).
//! The client runs on a current-thread runtime, so that valgrind counts one thread's work.

use std::io::Write as _;

use p100_perf as per_call;
use per_call::{Clients, Op, Variant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve"] => serve(),
        ["sizes"] => {
            let clients = Clients::new("http://127.0.0.1:1");
            println!("{:<12} {:>6} {:>6}", "variant", "GET", "POST");
            for (variant, get, post) in clients.future_sizes() {
                println!("{:<12} {get:>6} {post:>6}", variant.name());
            }
        }
        ["run", variant, op, calls, base_url] => {
            let (variant, fmt) = match variant.strip_suffix("+fmt") {
                Some(name) => (name, true),
                None => (*variant, false),
            };
            let variant = Variant::parse(variant).unwrap_or_else(|| usage());
            let op = Op::parse(op).unwrap_or_else(|| usage());
            let calls: u32 = calls.parse().unwrap_or_else(|_| usage());
            if fmt {
                tracing::subscriber::set_global_default(per_call::info_subscriber())
                    .expect("first subscriber");
            }
            run(variant, op, calls, base_url);
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: per_call serve | per_call sizes | per_call run handwritten|raw|ergonomic[+fmt]|call get|post CALLS BASE_URL");
    std::process::exit(2)
}

fn serve() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (listener, addr) = per_call::bind().await;
        println!("http://{addr}");
        std::io::stdout().flush().expect("stdout");
        per_call::serve(listener).await;
    });
}

fn run(variant: Variant, op: Op, calls: u32, base_url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let clients = Clients::new(base_url);
        for _ in 0..calls {
            clients.call(variant, op).await;
        }
    });
}
