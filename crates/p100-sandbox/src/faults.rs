//! Injected faults: what a client must survive that a healthy P100 rarely shows on demand.
//!
//! A [`FaultRule`] applies to one operation (by the spec's `operationId`) or to every operation,
//! for a number of matching requests or for ever. Rules come from the configuration, the admin API
//! (`POST /__sandbox/faults`) or [`crate::Sandbox::add_fault`]. Requests that fail the API-key
//! check do not consume a rule.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One injected fault and where it applies.
///
/// ```
/// use p100_sandbox::{Fault, FaultRule};
/// // The next exchange execution is processed, then its connection is closed unanswered.
/// let rule = FaultRule::new(Fault::DropAfterProcessing).operation("exchange_create").times(1);
/// assert_eq!(rule.times, Some(1));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The `operationId` it applies to (`exchange_create`); every operation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// What happens.
    #[serde(flatten)]
    pub fault: Fault,
    /// How many matching requests it applies to; for ever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// What an injected fault does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer HTTP 429 with `Retry-After` (seconds) before processing.
    RateLimit {
        /// The `Retry-After` value in seconds. Default 1.
        #[serde(default = "one")]
        retry_after_secs: u64,
    },
    /// Answer `P501` (service temporarily unavailable) before processing; HTTP 400 as the docs
    /// list it unless `status` says otherwise (e.g. 503).
    Unavailable {
        /// The HTTP status. Default 400.
        #[serde(default = "http_400")]
        status: u16,
    },
    /// Wait this long (sandbox time, scaled by `time_scale`) before processing.
    Latency {
        /// The delay in milliseconds.
        ms: u64,
    },
    /// Process the request (its effects happen), then close the connection without an answer:
    /// the client cannot know the outcome.
    DropAfterProcessing,
    /// Treat the lock of an exchange or order execution as expired (`P432`), whatever its age.
    ExpireLock,
}

fn one() -> u64 {
    1
}

fn http_400() -> u16 {
    400
}

impl FaultRule {
    /// A rule for every operation, for ever.
    pub fn new(fault: Fault) -> Self {
        Self {
            operation: None,
            fault,
            times: None,
        }
    }

    /// Applies only to `operation_id`.
    pub fn operation(mut self, operation_id: impl Into<String>) -> Self {
        self.operation = Some(operation_id.into());
        self
    }

    /// Applies to the next `n` matching requests only.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(op) = &self.operation {
            if !crate::api::OPERATIONS.iter().any(|o| o.operation_id == op) {
                return Err(format!("fault rule: unknown operation {op:?}"));
            }
        }
        if let Fault::Unavailable { status } = self.fault {
            if !(400..=599).contains(&status) {
                return Err(format!(
                    "fault rule: status {status} is not an error status (400-599)"
                ));
            }
        }
        Ok(())
    }
}

/// What the matching rules ask of one request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) latency: Duration,
    pub(crate) reject: Option<Fault>,
    pub(crate) drop_after: bool,
    pub(crate) expire_lock: bool,
}

/// Consumes the rules that match `operation` and says what to do.
pub(crate) fn plan(rules: &mut Vec<FaultRule>, operation: &str) -> Plan {
    let mut plan = Plan::default();
    for rule in rules.iter_mut() {
        if rule.operation.as_deref().is_some_and(|op| op != operation) {
            continue;
        }
        if rule.times == Some(0) {
            continue;
        }
        match &rule.fault {
            Fault::Latency { ms } => {
                plan.latency = plan.latency.saturating_add(Duration::from_millis(*ms));
            }
            Fault::DropAfterProcessing => plan.drop_after = true,
            Fault::ExpireLock => {
                if !matches!(
                    operation,
                    "exchange_create" | "partner_create_exchange" | "order_create"
                ) {
                    continue;
                }
                plan.expire_lock = true;
            }
            reject @ (Fault::RateLimit { .. } | Fault::Unavailable { .. }) => {
                if plan.reject.is_some() {
                    continue;
                }
                plan.reject = Some(reject.clone());
            }
        }
        if let Some(n) = rule.times.as_mut() {
            *n -= 1;
        }
    }
    rules.retain(|r| r.times != Some(0));
    plan
}
