//! The one lock-then-execute loop, shared by the three flows: take a lock, check its quote, skip
//! a lock too close to expiry, execute once, and take a new lock after `P432`, within the
//! policy's budget. What each step calls is in `flows`; how a failed execute is sorted is in
//! `outcome`.

use tokio::time::Instant;

use super::builder::AcceptCheck;
use super::flows::{ExecuteRequest, LockFlow};
use super::outcome::{failed_execute, Executed, LockError};
use super::policy::LockPolicy;
use super::sealed::RateLock;
use crate::error::ErrorCode;
use crate::Client;

/// The one lock-then-execute loop, shared by the three flows.
pub(super) async fn run<F: LockFlow>(
    client: &Client,
    flow: &F,
    accept: Option<&AcceptCheck<F::Quote>>,
    policy: &LockPolicy,
) -> Result<Executed<F>, LockError> {
    let terms = flow.terms().map_err(LockError::InvalidRequest)?;
    let mut last_rejection = None;
    for locks_taken in 1..=policy.max_locks {
        let requested = Instant::now();
        let lock = F::take_lock(client, &terms)
            .await
            .map_err(LockError::Lock)?;
        let lock_id = lock.lock_id();
        let left = lock.validity_left(requested.elapsed());
        let usable_until = Instant::now() + left.saturating_sub(policy.safety_margin);
        tracing::debug!(%lock_id, validity_left = ?left, "rate lock taken");

        let quote = F::quote(&terms, &lock);
        let refusal = match flow.check_quote(&quote) {
            Err(reason) => Some(reason),
            Ok(()) if accept.is_some_and(|accept| !accept(&quote)) => {
                Some("refused by the acceptance check".to_string())
            }
            Ok(()) => None,
        };
        if let Some(reason) = refusal {
            tracing::info!(%lock_id, %reason, "quote refused; nothing executed");
            return Err(LockError::QuoteRefused {
                lock_id,
                quote: Box::new(quote.into()),
                reason,
            });
        }

        if Instant::now() >= usable_until {
            tracing::warn!(
                %lock_id,
                safety_margin = ?policy.safety_margin,
                "rate lock too close to expiry; taking a new one instead of executing"
            );
            last_rejection = None;
            continue;
        }

        let request = F::request(&terms, lock_id);
        let sent: ExecuteRequest = request.clone().into();
        match F::execute(client, request).await {
            Ok(created) => {
                tracing::info!(%lock_id, locks_taken, "executed at the locked rate");
                return Ok(Executed {
                    lock,
                    created,
                    request: sent,
                    locks_taken,
                });
            }
            Err(error) if error.code() == Some(&ErrorCode::InvalidExchangeLock) => {
                tracing::info!(%lock_id, "P432: lock invalid or expired, nothing executed; taking a new one");
                last_rejection = Some(error);
            }
            Err(error) => return Err(failed_execute::<F>(lock_id, sent, error, locks_taken)),
        }
    }
    Err(LockError::LocksExhausted {
        locks: policy.max_locks,
        last: last_rejection,
    })
}
