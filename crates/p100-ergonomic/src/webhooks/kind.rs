//! [`WebhookKind`]: which webhook a delivery is, and what the spec knows about each kind (the
//! fields of its body and the fields that identify one event). The tables here are checked
//! against `spec/p100.yaml` by the tests.

use std::fmt;
use std::str::FromStr;

use super::WebhookError;

macro_rules! define_kind {
    ($(($variant:ident, $name:literal, $title:literal, $payload:ident, $carrier:ty)),* $(,)?) => {
        /// One kind of webhook, as named in P100's catalog. P100 delivers each kind to its own URL
        /// and puts no event name in the body, so the kind comes from where the body arrived.
        ///
        /// `Display` and `FromStr` use the catalog's names (`"crypto_deposit"`); serde does too.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum WebhookKind {
            $(
                #[doc = concat!("`", $name, "`: the ", $title, " (payload `", stringify!($carrier), "`).")]
                $variant,
            )*
        }

        impl WebhookKind {
            /// Every kind, in the catalog's order.
            pub const ALL: &'static [WebhookKind] = &[$(WebhookKind::$variant),*];

            /// The catalog's name of the kind (`"crypto_deposit"`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(WebhookKind::$variant => $name,)*
                }
            }

            /// The title of the kind's page in P100's docs (`"Crypto Deposit Webhook"`).
            pub const fn title(self) -> &'static str {
                match self {
                    $(WebhookKind::$variant => $title,)*
                }
            }
        }

        impl FromStr for WebhookKind {
            type Err = WebhookError;

            /// Reads a catalog name (`"crypto_deposit"`); exact, case-sensitive.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(WebhookKind::$variant),)*
                    _ => Err(WebhookError::UnknownKind { name: s.chars().take(64).collect() }),
                }
            }
        }
    };
}

with_webhook_kinds!(define_kind);

