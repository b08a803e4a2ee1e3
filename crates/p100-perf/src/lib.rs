//! The per-call comparison shared by `benches/per_call.rs` (criterion, wall clock) and
//! `src/bin/per_call.rs` (fixed iteration counts for `callgrind.sh`): a keep-alive
//! loopback server that answers fixed documented bodies, and the same two calls made three
//! ways, each decoding into the same generated `p100_api` types:
//!
//! - `handwritten`: reqwest + serde by hand (what the SDK is measured against);
//! - `raw`: the generated client on a plain reqwest client;
//! - `ergonomic`: `p100_ergonomic::Client`'s operation methods
//!   (`client.user_get_balances().….send()`), the path every caller takes;
//! - `call`: the same client through `client.call(client.raw().….send())`, the path before the
//!   operations were on `Client` (kept to show that the new path costs no more).
//!
//! The call sites are the `*_get` / `*_post` functions below: change the ergonomic ones when
//! its API changes, and every measurement follows. All three use one reqwest configuration: the
//! SDK's (user agent, no redirects, 10 s connect timeout, 30 s timeout, `x-api-key`).

use std::net::SocketAddr;
use std::time::Duration;

use p100_ergonomic::types::{CreateTransferRequest, DecimalString, TransferCreated, UserBalances};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The documented example of Get Balances (tests/facts/gapfill-mirrors.yaml, "Get Balances"):
/// the partner's balances, the shape `user_get_balances` answers.
pub const BALANCES: &str = r#"{"fiatBalances":[{"id":"02ee1b09-9934-4dcc-8dec-91bf34b8f543","amount":"0.00","name":"eur","rate":1,"iban":"LT683130019950000568","status":"ACTIVE"}],"cryptoBalances":[{"id":"f2de1f4b-916f-417e-9410-8bf4a70693ee","amount":"0.000000","name":"usdc","wallet":"0x2e90ca5bbe46d5ae23f2df90457d020391b92673","rate":0.963728,"networkConfig":{"ethereum":{"mainnet":false,"name":"sepolia","withdrawal":{"feeWithdrawal":10,"minWithdrawal":15},"deposit":{"minDeposit":5}},"polygon":{"mainnet":false,"name":"amoy","withdrawal":{"feeWithdrawal":10,"minWithdrawal":15},"deposit":{"minDeposit":5}}}},{"id":"7415034b-3dcf-4f45-a213-ce6361c248aa","amount":"0.000000","name":"usdt","wallet":"0x2e90ca5bbe46d5ae23f2df90457d020391b92673","rate":0.963486,"networkConfig":{"ethereum":{"mainnet":false,"name":"sepolia","withdrawal":{"feeWithdrawal":10,"minWithdrawal":15},"deposit":{"minDeposit":5}},"polygon":{"mainnet":false,"name":"amoy","withdrawal":{"feeWithdrawal":10,"minWithdrawal":15},"deposit":{"minDeposit":5}}}}]}"#;

/// The documented answer of Create a Transfer (tests/facts/user-money.yaml).
pub const TRANSFER_CREATED: &str = r#"{"transferId":"7fb02323-969a-4936-94ea-86b8773ff1a2"}"#;

/// The documented example user (tests/facts/user-money.yaml, "Create a Transfer").
pub const USER: &str = "bca65c48-df49-4831-a7b2-de7903321581";

/// The key every client sends.
pub const API_KEY: &str = "bench-key";

/// One way of calling P100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// reqwest + serde by hand.
    Handwritten,
    /// The generated client.
    Raw,
    /// The ergonomic client's operation methods.
    Ergonomic,
    /// The ergonomic client's `call(raw)`.
    Call,
}

impl Variant {
    /// Every variant, the baseline first.
    pub const ALL: [Variant; 4] = [
        Variant::Handwritten,
        Variant::Raw,
        Variant::Ergonomic,
        Variant::Call,
    ];

    /// The variant's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Handwritten => "handwritten",
            Variant::Raw => "raw",
            Variant::Ergonomic => "ergonomic",
            Variant::Call => "call",
        }
    }

    /// The variant named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// Which call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `GET /v1/user/balances/{id}` into `UserBalances`.
    Get,
    /// `POST /v1/transfer` from a `CreateTransferRequest` into `TransferCreated`.
    Post,
}

impl Op {
    /// Both calls.
    pub const ALL: [Op; 2] = [Op::Get, Op::Post];

    /// The call's HTTP method.
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "GET",
            Op::Post => "POST",
        }
    }

    /// The call named `name` (`get` or `post`, any case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(name))
    }
}

/// The three clients, on one base URL.
pub struct Clients {
    base_url: String,
    http: reqwest::Client,
    raw: p100_api::Client,
    ergonomic: p100_ergonomic::Client,
    transfer: CreateTransferRequest,
}

