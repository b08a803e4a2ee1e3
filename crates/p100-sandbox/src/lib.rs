#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
mod api;
pub mod cli;
mod clock;
pub mod config;
mod error;
pub mod faults;
mod money;
mod rates;
mod server;
mod state;
pub mod webhooks;

pub use config::{Config, ConfigError, KycOutcome, Retention, WebhookConfig};
pub use faults::{Fault, FaultRule};
pub use server::{Sandbox, StartError};
pub use state::Holder;
pub use webhooks::{Delivery, DeliveryAttempt, DeliveryState, WEBHOOK_KINDS};

/// The `operationId` of every operation the sandbox serves (all of `spec/p100.yaml`).
pub fn operation_ids() -> impl Iterator<Item = &'static str> {
    api::OPERATIONS.iter().map(|op| op.operation_id)
}
