//! The same program on reqwest + serde by hand (see build_cost.sh).
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Balances {
    fiat_balances: Vec<Balance>,
}

#[derive(Deserialize)]
struct Balance {
    #[allow(dead_code)]
    amount: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    #[cfg(feature = "ring")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = std::env::var("P100_API_KEY")?;
    let balances: Balances = reqwest::Client::new()
        .get("https://partner-api-stage.p100.io/v1/user/balances/u1")
        .header("x-api-key", key)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    println!("{} fiat balances", balances.fiat_balances.len());
    Ok(())
}
