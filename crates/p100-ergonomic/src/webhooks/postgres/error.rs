//! What can go wrong between the receiver and PostgreSQL, named so that a log line says why a
//! delivery was answered 500.

use std::time::Duration;

use deadpool_postgres::{PoolError, TimeoutType};

use crate::webhooks::BoxError;

/// An error of the [`PgDedupeStore`](super::PgDedupeStore): configuration, the pool, or the
/// database. Whatever it is, the event was not recorded: a receiver answers 500 and P100 delivers
/// the event again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgStoreError {
    /// The table name is not a plain lowercase SQL identifier (optionally `schema.table`).
    #[error("invalid table name {name:?}: {reason}")]
    InvalidTableName {
        /// The name given.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The builder was given neither a URL nor a pool.
    #[error("no database: give the builder a URL (`url`) or a pool (`pool`)")]
    NoDatabase,
    /// The database URL does not parse.
    #[error("invalid database URL: {0}")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The connection pool could not be built.
    #[error("cannot build the connection pool: {0}")]
    PoolBuild(#[source] deadpool_postgres::BuildError),
    /// Every connection of the pool stayed busy for the pool's wait timeout.
    #[error("no free database connection within the pool's wait timeout (the pool is full)")]
    PoolExhausted,
    /// No connection could be opened or reused: the server is down, unreachable, refuses us, or
    /// did not answer within the pool's connect timeout.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] PoolError),
    /// A statement failed (or the connection broke during it).
    #[error("database error: {0}")]
    Database(#[source] tokio_postgres::Error),
    /// The database did not finish an operation within the store's
    /// [operation timeout](super::PgDedupeStoreBuilder::operation_timeout).
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The transaction could not be committed because it was no longer open: a statement in it
    /// had failed (PostgreSQL then turns `COMMIT` into a rollback without an error), or the
    /// handler ended it itself (`COMMIT`/`ROLLBACK`). Nothing of it was committed by the store.
    #[error("the transaction had failed or was ended before its commit: nothing was recorded")]
    TransactionAborted,
}

impl PgStoreError {
    /// Whether the pool had no free connection in time (more concurrent deliveries than
    /// connections, or connections held by slow handlers).
    pub fn is_pool_exhausted(&self) -> bool {
        matches!(self, Self::PoolExhausted)
    }

    /// Whether the database could not be reached, or the connection broke.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Database(e) => {
                e.is_closed()
                    || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
            }
            _ => false,
        }
    }

    /// Whether the database took longer than the store's operation timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::TimedOut(_))
    }

    pub(crate) fn from_pool(error: PoolError) -> Self {
        match error {
            PoolError::Timeout(TimeoutType::Wait) => Self::PoolExhausted,
            other => Self::Unavailable(other),
        }
    }
}

/// Why [`PgDedupeStore::handle_once`](super::PgDedupeStore::handle_once) did not handle an
/// event. In every case the handler's writes and the event's key were rolled back together, so
/// P100's next delivery of the event reaches the handler again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandleOnceError {
    /// The store could not record the event or commit the transaction.
    #[error(transparent)]
    Store(#[from] PgStoreError),
    /// The handler returned an error.
    #[error("the handler failed: {0}")]
    Handler(#[source] BoxError),
    /// The handler panicked.
    #[error("the handler panicked")]
    Panicked,
}

impl HandleOnceError {
    /// A short reason for the answer to P100 and the logs (no event data in it).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Store(PgStoreError::PoolExhausted) => {
                "P100 webhook not recorded: no free database connection"
            }
            Self::Store(e) if e.is_unavailable() => "P100 webhook not recorded: database unavailable",
            Self::Store(PgStoreError::TransactionAborted) => {
                "P100 webhook not recorded: its transaction had failed or was ended before the commit"
            }
            Self::Store(PgStoreError::TimedOut(_)) => {
                "P100 webhook not recorded: the database did not answer in time"
            }
            Self::Store(_) => "P100 webhook not recorded: database error",
            Self::Handler(_) => "P100 webhook handler failed",
            Self::Panicked => "P100 webhook handler panicked",
        }
    }
}
