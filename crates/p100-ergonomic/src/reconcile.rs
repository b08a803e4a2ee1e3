//! Money movements whose outcome is unknown, and finding out what happened.
//!
//! When the answer to a money movement is lost (a timeout or a reset after the request was sent,
//! a 5xx, `P500`/`P501`, a 2xx the SDK could not read), P100 may or may not have executed it.
//! The error then carries an [`UnknownMovement`] ([`Error::unknown_movement`]): the operation,
//! the request body, the time it was sent and, from a 2xx answer, its body and id. Such an
//! error is never [retryable](Error::is_retryable). [`Client::reconcile`] looks for the movement:
//! by its id with the details operation of the spec's waiter when the id is known, else in the
//! transaction histories of the month it was sent (the partner's, and the user's named in the
//! request), matching the amount and the time. It answers [`Reconciliation::Found`],
//! [`Reconciliation::NotFound`] or [`Reconciliation::CannotTell`].
//!
//! What does not belong here: retrying (the caller decides, on `NotFound` only) and the lock
//! flows' own unknown outcome ([`crate::UnknownOutcome`], which converts to this one).

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use p100_api::catalog::{self, IdSource};
use p100_api::ClientInfo;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::SentRequest;
use crate::{Client, Error};

/// How far before the time sent a history entry may be dated and still be the movement (the
/// two clocks are not the same).
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(5);

/// A money movement that may have happened: what the SDK sent, when, and what came back.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct UnknownMovement {
    /// The operation (`"transfer_create"`).
    pub operation: &'static str,
    /// The JSON body that was sent, when there was one.
    pub request: Option<Value>,
    /// When it was sent (the last attempt; money movements are sent once).
    pub sent_at: Option<SystemTime>,
    /// The movement's id, from a 2xx answer that carried one.
    pub id: Option<String>,
    /// The body of a 2xx answer the SDK could not read as documented.
    pub answer: Option<Bytes>,
    /// The request body exactly as sent (`request` reads its numbers through `f64`): where
    /// reconciliation reads the amount.
    sent_body: Option<Bytes>,
}

impl UnknownMovement {
    pub(crate) fn new(
        operation: &'static str,
        sent: Option<SentRequest>,
        answer: Option<&[u8]>,
    ) -> Self {
        let sent_body = sent.as_ref().and_then(|s| s.body.clone());
        let request = sent_body
            .as_ref()
            .and_then(|b| serde_json::from_slice(b).ok());
        let id = answer.and_then(|bytes| id_in_answer(operation, bytes));
        UnknownMovement {
            operation,
            request,
            sent_at: sent.map(|s| s.at),
            id,
            answer: answer.map(Bytes::copy_from_slice),
            sent_body,
        }
    }

    /// A movement described by hand (e.g. from your own records after a crash), to reconcile.
    pub fn described(operation: &'static str, request: Value, sent_at: SystemTime) -> Self {
        UnknownMovement {
            operation,
            request: Some(request),
            sent_at: Some(sent_at),
            id: None,
            answer: None,
            sent_body: None,
        }
    }

    /// The request body exactly as sent, when the SDK sent it (`request` is the same body as a
    /// `serde_json::Value`, whose numbers go through `f64`): what to show or store.
    pub fn sent_body(&self) -> Option<&[u8]> {
        self.sent_body.as_deref()
    }

