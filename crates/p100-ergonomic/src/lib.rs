#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// The receiver's items exist only with the `axum` feature; the docs link to them anyway (docs.rs
// and CI build the docs with every feature, where the links are checked).
#![cfg_attr(not(feature = "axum"), allow(rustdoc::broken_intra_doc_links))]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
pub mod error;
pub mod lock;
pub mod retry;
pub mod upload;
pub mod wait;
pub mod webhooks;

pub use client::{Client, ClientBuilder, ConfigError, Environment};
pub use error::{ApiError, AuthFailure, Error, ErrorCode, ErrorKind, RawError};
pub use lock::{
    ExecuteAndWaitError, ExecuteRequest, Executed, LockError, LockPolicy, LockThenExecute,
    UnknownOutcome,
};
pub use retry::{Jitter, RetryPolicy};
pub use upload::{
    KycDocument, KycFilesUpload, PoaFilesUpload, PoaFilesUploaded, UploadError, UploadExt,
    UploadFile,
};
pub use wait::{
    FailureReason, Settled, StatusChange, StatusClass, WaitError, WaitPolicy, Waitable, Waiter,
};

pub use p100_api as raw_api;
pub use p100_api::types;

/// Compiles the workspace README's examples as doc tests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadmeExamples;
