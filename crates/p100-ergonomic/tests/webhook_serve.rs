//! `webhooks::serve` closes what `axum::serve` keeps open: connections that send nothing, that
//! stall in their headers, or that stall in their body; normal deliveries still get 200.
#![cfg(feature = "axum")]

use std::time::Duration;

use p100_ergonomic::webhooks::{self, ServeLimits, WebhookEvent, WebhookReceiver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "serve-test-token";

async fn start(limits: ServeLimits) -> std::net::SocketAddr {
    let app = WebhookReceiver::new(TOKEN, |_event: WebhookEvent| async {}).into_router();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(webhooks::serve(listener, app, limits));
    addr
}

/// Reads until the server closes the connection; returns what it sent.
async fn until_closed(mut socket: TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// Time is paused: the server's timers fire as soon as every task waits, so the test proves the
/// timeouts exist without waiting for them.
#[tokio::test(start_paused = true)]
async fn a_thousand_stalled_connections_are_closed_within_the_timeouts() {
    let limits = ServeLimits::default()
        .with_header_read(Duration::from_secs(5))
        .with_request(Duration::from_secs(20))
        .with_max_connections(4096);
    let addr = start(limits).await;
    let start = tokio::time::Instant::now();

    let mut stalled = Vec::new();
    for i in 0..1000 {
        let mut socket = TcpStream::connect(addr).await.expect("connect");
        match i % 3 {
            // Nothing at all.
            0 => {}
            // Half a request line and headers.
            1 => socket
                .write_all(b"POST /webhooks/p100/exchange HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("write"),
            // Complete headers, a body that never comes.
            _ => socket
                .write_all(
                    format!(
                        "POST /webhooks/p100/exchange HTTP/1.1\r\nHost: x\r\nAuthorization: {TOKEN}\r\n\
                         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"exch"
                    )
                    .as_bytes(),
                )
                .await
                .expect("write"),
        }
        stalled.push(tokio::spawn(until_closed(socket)));
    }
    let mut timed_out_bodies = 0;
    for handle in stalled {
        let answer = handle.await.expect("task");
        if answer.starts_with("HTTP/1.1 408") {
            timed_out_bodies += 1;
        }
    }
    // Every connection was closed by the server, by the later of the two limits.
    assert!(
        start.elapsed() <= Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(timed_out_bodies, 333, "the stalled bodies are answered 408");

    // The server still answers a normal delivery.
    let mut socket = TcpStream::connect(addr).await.expect("connect");
    let body = r#"{"exchangeId":"3f0aeaa7-1177-4d77-9985-0cb987809801","status":"COMPLETED"}"#;
    socket
        .write_all(
            format!(
                "POST /webhooks/p100/exchange HTTP/1.1\r\nHost: x\r\nAuthorization: {TOKEN}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let answer = until_closed(socket).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
