//! Typed P100 webhooks: what P100 POSTs to the partner's server, turned into typed events.
//!
//! P100 sends flat JSON with no event-name field, each kind to its own URL, with the partner's
//! secret token in the `Authorization` header, and retries a failed delivery after about 8, 16, 32
//! and 64 seconds ([`P100_RETRY_DELAYS`]). This module has the pieces a receiver needs:
//!
//! - [`WebhookKind`]: the 18 kinds, named as in P100's catalog (`"crypto_deposit"`, …);
//! - [`parse`] (bytes of a known kind → [`WebhookEvent`]) and [`detect`] (for a single URL that
//!   receives every kind: decides by shape, or says which kinds the body could be);
//! - [`verify_token`] / [`WebhookToken`]: the constant-time token check;
//! - [`DedupeKey`] and [`DedupeStore`]: the same event arrives again when P100 retries, and carries
//!   no event id, so it is recognised by its business id and status;
//! - with the `axum` feature, [`WebhookReceiver`]: a ready `axum::Router` doing all of the above
//!   and calling your async handler once per event, after answering 200 (at most once), or, with
//!   [`WebhookReceiver::acknowledging`] and an [`AcknowledgingHandler`], before answering, so
//!   that a failure is answered 500 and P100 delivers the event again (at least once);
//! - with the `postgres` feature, [`postgres`]: a [`DedupeStore`] shared by several instances,
//!   and exactly-once handling (the handler's writes committed with the event's key), with
//!   `axum` as [`WebhookReceiver::transactional`];
//! - [`testing::TestDelivery`]: valid deliveries for testing your own handler.
//!
//! What does not belong here: calling the API (the client), and waiting for a status by polling
//! (the waiters). The payload types themselves are generated from the spec (`p100_api::types`).
//!
//! ```
//! use p100_ergonomic::webhooks::{self, WebhookEvent, WebhookKind};
//!
//! let body = br#"{"externalUserId":"u-1","cryptoDepositId":"facc5951-bdc8-46bc-a01c-9b36f25be6af",
//!     "amount":0.001,"currency":"eth","status":"WAITING_FOR_TR_DATA",
//!     "transactionHash":"0x10d5","createdAt":"2025-03-20T11:34:37.646Z"}"#;
//! webhooks::verify_token("s3cret", Some("Bearer s3cret"))?;
//! match webhooks::parse(WebhookKind::CryptoDeposit, body)? {
//!     WebhookEvent::CryptoDeposit(deposit) => assert_eq!(deposit.amount.to_string(), "0.001"),
//!     other => unreachable!("{other:?}"),
//! }
//! # Ok::<(), webhooks::WebhookError>(())
//! ```

use std::time::Duration;

/// Calls `$m! { (Variant, "catalog_name", "Docs page title", PayloadType, Carrier), ... }` with
/// every kind, in the catalog's order, so that the kind and event enums cannot drift apart.
///
/// `Carrier` is what the [`WebhookEvent`] variant holds: the generated payload itself, or a `Box`
/// of it when the payload is larger than 64 bytes, or [`UndocumentedPayload`] for the kinds whose
/// fields were never documented (the generated type is a free-form map, which would read amounts
/// as binary floats). That keeps every event at 56 bytes, so that small events
/// are not moved around at the size of the largest (~300 bytes), and costs one allocation on the
/// large payloads, whose parse takes several times longer than that allocation (see
/// `benches/webhooks.rs`; `tests/webhook_parse.rs` guards the size).
macro_rules! with_webhook_kinds {
    ($m:ident) => {
        $m! {
            (UserBalanceGeneration, "user_balance_generation", "User Balance Generation Webhook", UserBalanceGenerationWebhook, p100_api::types::UserBalanceGenerationWebhook),
            (KycFileAdded, "kyc_file_added", "KYC File Added Webhook", KycFileAddedWebhook, p100_api::types::KycFileAddedWebhook),
            (PoaVerificationStatus, "poa_verification_status", "POA Verification Status Webhook", PoaVerificationStatusWebhook, p100_api::types::PoaVerificationStatusWebhook),
            (KycVerificationStatus, "kyc_verification_status", "KYC Verification Status Webhook", KycVerificationStatusWebhook, Box<p100_api::types::KycVerificationStatusWebhook>),
            (CreateWallet, "create_wallet", "Create Wallet Webhook", CreateWalletWebhook, crate::webhooks::UndocumentedPayload),
            (P2pTransfer, "p2p_transfer", "P2P Transfer Webhook", P2pTransferWebhook, Box<p100_api::types::P2pTransferWebhook>),
            (PartnerSepaTransfer, "partner_sepa_transfer", "Partner SEPA Transfer Webhook", PartnerSepaTransferWebhook, Box<p100_api::types::PartnerSepaTransferWebhook>),
            (UserSepaTransfer, "user_sepa_transfer", "User SEPA Transfer Webhook", UserSepaTransferWebhook, Box<p100_api::types::UserSepaTransferWebhook>),
            (SepaDeposit, "sepa_deposit", "SEPA Deposit Webhook", SepaDepositWebhook, crate::webhooks::UndocumentedPayload),
            (IbanStatus, "iban_status", "IBAN Status Webhook", IbanStatusWebhook, p100_api::types::IbanStatusWebhook),
            (CryptoWithdrawal, "crypto_withdrawal", "Crypto Withdrawal Webhook", CryptoWithdrawalWebhook, Box<p100_api::types::CryptoWithdrawalWebhook>),
            (CryptoDeposit, "crypto_deposit", "Crypto Deposit Webhook", CryptoDepositWebhook, Box<p100_api::types::CryptoDepositWebhook>),
            (Exchange, "exchange", "Exchange Webhook", ExchangeWebhook, p100_api::types::ExchangeWebhook),
            (CardTransaction, "card_transaction", "Card Transaction Webhook", CardTransactionWebhook, crate::webhooks::UndocumentedPayload),
            (OrderStatus, "order_status", "Order status Webhook", OrderStatusWebhook, p100_api::types::OrderStatusWebhook),
            (PaymentLink, "payment_link", "Payment Link Webhook", PaymentLinkWebhook, p100_api::types::PaymentLinkWebhook),
            (Card3dsCode, "card_3ds_code", "Card 3DS Code Webhook", Card3dsCodeWebhook, p100_api::types::Card3dsCodeWebhook),
            (CardActivationCode, "card_activation_code", "Card Activation Code Webhook", CardActivationCodeWebhook, Box<p100_api::types::CardActivationCodeWebhook>),
        }
    };
}

mod dedupe;
mod detect;
mod error;
mod kind;
mod parse;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "axum")]
mod receiver;
pub mod testing;
mod token;
mod undocumented;

pub use dedupe::{BoxError, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting};
pub use detect::detect;
pub use error::WebhookError;
pub use kind::WebhookKind;
pub use parse::{parse, WebhookEvent};
#[cfg(feature = "axum")]
pub use receiver::{
    Acknowledging, AcknowledgingHandler, WebhookHandler, WebhookReceiver,
    DEFAULT_HANDLER_TIME_LIMIT, DEFAULT_PATH,
};
pub use token::{verify_token, WebhookToken};
pub use undocumented::UndocumentedPayload;

/// P100's retry schedule: after a failed delivery (any answer but 200, or a timeout) it tries
/// again after about these delays, 5 attempts in all. Nothing is documented after the 5th.
pub const P100_RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(32),
    Duration::from_secs(64),
];
