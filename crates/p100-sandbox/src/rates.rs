//! Exchange rates: a deterministic walk from the docs' example rates.
//!
//! The rate of a currency at step `k` is its base rate times `1 + Σ δ_j` over the last
//! [`WINDOW`] steps, each `δ_j` in ±0.25 % drawn from `(seed, currency, j)`. Consecutive steps
//! differ by one increment (a walk), rates stay within ±`WINDOW`·0.25 % of the base, any step
//! is computed in constant time, and the same seed always gives the same rates.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::clock::VTime;
use crate::money;

const WINDOW: u64 = 16;

/// SplitMix64: a tiny, good-enough deterministic mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn currency_key(currency: &str) -> u64 {
    // FNV-1a
    currency.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A pseudo-random number from `(seed, a, b)`.
pub(crate) fn draw(seed: u64, a: u64, b: u64) -> u64 {
    mix(seed ^ mix(a ^ mix(b)))
}

#[derive(Debug, Clone)]
pub(crate) struct RateWalk {
    seed: u64,
    step: Duration,
}

impl RateWalk {
    pub(crate) fn new(seed: u64, step: Duration) -> Self {
        Self { seed, step }
    }

    fn delta(&self, currency: &str, j: u64) -> Decimal {
        // -2500..=2500 millionths: ±0.25 %
        let r = draw(self.seed, currency_key(currency), j) % 5001;
        Decimal::new(r as i64 - 2500, 6)
    }

    /// The rate of `currency` against EUR at sandbox time `at`.
    pub(crate) fn rate(&self, currency: &str, at: VTime) -> Decimal {
        if currency == "eur" {
            return Decimal::ONE;
        }
        let k = (at.as_nanos() / self.step.as_nanos().max(1)) as u64;
        let from = k.saturating_sub(WINDOW - 1);
        let drift: Decimal = (from..=k).map(|j| self.delta(currency, j)).sum();
        let dp = if money::precision(currency) == 6 {
            6
        } else {
            8
        };
        (money::base_rate(currency) * (Decimal::ONE + drift)).round_dp(dp)
    }

    /// Every rate at `at`.
    pub(crate) fn rates(&self, at: VTime) -> BTreeMap<String, Decimal> {
        money::CURRENCIES
            .iter()
            .map(|c| ((*c).to_string(), self.rate(c, at)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_rates_and_eur_is_one() {
        let a = RateWalk::new(7, Duration::from_secs(10));
        let b = RateWalk::new(7, Duration::from_secs(10));
        let t = Duration::from_secs(12345);
        assert_eq!(a.rates(t), b.rates(t));
        assert_eq!(a.rate("eur", t), Decimal::ONE);
        let c = RateWalk::new(8, Duration::from_secs(10));
        assert_ne!(a.rates(t), c.rates(t));
    }

    #[test]
    fn the_walk_stays_near_the_base() {
        let w = RateWalk::new(1, Duration::from_secs(10));
        for s in 0..500 {
            let r = w.rate("btc", Duration::from_secs(s * 10));
            let base = money::base_rate("btc");
            assert!((r - base).abs() < base * Decimal::new(5, 2), "{r}");
        }
    }
}