    /// The same movement with its id (from an answer the caller did read).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

/// The id a create's answer carries, by the spec's waiter (`$response.body#/field`).
fn id_in_answer(operation: &str, bytes: &[u8]) -> Option<String> {
    let waiter = catalog::operation(operation)?.waiter()?;
    let IdSource::ResponseBody(field) = waiter.id else {
        return None;
    };
    let body: Value = serde_json::from_slice(bytes).ok()?;
    match body.get(field)? {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// How the answer of [`Client::reconcile`] was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Basis {
    /// The details operation, by the movement's id: as sure as P100's answer.
    Details {
        /// The operation asked (`"transfer_get"`).
        operation: &'static str,
    },
    /// The transaction histories of the month sent, by amount and time. The history's shape is
    /// inferred (no page shows it), so a `NotFound` on this basis is only as good as that
    /// inference.
    History {
        /// The histories read (`"partner_get_transaction_history"`, …).
        operations: Vec<&'static str>,
    },
}

/// What [`Client::reconcile`] found out: one of three answers, matched exhaustively.
#[derive(Clone, Debug, PartialEq)]
pub enum Reconciliation {
    /// The movement happened: its record as P100 answered it.
    Found {
        /// The record (details answer, or the history entry).
        record: Value,
        /// How it was found.
        basis: Basis,
    },
    /// P100 has no such movement.
    NotFound {
        /// How the search was made.
        basis: Basis,
    },
    /// The SDK cannot tell, and says why.
    CannotTell {
        /// Why not.
        reason: String,
    },
}

impl Client {
    /// Finds out whether a money movement whose outcome is unknown happened.
    ///
    /// ```no_run
    /// use p100_ergonomic::reconcile::Reconciliation;
    /// use p100_ergonomic::types::{CreateTransferRequest, DecimalString};
    ///
    /// # async fn demo(client: p100_ergonomic::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let request = CreateTransferRequest::builder()
    ///     .destination_external_user_id("user-42".to_string())
    ///     .amount("10.00".parse::<DecimalString>()?)
    ///     .currency("eur");
    /// match client.transfer_create().body(request).send().await {
    ///     Ok(created) => println!("transfer {}", created.transfer_id),
    ///     Err(error) => match error.unknown_movement() {
    ///         Some(unknown) => match client.reconcile(unknown).await? {
    ///             Reconciliation::Found { record, .. } => println!("it happened: {record}"),
    ///             Reconciliation::NotFound { .. } => println!("it did not happen: send it again"),
    ///             Reconciliation::CannotTell { reason } => println!("ask P100: {reason}"),
    ///         },
    ///         None => return Err(error.into()),
    ///     },
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn reconcile(&self, movement: &UnknownMovement) -> Result<Reconciliation, Error> {
        if let Some(id) = &movement.id {
            return self.reconcile_by_id(movement.operation, id).await;
        }
        self.reconcile_by_history(movement).await
    }

    async fn reconcile_by_id(&self, operation: &str, id: &str) -> Result<Reconciliation, Error> {
        let Some(waiter) = catalog::operation(operation).and_then(|op| op.waiter()) else {
            return Ok(Reconciliation::CannotTell {
                reason: format!("the spec names no details operation for {operation}"),
            });
        };
        let basis = Basis::Details {
            operation: waiter.details,
        };
        match self
            .get_json(waiter.details, waiter.details_path, Some(id), &[])
            .await
        {
            Ok(record) => Ok(Reconciliation::Found { record, basis }),
            Err(error) if error.is_not_found() => Ok(Reconciliation::NotFound { basis }),
            Err(error) => Err(error),
        }
    }

    async fn reconcile_by_history(
        &self,
        movement: &UnknownMovement,
    ) -> Result<Reconciliation, Error> {
        let (Some(request), Some(sent_at)) = (&movement.request, movement.sent_at) else {
            return Ok(Reconciliation::CannotTell {
                reason: "neither the movement's id nor its request and time are known".into(),
            });
        };
        let amount = match &movement.sent_body {
            Some(body) => exact_amount_in(body),
            // Described by hand: the caller's JSON value is all there is.
            None => request.get("amount").and_then(decimal_of),
        };
        let Some(amount) = amount else {
            return Ok(Reconciliation::CannotTell {
                reason: "the request has no amount to look for".into(),
            });
        };
        let date: chrono::DateTime<chrono::Utc> = sent_at.into();
        let month = chrono::Datelike::month(&date).to_string();
        let year = chrono::Datelike::year(&date).to_string();
        let query = [("month", month.as_str()), ("year", year.as_str())];
        // The partner's history, then each user's the request names.
        let mut histories: Vec<(&'static str, Option<String>)> =
            vec![("partner_get_transaction_history", None)];
        for user in users_named(request) {
            histories.push(("user_get_transaction_history", Some(user)));
        }
        let earliest = sent_at.checked_sub(CLOCK_TOLERANCE).unwrap_or(sent_at);
        let mut read = Vec::new();
        for (operation, user) in histories {
            let history: Box<RawValue> = self
                .get_json(
                    operation,
                    operation_template(operation),
                    user.as_deref(),
                    &query,
                )
                .await?;
            read.push(operation);
            let Some(items) = transactions(&history) else {
                return Ok(Reconciliation::CannotTell {
                    reason: format!(
                        "{operation} answered no list of transactions (the history's shape is \
                         inferred: no page shows it)"
                    ),
                });
            };
            let found = items.iter().find(|item| {
                let Ok(entry) = serde_json::from_str::<HistoryEntry<'_>>(item.get()) else {
                    return false;
                };
                entry.amount.and_then(exact_amount) == Some(amount)
                    && entry
                        .created_at
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .is_some_and(|t| SystemTime::from(t) >= earliest)
            });
            if let Some(item) = found {
                let record = serde_json::from_str(item.get()).unwrap_or(Value::Null);
                return Ok(Reconciliation::Found {
                    record,
                    basis: Basis::History { operations: read },
                });
            }
        }
        Ok(Reconciliation::NotFound {
            basis: Basis::History { operations: read },
        })
    }

    /// A GET of `operation` through the client's executor, its answer read as `T` (a
    /// `serde_json::Value`, or a `RawValue` where the numbers must stay as written).
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        template: &str,
        parameter: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        let url = crate::client::operation_url(self.raw(), template, parameter, query)?;
        let request = self
            .raw()
            .client()
            .request(Method::GET, url)
            .build()
            .map_err(|e| Error::invalid_request(format!("reconcile: {e}")))?;
        let answer = crate::client::send_through_executor(self.raw(), request, operation).await?;
        serde_json::from_slice(&answer.bytes).map_err(|e| {
            Error::decode(
                Some(answer.status),
                answer.bytes.clone(),
                "the answer is not JSON",
                Some(e),
                answer.record,
            )
        })
    }
}

/// The path template of `operation`, from the catalog.
fn operation_template(operation: &str) -> &'static str {
    catalog::operation(operation).map_or("", |op| op.path)
}

