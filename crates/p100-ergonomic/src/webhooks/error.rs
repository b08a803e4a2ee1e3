//! [`WebhookError`]: everything that can be wrong with a delivery, with what a receiver answers.

use super::WebhookKind;

/// Why a webhook delivery was not accepted.
///
/// Branch on the predicates ([`is_unauthorized`](Self::is_unauthorized),
/// [`http_status`](Self::http_status), …) rather than on the variants where you can: new variants
/// may be added. The messages say which kind, what was wrong and where (serde's line and column,
/// and the field path when there is one); they never contain the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request had no `Authorization` header (or an empty one).
    #[error("missing webhook token: the request has no Authorization header")]
    MissingToken,

    /// The `Authorization` header does not carry the partner's webhook token.
    #[error("wrong webhook token in the Authorization header")]
    WrongToken,

    /// The body is empty (or only whitespace).
    #[error("empty {} body", Describe(*.kind))]
    EmptyBody {
        /// The kind the body was read as; `None` when detecting the kind.
        kind: Option<WebhookKind>,
    },

    /// The body is not JSON, is truncated, or does not fit the kind's schema (missing required
    /// field, wrong type).
    #[error("invalid {} body: {}{source}", Describe(*.kind), Path(.path.as_deref()))]
    InvalidBody {
        /// The kind the body was read as; `None` when detecting the kind.
        kind: Option<WebhookKind>,
        /// Where in the body the problem is (`cryptoDepositId`, `error.status`), when serde
        /// could tell.
        path: Option<String>,
        /// serde's error, with its line and column.
        #[source]
        source: serde_json::Error,
    },

    /// [`detect`](super::detect): the body fits several kinds equally well. Deliver those kinds
    /// to their own URLs and use [`parse`](super::parse).
    #[error(
        "ambiguous webhook body: it fits {}; give each of these kinds its own URL",
        List(.candidates)
    )]
    Ambiguous {
        /// The kinds the body could be, in catalog order.
        candidates: Vec<WebhookKind>,
    },

    /// [`detect`](super::detect): no kind has this shape. The kinds whose fields are unknown
    /// (`create_wallet`, `sepa_deposit`, `card_transaction`) are never detected.
    #[error(
        "no webhook kind has this shape (fields: {}); create_wallet, sepa_deposit and \
         card_transaction cannot be detected and need their own URL",
        Fields(.fields)
    )]
    Undetected {
        /// The top-level field names of the body (at most 20).
        fields: Vec<String>,
    },

    /// A name that is not one of the catalog's kinds (`WebhookKind::from_str`).
    #[error("unknown webhook kind {name:?}")]
    UnknownKind {
        /// The name given (at most 64 characters of it).
        name: String,
    },
}

impl WebhookError {
    /// Whether the token check failed (missing or wrong token): answer 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Self::MissingToken | Self::WrongToken)
    }

    /// Whether the body could not be read as a webhook (empty, invalid, ambiguous, undetected):
    /// answer 400.
    pub fn is_bad_body(&self) -> bool {
        matches!(
            self,
            Self::EmptyBody { .. }
                | Self::InvalidBody { .. }
                | Self::Ambiguous { .. }
                | Self::Undetected { .. }
        )
    }

    /// The HTTP status a receiver answers: 401 for token errors, 404 for an unknown kind, 400 for
    /// a body that is not a webhook.
    ///
    /// ```
    /// use http::StatusCode;
    /// use p100_ergonomic::webhooks::{self, WebhookKind};
    ///
    /// let error = webhooks::parse(WebhookKind::Exchange, b"{").unwrap_err();
    /// assert_eq!(error.http_status(), StatusCode::BAD_REQUEST);
    /// ```
    pub fn http_status(&self) -> http::StatusCode {
        match self {
            Self::MissingToken | Self::WrongToken => http::StatusCode::UNAUTHORIZED,
            Self::UnknownKind { .. } => http::StatusCode::NOT_FOUND,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }

    /// The kind the body was read as, if any.
    pub fn kind(&self) -> Option<WebhookKind> {
        match self {
            Self::EmptyBody { kind } | Self::InvalidBody { kind, .. } => *kind,
            _ => None,
        }
    }

    /// The kinds an ambiguous body could be (empty for other errors).
    pub fn candidates(&self) -> &[WebhookKind] {
        match self {
            Self::Ambiguous { candidates } => candidates,
            _ => &[],
        }
    }

    /// The 1-based line of the problem in the body, for an invalid body.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::InvalidBody { source, .. } => Some(source.line()),
            _ => None,
        }
    }

    /// The 1-based column of the problem in the body, for an invalid body.
    pub fn column(&self) -> Option<usize> {
        match self {
            Self::InvalidBody { source, .. } => Some(source.column()),
            _ => None,
        }
    }

    /// The field path of the problem (`cryptoDepositId`), for an invalid body where serde could
    /// tell.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::InvalidBody { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    /// Whether the body ended too early (truncated JSON), for an invalid body.
    pub fn is_truncated(&self) -> bool {
        matches!(self, Self::InvalidBody { source, .. } if source.is_eof())
    }
}

struct Describe(Option<WebhookKind>);

impl std::fmt::Display for Describe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(kind) => write!(f, "{kind} webhook"),
            None => f.write_str("webhook"),
        }
    }
}

struct Path<'a>(Option<&'a str>);

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(path) => write!(f, "at `{path}`: "),
            None => Ok(()),
        }
    }
}

struct List<'a>(&'a [WebhookKind]);

impl std::fmt::Display for List<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, kind) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(kind.as_str())?;
        }
        Ok(())
    }
}

struct Fields<'a>(&'a [String]);

impl std::fmt::Display for Fields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, field) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{field:?}")?;
        }
        Ok(())
    }
}
