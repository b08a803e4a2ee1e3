//! Valid deliveries for testing your own webhook handler, the way P100 sends them: a POST to the
//! kind's path with the token in `Authorization` and the flat JSON body.
//!
//! ```
//! use p100_ergonomic::webhooks::testing::TestDelivery;
//! use p100_ergonomic::webhooks::WebhookKind;
//!
//! let request: http::Request<Vec<u8>> =
//!     TestDelivery::new(WebhookKind::KycFileAdded, r#"{"externalUserId":"u-1","status":"ADDED"}"#)
//!         .token("s3cret")
//!         .into_request();
//! assert_eq!(request.uri(), "/webhooks/p100/kyc_file_added");
//! assert_eq!(request.headers()["authorization"], "s3cret");
//! ```

use super::{WebhookEvent, WebhookKind};

/// One delivery as P100 would make it, to send to your router (e.g. with
/// `tower::ServiceExt::oneshot`) or to feed to your own handler.
#[derive(Clone, Debug)]
pub struct TestDelivery {
    kind: WebhookKind,
    body: Vec<u8>,
    authorization: Option<String>,
    path: String,
}

impl TestDelivery {
    /// A delivery of `kind` with this body, to the default path
    /// (`/webhooks/p100/{kind}`), without a token until [`token`](Self::token) is called.
    pub fn new(kind: WebhookKind, body: impl Into<Vec<u8>>) -> Self {
        Self {
            kind,
            body: body.into(),
            authorization: None,
            path: "/webhooks/p100/{kind}".to_owned(),
        }
    }

    /// A delivery of `event`, its payload serialized as P100 sends it (flat JSON).
    pub fn of_event(event: &WebhookEvent) -> Self {
        // Serializing generated payloads (strings, decimals, maps with string keys) cannot fail.
        let body = serde_json::to_vec(event).unwrap_or_default();
        Self::new(event.kind(), body)
    }

    /// Sends the token as P100 does: the raw token in the `Authorization` header.
    pub fn token(self, token: &str) -> Self {
        self.authorization(token)
    }

    /// Sets the `Authorization` header to exactly `value` (e.g. `Bearer …`, or a wrong token).
    pub fn authorization(mut self, value: &str) -> Self {
        self.authorization = Some(value.to_owned());
        self
    }

    /// The path template the receiver mounts (default `/webhooks/p100/{kind}`); `{kind}` is
    /// replaced by the kind's name.
    pub fn path(mut self, template: &str) -> Self {
        self.path = template.to_owned();
        self
    }

    /// The kind delivered.
    pub fn kind(&self) -> WebhookKind {
        self.kind
    }

    /// The body delivered.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The `Authorization` header's value, if any.
    pub fn authorization_header(&self) -> Option<&str> {
        self.authorization.as_deref()
    }

    /// The request path, with the kind filled in.
    pub fn uri(&self) -> String {
        self.path.replace("{kind}", self.kind.as_str())
    }

    /// The HTTP request: `POST`, `Content-Type: application/json`, the token, the body. Works with
    /// any body type built from bytes (`axum::body::Body`, `Vec<u8>`, `reqwest::Body`, …).
    ///
    /// # Panics
    ///
    /// If the path or the token cannot go into an HTTP request (control characters).
    pub fn into_request<B: From<Vec<u8>>>(self) -> http::Request<B> {
        let mut builder = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.uri())
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(value) = &self.authorization {
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
        match builder.body(B::from(self.body)) {
            Ok(request) => request,
            Err(e) => panic!("TestDelivery: invalid path or token: {e}"),
        }
    }
}
