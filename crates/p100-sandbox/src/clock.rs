//! The sandbox's own clock: every delay of the simulation (settlement, lock lifetime, webhook
//! retries, rate steps, injected latency) is measured on it.
//!
//! Sandbox time runs `1 / time_scale` times as fast as tokio's clock (a `time_scale` of 0.01
//! turns the 64 s webhook retry into 0.64 s), and [`Clock::advance`] jumps it forward. With a
//! manual clock it moves only by `advance`, which makes tests exact without sleeping. It reads
//! `tokio::time::Instant`, so a paused tokio clock works too.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// A moment of sandbox time, as the time elapsed since the sandbox started.
pub(crate) type VTime = Duration;

pub(crate) struct Clock {
    start: Instant,
    wall_start: DateTime<Utc>,
    time_scale: f64,
    manual: bool,
    offset: Mutex<Duration>,
}

impl Clock {
    pub(crate) fn new(time_scale: f64, manual: bool) -> Self {
        Self {
            start: Instant::now(),
            wall_start: Utc::now(),
            time_scale,
            manual,
            offset: Mutex::new(Duration::ZERO),
        }
    }

    fn offset(&self) -> Duration {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sandbox time now.
    pub(crate) fn now(&self) -> VTime {
        let flowing = if self.manual {
            Duration::ZERO
        } else {
            scale(self.start.elapsed(), 1.0 / self.time_scale)
        };
        flowing.saturating_add(self.offset())
    }

    /// Moves sandbox time forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *offset = offset.saturating_add(by);
    }

    /// The wall-clock timestamp of a sandbox moment (what responses and webhooks show).
    pub(crate) fn wall(&self, at: VTime) -> DateTime<Utc> {
        chrono::Duration::from_std(at)
            .ok()
            .and_then(|d| self.wall_start.checked_add_signed(d))
            .unwrap_or(self.wall_start)
    }

    /// How long tokio has to wait for `span` of sandbox time to pass (`None`: it never passes
    /// by itself, the clock is manual).
    pub(crate) fn real_delay(&self, span: Duration) -> Option<Duration> {
        if self.manual {
            None
        } else {
            Some(scale(span, self.time_scale))
        }
    }

    /// A fixed delay that must really be waited (injected latency), in tokio time: scaled like
    /// everything else, or as given when the clock is manual.
    pub(crate) fn scaled(&self, span: Duration) -> Duration {
        self.real_delay(span).unwrap_or(span)
    }
}

/// `span × factor`, saturating instead of panicking.
fn scale(span: Duration, factor: f64) -> Duration {
    Duration::try_from_secs_f64(span.as_secs_f64() * factor).unwrap_or(Duration::MAX)
}
