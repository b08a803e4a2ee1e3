#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Lets the generated code name its replaced types by one absolute path (`::p100_api::types::X`)
// that also works from the generated httpmock crate.
extern crate self as p100_api;

mod decimal;
mod executor;
// Formatted by the generator (prettyplease), not by rustfmt, so `cargo fmt` and
// `cargo xtask codegen --check` agree.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_imports)]
mod generated;

pub use executor::{Execute, ExecuteFuture, Executor};
pub use generated::*;

/// Every request and response type: the generated ones, the open enums and the exact decimals.
pub mod types {
    pub use crate::decimal::{DecimalNumber, DecimalString, ParseDecimalError};
    pub use crate::generated::enums::*;
    pub use crate::generated::types::*;
}

/// Re-exported so that callers name the same `OperationInfo` the generated client passes to
/// [`Execute`].
pub use progenitor_client::OperationInfo;
