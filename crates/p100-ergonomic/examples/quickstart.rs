//! Quickstart: create a user, fund it from the partner balance, lock a rate and exchange, wait
//! for the exchange to complete, and print the balances.
//!
//! ```text
//! cargo run -p p100-ergonomic --example quickstart
//! ```
//!
//! With `P100_API_KEY` unset it starts an in-process `p100-sandbox` (a local, stateful P100 on
//! 127.0.0.1) and needs no key and no network. With `P100_API_KEY` set it talks to P100 itself
//! (staging unless `P100_ENV=production` or `P100_BASE_URL` say otherwise) and moves real
//! (staging) money: read it first.

use anyhow::Context as _;
use p100_ergonomic::types::{CreateTransferRequest, UserBalances, UserCreateRequest};
use p100_ergonomic::{Amount, Client, Currency, WaitPolicy};
use p100_sandbox::Sandbox;

/// What the user is funded with, and what it exchanges (EUR → BTC).
const FUNDING: &str = "500.00";
const EXCHANGED: &str = "100";
const FROM: Currency = Currency::Eur;
const TO: Currency = Currency::Btc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();

    // 0. A client: the real API when a key is configured, else a local sandbox.
    let (client, _sandbox) = connect().await?;
    println!("0. client for {}", client.base_url());

    // 1. A user of the partner.
    let user = format!("quickstart-{}", uuid::Uuid::new_v4());
    client
        .user_create()
        .body(UserCreateRequest::builder().external_user_id(user.clone()))
        .send()
        .await
        .context("creating the user")?;
    println!("1. created user {user}");

    // 2. Fund it from the partner balance (an internal transfer), and wait until it settled.
    let transfer = client
        .transfer_create()
        .body(
            CreateTransferRequest::builder()
                .destination_external_user_id(user.clone())
                .amount(Amount::try_from(FUNDING)?)
                .currency(FROM.as_str()),
        )
        .send()
        .await
        .context("funding the user")?;
    let funded = client
        .wait_for_transfer(transfer.transfer_id)
        .policy(WaitPolicy::default())
        .await
        .context("waiting for the funding transfer")?;
    println!(
        "2. funded {user} with {FUNDING} {FROM}: transfer {} is {} after {} poll(s)",
        funded.id, funded.status, funded.polls
    );
    print_balances(&client, &user, "   balances before").await?;

    // 3. Lock a rate, execute the exchange before the lock expires, wait for the outcome.
    let done = client
        .exchange()
        .user(&user)
        .sell(Amount::try_from(EXCHANGED)?, FROM)
        .buy(TO)
        .send_and_wait(WaitPolicy::default())
        .await
        .context("exchanging")?;
    println!(
        "3. exchanged {EXCHANGED} {FROM} to {TO}: exchange {} is {} after {} poll(s) in {:.1?}",
        done.id, done.status, done.polls, done.elapsed
    );

    // 4. Where the money is now.
    print_balances(&client, &user, "4. balances after").await?;
    println!("final exchange status: {}", done.status);
    Ok(())
}

/// The client and, when it runs against the local sandbox, the sandbox (dropped = shut down).
async fn connect() -> anyhow::Result<(Client, Option<Sandbox>)> {
    if std::env::var_os("P100_API_KEY").is_some() {
        println!("P100_API_KEY is set: using the real P100 API");
        return Ok((Client::from_env()?, None));
    }
    let sandbox = Sandbox::start()
        .await
        .context("starting the local sandbox")?;
    println!(
        "P100_API_KEY is not set: using a local p100-sandbox at {}",
        sandbox.base_url()
    );
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .api_key(sandbox.api_key())
        .build()?;
    Ok((client, Some(sandbox)))
}

async fn print_balances(client: &Client, user: &str, title: &str) -> anyhow::Result<()> {
    let balances: UserBalances = client
        .user_get_balances()
        .external_user_id(user)
        .send()
        .await
        .context("reading the balances")?;
    let fiat = balances
        .fiat_balances
        .iter()
        .map(|b| (b.name.as_str(), b.amount.to_string()));
    let crypto = balances
        .crypto_balances
        .iter()
        .map(|b| (b.name.as_str(), b.amount.to_string()));
    let shown: Vec<String> = fiat
        .chain(crypto)
        .filter(|(name, _)| [FROM, TO].contains(&Currency::from(*name)))
        .map(|(name, amount)| format!("{amount} {name}"))
        .collect();
    println!("{title}: {}", shown.join(", "));
    Ok(())
}
