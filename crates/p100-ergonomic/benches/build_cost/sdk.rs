//! The downstream program on p100-ergonomic (see build_cost.sh).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = p100_ergonomic::Client::from_env()?;
    let balances = client
        .user_get_balances()
        .external_user_id("u1")
        .send()
        .await?;
    println!("{} fiat balances", balances.fiat_balances.len());
    Ok(())
}
