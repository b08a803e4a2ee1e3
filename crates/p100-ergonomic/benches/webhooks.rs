//! `webhooks::parse` with the token check against a bare `serde_json::from_slice` into the same
//! generated type: the typed layer should cost next to nothing (target: throughput ratio ≥ 0.9).
//!
//! `cargo bench -p p100-ergonomic --bench webhooks`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use p100_ergonomic::types::{CryptoDepositWebhook, KycFileAddedWebhook, UserSepaTransferWebhook};
use p100_ergonomic::webhooks::{self, DedupeKey, WebhookKind, WebhookToken};
use serde::de::DeserializeOwned;

// The documented examples (tests/facts/webhooks.yaml), as P100 sends them.
const CRYPTO_DEPOSIT: &[u8] = br#"{"externalUserId":"8bdd8c8a-e9b7-475e-9690-8a34e8b78dab","cryptoDepositId":"facc5951-bdc8-46bc-a01c-9b36f25be6af","amount":0.001,"currency":"eth","status":"WAITING_FOR_TR_DATA","transactionHash":"0x10d5bd4367fd6623a16f56889abb3bb2352b8ea7df7b21537f1fc56fc2d07a87","createdAt":"2025-03-20T11:34:37.646Z"}"#;
const USER_SEPA_TRANSFER: &[u8] = br#"{"id":"123f6603-5a71-45c3-a222-1de369bb1c4d","type":"external","amount":"3.8","transferTitle":"Partner SEPA Transfer","destinationIban":"PL49109024028743516259813188","receiverFirstName":null,"receiverLastName":null,"status":"SUCCESSFUL","currency":"eur","fee":0,"createdAt":"2025-08-05T10:33:54.730Z"}"#;
const KYC_FILE_ADDED: &[u8] =
    br#"{"externalUserId":"bca65c48-df49-4831-a7b2-de7903321581","status":"ADDED"}"#;

const TOKEN: &str = "whsec-5b1f0e7c2a9d4e3f8a6b";
const AUTHORIZATION: &str = "whsec-5b1f0e7c2a9d4e3f8a6b";

fn compare<T: DeserializeOwned>(c: &mut Criterion, kind: WebhookKind, body: &'static [u8]) {
    let token = WebhookToken::new(TOKEN);
    let mut group = c.benchmark_group(format!("parse/{kind}"));
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(
        BenchmarkId::new("serde_json::from_slice", body.len()),
        |b| b.iter(|| serde_json::from_slice::<T>(black_box(body)).unwrap()),
    );
    group.bench_function(
        BenchmarkId::new("verify_token+webhooks::parse", body.len()),
        |b| {
            b.iter(|| {
                token.verify(Some(black_box(AUTHORIZATION))).unwrap();
                webhooks::parse(kind, black_box(body)).unwrap()
            })
        },
    );
    group.finish();
}

fn parse_vs_serde(c: &mut Criterion) {
    compare::<CryptoDepositWebhook>(c, WebhookKind::CryptoDeposit, CRYPTO_DEPOSIT);
    compare::<UserSepaTransferWebhook>(c, WebhookKind::UserSepaTransfer, USER_SEPA_TRANSFER);
    compare::<KycFileAddedWebhook>(c, WebhookKind::KycFileAdded, KYC_FILE_ADDED);
}

/// What a receiver does beyond parsing, for scale: detecting the kind and the dedupe key.
fn extras(c: &mut Criterion) {
    let event = webhooks::parse(WebhookKind::CryptoDeposit, CRYPTO_DEPOSIT).unwrap();
    let token = WebhookToken::new(TOKEN);
    let mut group = c.benchmark_group("extras/crypto_deposit");
    group.bench_function("verify_token", |b| {
        b.iter(|| token.verify(Some(black_box(AUTHORIZATION))).unwrap())
    });
    group.bench_function("detect", |b| {
        b.iter(|| webhooks::detect(black_box(CRYPTO_DEPOSIT)).unwrap())
    });
    group.bench_function("dedupe_key", |b| {
        b.iter(|| DedupeKey::for_delivery(black_box(&event), CRYPTO_DEPOSIT))
    });
    group.bench_function("dedupe_key_from_body", |b| {
        b.iter(|| DedupeKey::from_body(WebhookKind::CryptoDeposit, black_box(CRYPTO_DEPOSIT)))
    });
    group.finish();
}

criterion_group!(benches, parse_vs_serde, extras);
criterion_main!(benches);
