//! Typed [`httpmock`] helpers for the P100 raw client, generated from `spec/p100.yaml`.
//!
//! `MockServerExt` adds one method per operation to `httpmock::MockServer`, with `When`/`Then`
//! builders that take the generated request and response types, so tests of code built on
//! `p100-api` or `p100-ergonomic` cannot drift from the spec.
#![forbid(unsafe_code)]

// Formatted by the generator (prettyplease), not by rustfmt, so `cargo fmt` and
// `cargo xtask codegen --check` agree.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, unused_imports)]
mod generated;

pub use generated::*;