impl WebhookKind {
    /// The body fields that identify one event of this kind, from the spec's
    /// `x-p100-dedupe-key` (business id + status, since P100 sends no event id). Empty for the
    /// kinds whose fields are unknown or carry no id: those are deduplicated on the whole body.
    pub const fn dedupe_fields(self) -> &'static [&'static str] {
        use WebhookKind as K;
        match self {
            K::UserBalanceGeneration | K::KycFileAdded | K::PoaVerificationStatus => {
                &["externalUserId", "status"]
            }
            K::KycVerificationStatus => &[
                "externalUserId",
                "verificationStatus",
                "attemptStatus",
                "rejectionReason",
            ],
            K::P2pTransfer | K::PartnerSepaTransfer | K::UserSepaTransfer | K::CryptoWithdrawal => {
                &["id", "status"]
            }
            K::CryptoDeposit => &["cryptoDepositId", "status"],
            K::Exchange => &["exchangeId", "status"],
            K::OrderStatus => &["orderId", "status"],
            K::PaymentLink => &["paymentLinkId", "status"],
            K::Card3dsCode => &["externalUserId", "code"],
            K::CardActivationCode => &["cardId", "code"],
            K::CreateWallet | K::SepaDeposit | K::IbanStatus | K::CardTransaction => &[],
        }
    }

    /// The body fields the spec names for this kind (its schema's `properties`). Empty for the
    /// kinds whose body was never seen (`create_wallet`, `sepa_deposit`, `card_transaction`):
    /// their payload keeps every field as free-form JSON.
    pub const fn known_fields(self) -> &'static [&'static str] {
        use WebhookKind as K;
        const SEPA: &[&str] = &[
            "id",
            "type",
            "amount",
            "transferTitle",
            "destinationIban",
            "receiverFirstName",
            "receiverLastName",
            "status",
            "currency",
            "fee",
            "createdAt",
            "error",
        ];
        match self {
            K::UserBalanceGeneration | K::KycFileAdded | K::PoaVerificationStatus => {
                &["externalUserId", "status"]
            }
            K::KycVerificationStatus => &[
                "externalUserId",
                "verificationStatus",
                "attemptStatus",
                "rejectionReason",
            ],
            K::P2pTransfer => &[
                "id",
                "sourceExternalUserId",
                "destinationExternalUserId",
                "amount",
                "currency",
                "status",
                "createdAt",
                "error",
            ],
            K::PartnerSepaTransfer | K::UserSepaTransfer => SEPA,
            K::IbanStatus => &["status"],
            K::CryptoWithdrawal => &[
                "id",
                "amount",
                "fee",
                "destination",
                "status",
                "transactionHash",
                "currency",
                "createdAt",
                "user",
            ],
            K::CryptoDeposit => &[
                "externalUserId",
                "cryptoDepositId",
                "amount",
                "currency",
                "status",
                "transactionHash",
                "createdAt",
            ],
            K::Exchange => &["exchangeId", "status"],
            K::OrderStatus => &["orderId", "status"],
            K::PaymentLink => &["paymentLinkId", "status"],
            K::Card3dsCode => &["externalUserId", "code"],
            K::CardActivationCode => &["externalUserId", "cardId", "code"],
            K::CreateWallet | K::SepaDeposit | K::CardTransaction => &[],
        }
    }

    /// The fields the spec marks required for this kind: a body without one of them does not
    /// parse as this kind.
    pub const fn required_fields(self) -> &'static [&'static str] {
        use WebhookKind as K;
        match self {
            K::UserBalanceGeneration | K::KycFileAdded => &["externalUserId", "status"],
            K::KycVerificationStatus => &["externalUserId", "verificationStatus", "attemptStatus"],
            K::P2pTransfer => &["id", "amount", "currency", "status", "createdAt"],
            K::UserSepaTransfer | K::CryptoWithdrawal => &["id", "status"],
            K::CryptoDeposit => &[
                "externalUserId",
                "cryptoDepositId",
                "amount",
                "currency",
                "status",
                "transactionHash",
                "createdAt",
            ],
            K::PoaVerificationStatus
            | K::CreateWallet
            | K::PartnerSepaTransfer
            | K::SepaDeposit
            | K::IbanStatus
            | K::Exchange
            | K::CardTransaction
            | K::OrderStatus
            | K::PaymentLink
            | K::Card3dsCode
            | K::CardActivationCode => &[],
        }
    }

    /// Whether the kind's `status` field documents `value`: `Some(true)` if listed, `Some(false)`
    /// if the kind has a closed list without it, `None` if the kind's statuses are unknown (or it
    /// has no `status` field).
    pub(crate) fn documents_status(self, value: &str) -> Option<bool> {
        use p100_api::types as t;
        use WebhookKind as K;
        let known = match self {
            K::UserBalanceGeneration => !t::BalanceStatus::from(value).is_unknown(),
            K::KycFileAdded => !t::KycFileStatus::from(value).is_unknown(),
            K::PoaVerificationStatus => !t::PoaVerificationStatus::from(value).is_unknown(),
            K::P2pTransfer => !t::TransferStatus::from(value).is_unknown(),
            K::PartnerSepaTransfer | K::UserSepaTransfer => {
                !t::SepaTransferStatus::from(value).is_unknown()
            }
            K::IbanStatus => !t::IbanStatus::from(value).is_unknown(),
            K::CryptoDeposit => !t::CryptoDepositStatus::from(value).is_unknown(),
            K::Exchange => !t::ExchangeStatus::from(value).is_unknown(),
            K::OrderStatus => !t::OrderStatus::from(value).is_unknown(),
            K::KycVerificationStatus
            | K::CreateWallet
            | K::SepaDeposit
            | K::CryptoWithdrawal
            | K::CardTransaction
            | K::PaymentLink
            | K::Card3dsCode
            | K::CardActivationCode => return None,
        };
        Some(known)
    }
}

impl fmt::Display for WebhookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for WebhookKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for WebhookKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}
