//! Currencies, their precision, networks and fees, as the facts show them (staging values).
//!
//! Currencies: the codes of the current rate-lock example (btc, doge, eth, eur, ltc, pol, usdc,
//! usdt). Fees: the Fees guide (exchange 1.49 %, SEPA 0.1 % min EUR 1.00, fixed withdrawal
//! service fees per currency and network); the USDT rows, missing from the guide, copy USDC.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use p100_api::types::{self, DecimalNumber};
use rust_decimal::Decimal;

/// Every currency the sandbox holds balances in and quotes rates for.
pub(crate) const CURRENCIES: [&str; 8] =
    ["btc", "doge", "eth", "eur", "ltc", "pol", "usdc", "usdt"];

/// Crypto currencies (every currency but eur).
pub(crate) fn crypto_currencies() -> impl Iterator<Item = &'static str> {
    CURRENCIES.iter().copied().filter(|c| *c != "eur")
}

pub(crate) fn is_supported(currency: &str) -> bool {
    CURRENCIES.contains(&currency)
}

/// Decimal places a balance of this currency shows (examples: eur "0.00", usdc "0.000000",
/// others "0.00000000").
pub(crate) fn precision(currency: &str) -> u32 {
    match currency {
        "eur" => 2,
        "usdc" | "usdt" => 6,
        _ => 8,
    }
}

/// `amount` rounded down to the currency's precision, with exactly that many decimals.
pub(crate) fn quantize(currency: &str, amount: Decimal) -> Decimal {
    let dp = precision(currency);
    let mut q = amount.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::ToZero);
    q.rescale(dp);
    q
}

/// `amount` as the decimal string a balance shows.
pub(crate) fn amount_string(currency: &str, amount: Decimal) -> types::DecimalString {
    types::DecimalString(quantize(currency, amount))
}

/// The largest amount a request may carry: far above any real balance, far below where exact
/// decimal arithmetic would overflow.
pub(crate) fn max_amount() -> Decimal {
    Decimal::from(1_000_000_000_000_000_i64)
}

/// An amount the sandbox reads as text (its own routes, its configuration), by the rules of
/// every decimal of the API (`p100_api::types::DecimalString`): plain decimal notation, exact.
/// The error names the value and says why.
pub(crate) fn parse_amount(text: &str) -> Result<Decimal, String> {
    text.parse::<types::DecimalString>()
        .map(types::DecimalString::value)
        .map_err(|e| e.to_string())
}

pub(crate) fn dec(text: &str) -> Decimal {
    // Only called with the literals of this module.
    Decimal::from_str(text).unwrap_or_default()
}

/// Rates against EUR of the current docs' lock example: the start of the walk.
pub(crate) fn base_rate(currency: &str) -> Decimal {
    dec(match currency {
        "btc" => "101970.17793043",
        "doge" => "0.20671822",
        "eth" => "3329.10789425",
        "ltc" => "97.30869146",
        "pol" => "0.20288041",
        "usdc" => "0.858243",
        "usdt" => "0.858286",
        _ => "1",
    })
}

/// The exchange fee of every lock (percent).
pub(crate) fn exchange_fee_percentage() -> Decimal {
    dec("1.49")
}

/// SEPA transfer fee: 0.1 %, at least EUR 1.00.
pub(crate) fn sepa_fee(amount: Decimal) -> Decimal {
    let fee = (amount * dec("0.001")).round_dp(2);
    fee.max(dec("1.00"))
}

/// The networks a currency can be withdrawn on, the default first.
pub(crate) fn networks(currency: &str) -> &'static [&'static str] {
    match currency {
        "btc" => &["bitcoin"],
        "doge" => &["dogecoin"],
        "eth" => &["ethereum"],
        "ltc" => &["litecoin"],
        "pol" => &["polygon"],
        "usdc" | "usdt" => &["ethereum", "polygon"],
        _ => &[],
    }
}

/// Picks the network of a withdrawal: the default, or the one asked for (case-insensitive).
pub(crate) fn network_for(currency: &str, asked: Option<&str>) -> Result<&'static str, String> {
    let available = networks(currency);
    match asked {
        None => available
            .first()
            .copied()
            .ok_or_else(|| format!("{currency} cannot be withdrawn")),
        Some(name) => available
            .iter()
            .copied()
            .find(|n| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                format!(
                    "network must be one of {} for {currency}, not {name:?}",
                    available.join(", ")
                )
            }),
    }
}

/// Fixed P100 service fee per withdrawal (Fees guide).
pub(crate) fn withdrawal_fee(currency: &str, network: &str) -> Decimal {
    dec(match (currency, network) {
        ("btc", _) => "0.0003",
        ("eth", _) => "0.003",
        ("ltc", _) => "0.002",
        ("doge", _) => "5",
        ("pol", _) => "0.5",
        ("usdc" | "usdt", "polygon") => "0.5",
        ("usdc" | "usdt", _) => "10",
        _ => "0",
    })
}

pub(crate) fn min_withdrawal(currency: &str) -> Decimal {
    dec(match currency {
        "btc" => "0.0005",
        "eth" => "0.005",
        "ltc" => "0.01",
        "doge" => "10",
        "pol" => "1",
        _ => "15",
    })
}

pub(crate) fn min_deposit(currency: &str) -> Decimal {
    dec(match currency {
        "btc" => "0.0001",
        "eth" => "0.001",
        "ltc" => "0.01",
        "doge" => "5",
        "pol" => "1",
        _ => "5",
    })
}

/// Dynamic network fee (here: fixed per currency and network, like the docs' example 0.000469).
pub(crate) fn network_fee(currency: &str, network: &str) -> Decimal {
    dec(match (currency, network) {
        ("btc", _) => "0.00002",
        ("eth", _) => "0.000469",
        ("ltc", _) => "0.0001",
        ("doge", _) => "1",
        ("pol", _) => "0.01",
        ("usdc" | "usdt", "polygon") => "0.05",
        ("usdc" | "usdt", _) => "3.2",
        _ => "0",
    })
}

/// Testnet chain names of the staging examples.
fn chain_name(network: &str) -> &'static str {
    match network {
        "ethereum" => "sepolia",
        "polygon" => "amoy",
        _ => "test",
    }
}

/// The `networkConfig` of a crypto balance.
pub(crate) fn network_config(currency: &str) -> HashMap<String, types::BalanceNetworkConfig> {
    networks(currency)
        .iter()
        .map(|network| {
            (
                (*network).to_string(),
                types::BalanceNetworkConfig {
                    mainnet: Some(false),
                    name: Some(chain_name(network).to_string()),
                    withdrawal: Some(types::BalanceNetworkWithdrawal {
                        fee_withdrawal: Some(DecimalNumber(withdrawal_fee(currency, network))),
                        min_withdrawal: Some(DecimalNumber(min_withdrawal(currency))),
                    }),
                    deposit: Some(types::BalanceNetworkDeposit {
                        min_deposit: Some(DecimalNumber(min_deposit(currency))),
                    }),
                },
            )
        })
        .collect()
}

/// The partner's starting balances: generous amounts of every currency.
pub(crate) fn default_partner_balances() -> BTreeMap<String, String> {
    [
        ("btc", "100.00000000"),
        ("doge", "10000000.00000000"),
        ("eth", "1000.00000000"),
        ("eur", "1000000.00"),
        ("ltc", "10000.00000000"),
        ("pol", "10000000.00000000"),
        ("usdc", "1000000.000000"),
        ("usdt", "1000000.000000"),
    ]
    .into_iter()
    .map(|(c, a)| (c.to_string(), a.to_string()))
    .collect()
}