/// The users a request names: every string field whose name ends in `ExternalUserId` (or is
/// `externalUserId`), in the order of the body.
fn users_named(request: &Value) -> Vec<String> {
    let Some(fields) = request.as_object() else {
        return Vec::new();
    };
    let mut users: Vec<String> = Vec::new();
    for (name, value) in fields {
        let named = name == "externalUserId" || name.ends_with("ExternalUserId");
        if let (true, Some(user)) = (named, value.as_str()) {
            if !user.is_empty() && !users.iter().any(|u| u == user) {
                users.push(user.to_owned());
            }
        }
    }
    users
}

/// The list of transactions of a history: the history itself when it is an array, else its
/// first field (in key order) that is an array of objects. Kept as JSON text, so that amounts are
/// compared as written.
fn transactions(history: &RawValue) -> Option<Vec<Box<RawValue>>> {
    let is_object = |item: &RawValue| item.get().trim_start().starts_with('{');
    let text = history.get().trim_start();
    if text.starts_with('[') {
        return serde_json::from_str(text).ok();
    }
    let fields: std::collections::BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(text).ok()?;
    fields.into_values().find_map(|field| {
        serde_json::from_str::<Vec<Box<RawValue>>>(field.get())
            .ok()
            .filter(|items| items.iter().all(|item| is_object(item)))
    })
}

/// The fields of a history entry reconciliation compares.
#[derive(serde::Deserialize)]
struct HistoryEntry<'a> {
    #[serde(borrow)]
    amount: Option<&'a RawValue>,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
}

/// The amount field of a JSON body, exactly as written.
fn exact_amount_in(body: &[u8]) -> Option<Decimal> {
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        #[serde(borrow)]
        amount: Option<&'a RawValue>,
    }
    serde_json::from_slice::<Body<'_>>(body)
        .ok()?
        .amount
        .and_then(exact_amount)
}

/// A JSON number or string as an exact decimal (`serde_json::Value` would read a number through
/// `f64`: `0.123456789012345678` and `987654321098765.43` would not compare equal to themselves
/// written as strings, and reconciliation would say "not found" for a movement that happened).
fn exact_amount(raw: &RawValue) -> Option<Decimal> {
    let text = raw.get().trim();
    let digits: std::borrow::Cow<'_, str> = if text.starts_with('"') {
        serde_json::from_str::<String>(text).ok()?.into()
    } else {
        text.into()
    };
    Decimal::from_str_exact(&digits)
        .or_else(|_| Decimal::from_scientific(&digits))
        .ok()
}

fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(text) => text.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}
