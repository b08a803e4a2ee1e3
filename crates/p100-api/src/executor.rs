//! How the generated client sends a request: by default with its `reqwest::Client`; a caller
//! (such as `p100-ergonomic`) can plug in an [`Execute`] implementation that adds authentication,
//! retries and tracing to every generated operation.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};

/// The future an [`Execute`] implementation returns.
pub type ExecuteFuture<'a> =
    Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send + 'a>>;

/// Sends one request of a generated operation and returns the response to decode.
///
/// `info.operation_id` is the spec's `operationId`, so an implementation can tell safe-to-repeat
/// operations from the others.
pub trait Execute: Send + Sync + 'static {
    /// Sends `request` (built by the generated code) with `client` or otherwise.
    fn execute<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        info: &'a OperationInfo,
    ) -> ExecuteFuture<'a>;
}

/// The request executor a [`crate::Client`] carries: the plain `reqwest::Client` by default.
///
/// ```
/// let client = p100_api::Client::new("https://partner-api-stage.p100.io", p100_api::Executor::default());
/// assert_eq!(client.baseurl(), "https://partner-api-stage.p100.io");
/// # use p100_api::ClientInfo;
/// ```
#[derive(Clone, Default)]
pub struct Executor(Option<Arc<dyn Execute>>);

impl Executor {
    /// Sends every request through `execute`.
    pub fn new(execute: impl Execute) -> Self {
        Self(Some(Arc::new(execute)))
    }

    /// Sends every request through a shared `execute`.
    pub fn from_arc(execute: Arc<dyn Execute>) -> Self {
        Self(Some(execute))
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Some(_) => "Executor(custom)",
            None => "Executor(reqwest)",
        })
    }
}

impl ClientHooks<Executor> for crate::Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.inner().0 {
            Some(execute) => execute.execute(self.client(), request, info).await,
            None => self.client().execute(request).await,
        }
    }
}