impl Clients {
    /// The clients, all on `base_url`.
    pub fn new(base_url: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut key = reqwest::header::HeaderValue::from_static(API_KEY);
        key.set_sensitive(true);
        headers.insert("x-api-key", key);
        // The settings `p100_ergonomic::ClientBuilder::build` gives its own client, with the key
        // and the timeout on the client.
        let http = reqwest::Client::builder()
            .user_agent(p100_ergonomic::client::DEFAULT_USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(p100_ergonomic::client::DEFAULT_TIMEOUT)
            .default_headers(headers)
            .build()
            .expect("reqwest client");
        let raw = p100_api::Client::new_with_client(
            base_url,
            http.clone(),
            p100_api::Executor::default(),
        );
        let ergonomic = p100_ergonomic::Client::builder()
            .api_key(API_KEY)
            .base_url(base_url)
            .build()
            .expect("ergonomic client");
        let transfer = CreateTransferRequest {
            amount: "100".parse::<DecimalString>().expect("amount"),
            currency: "btc".into(),
            destination_external_user_id: Some(USER.into()),
            source_external_user_id: None,
        };
        Self {
            base_url: base_url.to_string(),
            http,
            raw,
            ergonomic,
            transfer,
        }
    }

    /// The size in bytes of each variant's call future, GET then POST (what every call
    /// creates and moves before its first poll).
    pub fn future_sizes(&self) -> Vec<(Variant, usize, usize)> {
        use std::mem::size_of_val;
        vec![
            (
                Variant::Handwritten,
                size_of_val(&handwritten_get(self)),
                size_of_val(&handwritten_post(self)),
            ),
            (
                Variant::Raw,
                size_of_val(&raw_get(self)),
                size_of_val(&raw_post(self)),
            ),
            (
                Variant::Ergonomic,
                size_of_val(&ergonomic_get(self)),
                size_of_val(&ergonomic_post(self)),
            ),
            (
                Variant::Call,
                size_of_val(&call_get(self)),
                size_of_val(&call_post(self)),
            ),
        ]
    }

    /// One call; panics on any failure (the server answers fixed bodies).
    pub async fn call(&self, variant: Variant, op: Op) {
        use std::hint::black_box;
        match (variant, op) {
            (Variant::Handwritten, Op::Get) => _ = black_box(handwritten_get(self).await),
            (Variant::Handwritten, Op::Post) => _ = black_box(handwritten_post(self).await),
            (Variant::Raw, Op::Get) => _ = black_box(raw_get(self).await),
            (Variant::Raw, Op::Post) => _ = black_box(raw_post(self).await),
            (Variant::Ergonomic, Op::Get) => _ = black_box(ergonomic_get(self).await),
            (Variant::Ergonomic, Op::Post) => _ = black_box(ergonomic_post(self).await),
            (Variant::Call, Op::Get) => _ = black_box(call_get(self).await),
            (Variant::Call, Op::Post) => _ = black_box(call_post(self).await),
        }
    }
}

// The call sites.

async fn handwritten_get(c: &Clients) -> UserBalances {
    c.http
        .get(format!("{}/v1/user/balances/{USER}", c.base_url))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("answer")
        .json()
        .await
        .expect("UserBalances")
}

async fn handwritten_post(c: &Clients) -> TransferCreated {
    // Every variant starts from a body made for the call (a clone of the same one), as a
    // program does: the SDK's builders take it by value, this one serializes it by reference.
    let body = c.transfer.clone();
    c.http
        .post(format!("{}/v1/transfer", c.base_url))
        .json(&body)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("answer")
        .json()
        .await
        .expect("TransferCreated")
}

async fn raw_get(c: &Clients) -> UserBalances {
    c.raw
        .user_get_balances()
        .external_user_id(USER)
        .send()
        .await
        .expect("answer")
        .into_inner()
}

async fn raw_post(c: &Clients) -> TransferCreated {
    c.raw
        .transfer_create()
        .body(c.transfer.clone())
        .send()
        .await
        .expect("answer")
        .into_inner()
}

async fn ergonomic_get(c: &Clients) -> UserBalances {
    c.ergonomic
        .user_get_balances()
        .external_user_id(USER)
        .send()
        .await
        .expect("answer")
}

async fn ergonomic_post(c: &Clients) -> TransferCreated {
    c.ergonomic
        .transfer_create()
        .body(c.transfer.clone())
        .send()
        .await
        .expect("answer")
}

async fn call_get(c: &Clients) -> UserBalances {
    let client = &c.ergonomic;
    client
        .call(
            client
                .raw()
                .user_get_balances()
                .external_user_id(USER)
                .send(),
        )
        .await
        .expect("answer")
}

async fn call_post(c: &Clients) -> TransferCreated {
    let client = &c.ergonomic;
    client
        .call(
            client
                .raw()
                .transfer_create()
                .body(c.transfer.clone())
                .send(),
        )
        .await
        .expect("answer")
}

/// A `fmt` subscriber at INFO that writes to nowhere: what formatting the SDK's span costs
/// without the cost of a terminal.
pub fn info_subscriber() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::sink)
        .finish()
}

/// Serves the fixed bodies on `listener` over keep-alive HTTP/1.1 until the task is dropped:
/// `GET /v1/user/balances/…` answers [`BALANCES`], `POST /v1/transfer` answers
/// [`TRANSFER_CREATED`] (201), anything else 404.
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let _ = socket.set_nodelay(true);
        tokio::spawn(connection(socket));
    }
}

/// Binds a loopback port for [`serve`].
pub async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    (listener, addr)
}

async fn connection(mut socket: TcpStream) {
    let get = answer("200 OK", BALANCES);
    let post = answer("201 Created", TRANSFER_CREATED);
    let missing = answer("404 Not Found", "{}");
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        // One request: headers, then `content-length` bytes of body.
        let (head_end, body_len) = loop {
            if let Some(end) = find(&buffer, b"\r\n\r\n") {
                break (end + 4, content_length(&buffer[..end]));
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        while buffer.len() < head_end + body_len {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        let reply = if buffer.starts_with(b"GET /v1/user/balances/") {
            &get
        } else if buffer.starts_with(b"POST /v1/transfer ") {
            &post
        } else {
            &missing
        };
        buffer.drain(..head_end + body_len);
        if socket.write_all(reply).await.is_err() {
            return;
        }
    }
}

fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}
