//! The cost of one call on each path, for instruction counts under callgrind: the operation
//! methods of `Client` (`client.user_get_balances()….send()`) against the escape hatch they
//! replace (`client.call(client.raw().user_get_balances()….send())`), for a read and for a
//! money-moving call whose amount the operation method checks.
//!
//! ```text
//! cargo test -p p100-ergonomic --bench call_cost --no-run     # or --release
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/…/call_cost-… op 100
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/…/call_cost-… op 600
//! ```
//!
//! Instructions per call = (I(600) − I(100)) / 500: the start-up, the local server's set-up and
//! the first connection cancel out. Arguments: `raw-call`, `op`, `raw-sepa`, `op-sepa`; a count.

use std::time::Duration;

use p100_ergonomic::types::{CreateSepaTransferRequest, DecimalString, ReceiverType};
use p100_ergonomic::{Client, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const BALANCES: &str = r#"{"userId":"42","fiatBalances":[],"cryptoBalances":[]}"#;
const SEPA: &str = r#"{"transferId":"7fb02323-969a-4936-94ea-86b8773ff1a2"}"#;

/// A minimal keep-alive HTTP/1.1 server answering every request with `body`.
async fn serve(listener: TcpListener, body: &'static str) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                    continue;
                };
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                while buffer.len() < end + 4 + length {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                    }
                }
                buffer.drain(..end + 4 + length);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

fn sepa_body() -> p100_ergonomic::types::builder::CreateSepaTransferRequest {
    CreateSepaTransferRequest::builder()
        .source_external_user_id("u-1".to_string())
        .amount(DecimalString::from(rust_decimal::Decimal::new(1250, 2)))
        .currency("eur")
        .destination_iban("DE89370400440532013000")
        .transfer_title("rent")
        .receiver_type(ReceiverType::Natural)
}

async fn one(client: &Client, variant: &str) -> bool {
    match variant {
        "raw-call" => client
            .call(
                client
                    .raw()
                    .user_get_balances()
                    .external_user_id("u")
                    .send(),
            )
            .await
            .is_ok(),
        "op" => client
            .user_get_balances()
            .external_user_id("u")
            .send()
            .await
            .is_ok(),
        "raw-sepa" => client
            .call(client.raw().sepa_transfer_create().body(sepa_body()).send())
            .await
            .is_ok(),
        "op-sepa" => client
            .sepa_transfer_create()
            .body(sepa_body())
            .send()
            .await
            .is_ok(),
        _ => false,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "op".into());
    let count: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return eprintln!("no runtime: {error}"),
    };
    runtime.block_on(async {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else {
            return eprintln!("cannot bind loopback");
        };
        let Ok(address) = listener.local_addr() else {
            return eprintln!("no local address");
        };
        let body = if variant.ends_with("sepa") {
            SEPA
        } else {
            BALANCES
        };
        tokio::spawn(serve(listener, body));
        let client = Client::builder()
            .api_key("k")
            .base_url(format!("http://{address}"))
            .timeout(Duration::from_secs(30))
            .retry(RetryPolicy::none())
            .build();
        let Ok(client) = client else {
            return eprintln!("no client");
        };
        let mut ok = 0;
        for _ in 0..count {
            ok += u32::from(one(&client, &variant).await);
        }
        println!("{variant}: {ok}/{count} calls succeeded");
    });
}
