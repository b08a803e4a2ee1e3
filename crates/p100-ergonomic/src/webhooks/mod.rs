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
//!   and calling your async handler once per event;
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

/// Calls `$m! { (Variant, "catalog_name", "Docs page title", PayloadType), ... }` with every kind,
/// in the catalog's order, so that the kind and event enums cannot drift apart.
macro_rules! with_webhook_kinds {
    ($m:ident) => {
        $m! {
            (UserBalanceGeneration, "user_balance_generation", "User Balance Generation Webhook", UserBalanceGenerationWebhook),
            (KycFileAdded, "kyc_file_added", "KYC File Added Webhook", KycFileAddedWebhook),
            (PoaVerificationStatus, "poa_verification_status", "POA Verification Status Webhook", PoaVerificationStatusWebhook),
            (KycVerificationStatus, "kyc_verification_status", "KYC Verification Status Webhook", KycVerificationStatusWebhook),
            (CreateWallet, "create_wallet", "Create Wallet Webhook", CreateWalletWebhook),
            (P2pTransfer, "p2p_transfer", "P2P Transfer Webhook", P2pTransferWebhook),
            (PartnerSepaTransfer, "partner_sepa_transfer", "Partner SEPA Transfer Webhook", PartnerSepaTransferWebhook),
            (UserSepaTransfer, "user_sepa_transfer", "User SEPA Transfer Webhook", UserSepaTransferWebhook),
            (SepaDeposit, "sepa_deposit", "SEPA Deposit Webhook", SepaDepositWebhook),
            (IbanStatus, "iban_status", "IBAN Status Webhook", IbanStatusWebhook),
            (CryptoWithdrawal, "crypto_withdrawal", "Crypto Withdrawal Webhook", CryptoWithdrawalWebhook),
            (CryptoDeposit, "crypto_deposit", "Crypto Deposit Webhook", CryptoDepositWebhook),
            (Exchange, "exchange", "Exchange Webhook", ExchangeWebhook),
            (CardTransaction, "card_transaction", "Card Transaction Webhook", CardTransactionWebhook),
            (OrderStatus, "order_status", "Order status Webhook", OrderStatusWebhook),
            (PaymentLink, "payment_link", "Payment Link Webhook", PaymentLinkWebhook),
            (Card3dsCode, "card_3ds_code", "Card 3DS Code Webhook", Card3dsCodeWebhook),
            (CardActivationCode, "card_activation_code", "Card Activation Code Webhook", CardActivationCodeWebhook),
        }
    };
}

mod dedupe;
mod detect;
mod error;
mod kind;
mod parse;
#[cfg(feature = "axum")]
mod receiver;
pub mod testing;
mod token;

pub use dedupe::{BoxError, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting};
pub use detect::detect;
pub use error::WebhookError;
pub use kind::WebhookKind;
pub use parse::{parse, WebhookEvent};
#[cfg(feature = "axum")]
pub use receiver::{WebhookHandler, WebhookReceiver, DEFAULT_PATH};
pub use token::{verify_token, WebhookToken};

/// P100's retry schedule: after a failed delivery (any answer but 200, or a timeout) it tries
/// again after about these delays, 5 attempts in all. Nothing is documented after the 5th.
pub const P100_RETRY_DELAYS: [Duration; 4] = [
    Duration::from_secs(8),
    Duration::from_secs(16),
    Duration::from_secs(32),
    Duration::from_secs(64),
];
