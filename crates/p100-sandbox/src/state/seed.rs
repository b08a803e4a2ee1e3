//! What the seed decides: deterministic UUIDs, IBANs, wallet addresses and hashes, and the
//! records of the documented examples (`Config::seed_examples`), so the same seed always gives
//! the same sandbox.

use std::time::Duration;

use p100_api::types;
use uuid::Uuid;

use super::accounts::Holder;
use super::exchange::Exchange;
use super::kyc::Kyc;
use super::movement::Outcome;
use super::orders::{Order, OrderPhase};
use super::sepa::SepaTransfer;
use super::transfer::Transfer;
use super::users::Profile;
use super::State;
use crate::clock::VTime;
use crate::money;
use crate::rates::draw;

/// A deterministic UUID (v4 layout) from the seed and two keys.
pub(crate) fn uuid_from(seed: u64, a: u64, b: u64) -> Uuid {
    let hi = draw(seed, a, b);
    let lo = draw(seed ^ 0x5eed, b, a);
    uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
        .into_uuid()
}

pub(super) fn key_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(super) fn hex(seed: u64, a: u64, len: usize) -> String {
    let mut out = String::new();
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!("{:016x}", draw(seed, a, i)));
        i += 1;
    }
    out.truncate(len);
    out
}

pub(super) fn wallet_address(seed: u64, owner_key: u64, currency: &str) -> String {
    match currency {
        // One EVM address per holder, shared by eth, pol, usdc and usdt (as in the docs).
        "eth" | "pol" | "usdc" | "usdt" => format!("0x{}", hex(seed, owner_key ^ 0xe7, 40)),
        "btc" => format!("tb1q{}", hex(seed, owner_key ^ 0xb7c, 38)),
        "ltc" => format!("tltc1q{}", hex(seed, owner_key ^ 0x17c, 38)),
        _ => format!("n{}", hex(seed, owner_key ^ 0xd06e, 33)),
    }
}

fn digits(seed: u64, a: u64, len: usize) -> String {
    (0..len)
        .map(|i| char::from(b'0' + (draw(seed, a, i as u64) % 10) as u8))
        .collect()
}

pub(super) fn iban(seed: u64, owner_key: u64) -> String {
    format!(
        "LT{}{}",
        digits(seed, owner_key ^ 0x1ba, 2),
        digits(seed, owner_key ^ 0x1bb, 16)
    )
}

impl State {
    /// The ids the docs use in their examples answer: users, an exchange, internal and SEPA
    /// transfers, an order (all settled), so a newcomer can call the documented URLs as shown.
    pub(super) fn seed_examples(&mut self, now: VTime) {
        let users = [
            (
                "bca65c48-df49-4831-a7b2-de7903321581",
                "johndoe@gmail.com",
                "John",
                "Doe",
            ),
            (
                "f9b430dc-7e1a-42a0-bbb4-9003935ea9f9",
                "jan.kowalski@example.pl",
                "Jan",
                "Kowalski",
            ),
            (
                "8bdd8c8a-e9b7-475e-9690-8a34e8b78dab",
                "Giovani34@yahoo.com",
                "Will",
                "Hahn",
            ),
            (
                "1d3c8a13-a2bf-4f0a-9631-723dfe892675",
                "kyc@example.com",
                "Kim",
                "Yates",
            ),
            (
                "f47ac10b-58cc-4372-a567-0e02b2c3d479",
                "poa@example.com",
                "Paula",
                "Owens",
            ),
        ];
        for (id, email, first, last) in users {
            let profile = Profile {
                email: Some(email.into()),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                country: Some("PL".into()),
                ..Profile::default()
            };
            let mut user = self.new_user(id, true, profile);
            user.fiat_status = types::BalanceStatus::Active;
            user.iban = Some(iban(self.seed, key_of(id) ^ 0xac71));
            user.kyc = Some(Kyc {
                verification_id: Some(uuid_from(self.seed, key_of(id), 5).to_string()),
                verification: types::KycVerificationStatus::Verified,
                attempt: types::KycAttemptStatus::Successful,
                rejection: None,
            });
            self.users.insert(id.to_string(), user);
        }
        let uuid = |s: &str| Uuid::parse_str(s).unwrap_or_default();
        let lock_id = uuid("ee7b2f0f-0ffb-4fce-8fb3-66db2ca1f461");
        self.exchanges.insert(
            uuid("3f0aeaa7-1177-4d77-9985-0cb987809801"),
            Exchange {
                owner: Holder::Partner,
                amount: money::dec("10"),
                from: "eth".into(),
                to: "eur".into(),
                lock_id,
                rate: money::base_rate("eth"),
                amount_to: money::quantize("eur", money::base_rate("eth") * money::dec("9.851")),
                reserved: true,
                outcome: Outcome::Done,
                created_at: now,
            },
        );
        self.transfers.insert(
            uuid("7fb02323-969a-4936-94ea-86b8773ff1a2"),
            Transfer {
                source: None,
                destination: Some("bca65c48-df49-4831-a7b2-de7903321581".into()),
                amount: money::dec("100"),
                currency: "btc".into(),
                reserved: true,
                outcome: Outcome::Done,
                created_at: now,
            },
        );
        self.sepa.insert(
            uuid("7fb02323-969a-4936-94ea-86b8773ff1a2"),
            SepaTransfer {
                owner: Holder::User("8bdd8c8a-e9b7-475e-9690-8a34e8b78dab".into()),
                amount: money::dec("16.02"),
                fee: money::dec("1.00"),
                currency: "eur".into(),
                title: "Bank Transfer".into(),
                iban: "PL09102044050000210205531111".into(),
                first_name: Some("John".into()),
                last_name: Some("Doe".into()),
                reserved: true,
                outcome: Outcome::Done,
                created_at: now,
            },
        );
        self.orders.insert(
            uuid("a44a0805-dd40-4dc4-80d7-8bc81783ec42"),
            Order {
                lock_id: uuid("8b94a8f6-1c9d-4a6f-92c8-5f6d9e72a123"),
                currency: "usdc".into(),
                network: "polygon".into(),
                fiat_amount: money::dec("858.24"),
                crypto_amount: money::dec("1000"),
                phase: OrderPhase::WaitingForConfirmation,
                wallet: Some("0xE353464eBa01d651c16D8879cbCaE1C80568705C".into()),
                tx_hash: Some(
                    "0x84a1234b3b251ab02f1735c634eacab43a282dcbdebf22c1eb0634f5678695cd".into(),
                ),
                received: money::dec("849.39"),
                confirmations: 1,
                created_at: now,
                expires_at: Some(now.saturating_add(Duration::from_secs(30 * 60))),
            },
        );
    }
}
