//! Webhook receivers on several instances (feature `postgres`): a [`DedupeStore`] in PostgreSQL
//! shared by every instance, and exactly-once handling, where the handler's own writes and the
//! event's key are committed in one transaction.
//!
//! - [`PgDedupeStore`]: `record` is one atomic `INSERT … ON CONFLICT` (of two instances
//!   recording the same key at once, exactly one sees [`Sighting::First`]), `forget` a
//!   `DELETE`, keys expire after a TTL, and [`migrate`](PgDedupeStore::migrate) creates the table
//!   (idempotent, safe to run from every instance at start-up). It serves the receivers of
//!   [`WebhookReceiver::new`](super::WebhookReceiver::new) and
//!   [`acknowledging`](super::WebhookReceiver::acknowledging) as it is.
//! - Exactly once: [`PgDedupeStore::begin`] opens a transaction that records the key and hands
//!   it to you ([`EventTransaction`]): do the event's writes in it, then
//!   [`commit`](EventTransaction::commit). Commit = handled; an error, a panic, a dropped
//!   transaction or a lost connection rolls back the key and the writes together, so the event
//!   is either applied once and recorded, or neither. A second delivery of the same event,
//!   to any instance, waits on the key's row until the first commits (then it is a repeat) or
//!   rolls back (then it is handled). [`TransactionalHandler`] and
//!   [`handle_once`](PgDedupeStore::handle_once) wrap that for a handler;
//!   with `axum`, [`WebhookReceiver::transactional`](super::WebhookReceiver::transactional) is a
//!   ready receiver that answers 200 only after the commit, and 500 (P100 retries) otherwise.
//!
//! The client is `tokio-postgres` with a `deadpool-postgres` pool (both re-exported here): no
//! macros, no build-time database, a few small crates, and nothing at all for users without the
//! feature. The pool's wait and connect timeouts bound how long a delivery waits for the
//! database, so a full pool or a server that is down gives a 500 in bounded time, never a 200.
//!
//! What does not belong here: the key itself ([`DedupeKey`], computed from the event as for
//! every store), and the HTTP side (the receiver).
//!
//! ```no_run
//! use p100_ergonomic::webhooks::postgres::{Begin, PgDedupeStore};
//! use p100_ergonomic::webhooks::{self, DedupeKey, WebhookKind};
//!
//! # async fn run(body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! let store = PgDedupeStore::builder()
//!     .url(&std::env::var("DATABASE_URL")?)
//!     .table("p100_webhook_keys")
//!     .build()?;
//! store.migrate().await?;
//!
//! let event = webhooks::parse(WebhookKind::CryptoDeposit, body)?;
//! match store.begin(&DedupeKey::for_delivery(&event, body)).await? {
//!     Begin::Repeat => {} // handled before, by this instance or another: answer 200
//!     Begin::First(tx) => {
//!         tx.execute("INSERT INTO deposits (body) VALUES ($1)", &[&body]).await?;
//!         tx.commit().await?; // now it is handled: answer 200 (an error: answer 500)
//!     }
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};

use super::{BoxError, DedupeKey, DedupeStore, InMemoryDedupeStore, Sighting};

mod error;
#[cfg(feature = "axum")]
mod receiver;
mod transaction;

pub use error::{HandleOnceError, PgStoreError};
#[cfg(feature = "axum")]
pub use receiver::Transactional;
pub use transaction::{Begin, EventTransaction, Handled, TransactionalHandler};

/// The connection pool crate this module uses, to build a pool yourself (TLS, hooks, …).
pub use deadpool_postgres;
/// The PostgreSQL client crate this module uses, for your own statements and types.
pub use deadpool_postgres::tokio_postgres;

/// A [`DedupeStore`] in a PostgreSQL table, shared by every instance of a receiver, with
/// exactly-once handling on top ([`begin`](Self::begin), [`handle_once`](Self::handle_once)).
///
/// Cheap to clone (the pool and the statements are shared). Build it with
/// [`builder`](Self::builder), then run [`migrate`](Self::migrate) once per start-up.
///
/// The table (default [`DEFAULT_TABLE`](Self::DEFAULT_TABLE)) holds one row per recorded key:
/// `key text PRIMARY KEY, recorded_at timestamptz, expires_at timestamptz`. A key whose
/// `expires_at` has passed counts as absent (it is recorded anew over the old row);
/// [`purge_expired`](Self::purge_expired) deletes such rows.
#[derive(Clone)]
pub struct PgDedupeStore {
    pool: Pool,
    table: Arc<TableName>,
    sql: Arc<Sql>,
    ttl: Duration,
    operation_timeout: Duration,
}

impl PgDedupeStore {
    /// The default table name: `p100_webhook_keys` (in the connection's `search_path`).
    pub const DEFAULT_TABLE: &'static str = "p100_webhook_keys";
    /// The default time to live of a key, the same as the in-memory store's
    /// ([`InMemoryDedupeStore::DEFAULT_TTL`], 10 minutes), so that switching stores does not
    /// change which deliveries count as new.
    pub const DEFAULT_TTL: Duration = InMemoryDedupeStore::DEFAULT_TTL;
    /// The default limit on one store operation (`record`, `forget`, `migrate`, a purge batch):
    /// 5 seconds.
    pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

    /// A builder; give it a [`url`](PgDedupeStoreBuilder::url) or a
    /// [`pool`](PgDedupeStoreBuilder::pool).
    pub fn builder() -> PgDedupeStoreBuilder {
        PgDedupeStoreBuilder::default()
    }

    /// The connection pool, for your own statements (the one the store uses).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The table's name as given (e.g. `p100_webhook_keys` or `webhooks.keys`).
    pub fn table(&self) -> &str {
        &self.table.given
    }

    /// The time to live of a key.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Creates the table and its expiry index if they do not exist. Idempotent, and safe when
    /// several instances run it at once (they take turns on an advisory lock). The schema of a
    /// `schema.table` name must exist.
    pub async fn migrate(&self) -> Result<(), PgStoreError> {
        self.bounded(async {
            let mut client = self.connection().await?;
            let tx = client.transaction().await.map_err(PgStoreError::Database)?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))",
                &[&format!(
                    "p100_ergonomic.webhooks.postgres:{}",
                    self.table.quoted
                )],
            )
            .await
            .map_err(PgStoreError::Database)?;
            tx.batch_execute(&self.sql.create)
                .await
                .map_err(PgStoreError::Database)?;
            tx.commit().await.map_err(PgStoreError::Database)
        })
        .await
    }

    /// Records `key` now, in its own transaction: [`DedupeStore::record`].
    pub async fn record(&self, key: &DedupeKey) -> Result<Sighting, PgStoreError> {
        self.bounded(async {
            let client = self.connection().await?;
            let statement = client
                .prepare_cached(&self.sql.record)
                .await
                .map_err(PgStoreError::Database)?;
            let row = client
                .query_opt(&statement, &[&key.as_str(), &self.ttl.as_secs_f64()])
                .await
                .map_err(PgStoreError::Database)?;
            Ok(match row {
                Some(_) => Sighting::First,
                None => Sighting::Repeat,
            })
        })
        .await
    }

    /// Removes `key`, so that its next delivery is first again: [`DedupeStore::forget`].
    /// Returns whether the key was held. It waits for a transaction recording the same key
    /// to end.
    pub async fn forget(&self, key: &DedupeKey) -> Result<bool, PgStoreError> {
        self.bounded(async {
            let client = self.connection().await?;
            let statement = client
                .prepare_cached(&self.sql.forget)
                .await
                .map_err(PgStoreError::Database)?;
            let deleted = client
                .execute(&statement, &[&key.as_str()])
                .await
                .map_err(PgStoreError::Database)?;
            Ok(deleted > 0)
        })
        .await
    }

    /// Whether `key` is recorded (committed and not expired).
    pub async fn is_recorded(&self, key: &DedupeKey) -> Result<bool, PgStoreError> {
        self.bounded(async {
            let client = self.connection().await?;
            let statement = client
                .prepare_cached(&self.sql.contains)
                .await
                .map_err(PgStoreError::Database)?;
            let row = client
                .query_opt(&statement, &[&key.as_str()])
                .await
                .map_err(PgStoreError::Database)?;
            Ok(row.is_some())
        })
        .await
    }

    /// Deletes expired keys, in batches of 10 000, and returns how many. Expired keys already
    /// count as absent; this only reclaims their space. Run it now and then (e.g. every few
    /// minutes from one instance: [`purge_every`](Self::purge_every)).
    pub async fn purge_expired(&self) -> Result<u64, PgStoreError> {
        const BATCH: i64 = 10_000;
        let mut total = 0;
        loop {
            let deleted = self
                .bounded(async {
                    let client = self.connection().await?;
                    client
                        .execute(&self.sql.purge, &[&BATCH])
                        .await
                        .map_err(PgStoreError::Database)
                })
                .await?;
            total += deleted;
            if deleted < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Runs [`purge_expired`](Self::purge_expired) every `period`, forever, logging failures
    /// (`warn`): `tokio::spawn(store.clone().purge_every(Duration::from_secs(300)))`.
    pub async fn purge_every(self, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.purge_expired().await {
                Ok(deleted) => {
                    tracing::debug!(table = %self.table.given, deleted, "expired webhook keys purged")
                }
                Err(error) => {
                    tracing::warn!(table = %self.table.given, %error, "purging expired webhook keys failed")
                }
            }
        }
    }

    /// A connection from the pool; the pool's own timeouts bound the wait.
    async fn connection(&self) -> Result<Object, PgStoreError> {
        self.pool.get().await.map_err(PgStoreError::from_pool)
    }

    async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, PgStoreError>>,
    ) -> Result<T, PgStoreError> {
        tokio::time::timeout(self.operation_timeout, operation)
            .await
            .unwrap_or(Err(PgStoreError::TimedOut(self.operation_timeout)))
    }
}

impl fmt::Debug for PgDedupeStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgDedupeStore")
            .field("table", &self.table.given)
            .field("ttl", &self.ttl)
            .field("operation_timeout", &self.operation_timeout)
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl DedupeStore for PgDedupeStore {
    async fn record(&self, key: &DedupeKey) -> Result<Sighting, BoxError> {
        Ok(PgDedupeStore::record(self, key).await?)
    }

    async fn forget(&self, key: &DedupeKey) -> Result<(), BoxError> {
        PgDedupeStore::forget(self, key).await?;
        Ok(())
    }
}

/// Configures a [`PgDedupeStore`]; every setter documents its default, and
/// [`build`](Self::build) validates once.
///
/// ```no_run
/// use std::time::Duration;
/// use p100_ergonomic::webhooks::postgres::PgDedupeStore;
///
/// # fn example() -> Result<(), p100_ergonomic::webhooks::postgres::PgStoreError> {
/// let store = PgDedupeStore::builder()
///     .url("postgres://app@127.0.0.1/app")
///     .table("webhooks.p100_keys")
///     .max_connections(32)
///     .wait_timeout(Duration::from_secs(1))
///     .build()?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgDedupeStoreBuilder {
    url: Option<String>,
    pool: Option<Pool>,
    table: String,
    ttl: Duration,
    operation_timeout: Duration,
    max_connections: usize,
    wait_timeout: Duration,
    connect_timeout: Duration,
}

impl Default for PgDedupeStoreBuilder {
    fn default() -> Self {
        Self {
            url: None,
            pool: None,
            table: PgDedupeStore::DEFAULT_TABLE.to_owned(),
            ttl: PgDedupeStore::DEFAULT_TTL,
            operation_timeout: PgDedupeStore::DEFAULT_OPERATION_TIMEOUT,
            max_connections: 16,
            wait_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

impl fmt::Debug for PgDedupeStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: not shown.
        f.debug_struct("PgDedupeStoreBuilder")
            .field("url", &self.url.as_ref().map(|_| "…"))
            .field("pool", &self.pool.is_some())
            .field("table", &self.table)
            .field("ttl", &self.ttl)
            .field("operation_timeout", &self.operation_timeout)
            .field("max_connections", &self.max_connections)
            .field("wait_timeout", &self.wait_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl PgDedupeStoreBuilder {
    /// Connect to this database (`postgres://user:password@host:port/db`, or the key=value
    /// form), without TLS. No default. For TLS, build a pool yourself and use
    /// [`pool`](Self::pool).
    pub fn url(mut self, url: &str) -> Self {
        self.url = Some(url.to_owned());
        self
    }

    /// Use this pool (e.g. with TLS, or the one your handlers use), instead of a
    /// [`url`](Self::url). Its own size and timeouts apply; give it a wait timeout and a runtime
    /// (`Runtime::Tokio1`), or a full pool makes deliveries wait until the receiver's time limit.
    pub fn pool(mut self, pool: Pool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// The table of keys: a lowercase SQL identifier (`[a-z_][a-z0-9_]*`, at most 50 bytes),
    /// optionally behind a schema (`webhooks.p100_keys`). Default
    /// [`PgDedupeStore::DEFAULT_TABLE`].
    pub fn table(mut self, name: impl Into<String>) -> Self {
        self.table = name.into();
        self
    }

    /// How long a key stays recorded (default [`PgDedupeStore::DEFAULT_TTL`], 10 minutes). It
    /// must outlast P100's retries (the last about 2 minutes after the first delivery).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The limit on one store operation outside [`begin`](PgDedupeStore::begin) (default
    /// [`PgDedupeStore::DEFAULT_OPERATION_TIMEOUT`], 5 s); past it the operation fails with
    /// [`PgStoreError::TimedOut`]. The exactly-once path is bounded by the receiver's handler
    /// time limit instead.
    pub fn operation_timeout(mut self, limit: Duration) -> Self {
        self.operation_timeout = limit;
        self
    }

    /// With [`url`](Self::url): the most connections the pool opens (default 16). A delivery
    /// being handled holds one for its whole transaction.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// With [`url`](Self::url): how long a delivery waits for a free connection before it fails
    /// with [`PgStoreError::PoolExhausted`] (default 2 s).
    pub fn wait_timeout(mut self, limit: Duration) -> Self {
        self.wait_timeout = limit;
        self
    }

    /// With [`url`](Self::url): how long opening a connection may take (default 2 s).
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// The store. Fails on an invalid table name or URL, or without a URL or pool; connects
    /// only when first used.
    pub fn build(self) -> Result<PgDedupeStore, PgStoreError> {
        let table = TableName::parse(&self.table)?;
        let pool = match (self.pool, self.url) {
            (Some(pool), _) => pool,
            (None, Some(url)) => {
                let mut config =
                    tokio_postgres::Config::from_str(&url).map_err(PgStoreError::InvalidUrl)?;
                if config.get_connect_timeout().is_none() {
                    config.connect_timeout(self.connect_timeout);
                }
                if config.get_application_name().is_none() {
                    config.application_name("p100-webhooks");
                }
                let manager = Manager::from_config(
                    config,
                    tokio_postgres::NoTls,
                    ManagerConfig {
                        recycling_method: RecyclingMethod::Fast,
                    },
                );
                Pool::builder(manager)
                    .max_size(self.max_connections)
                    .runtime(Runtime::Tokio1)
                    .wait_timeout(Some(self.wait_timeout))
                    .create_timeout(Some(self.connect_timeout))
                    .recycle_timeout(Some(self.connect_timeout))
                    .build()
                    .map_err(PgStoreError::PoolBuild)?
            }
            (None, None) => return Err(PgStoreError::NoDatabase),
        };
        let sql = Sql::new(&table);
        Ok(PgDedupeStore {
            pool,
            table: Arc::new(table),
            sql: Arc::new(sql),
            ttl: self.ttl,
            operation_timeout: self.operation_timeout,
        })
    }
}

/// A validated table name, quoted for SQL.
#[derive(Debug)]
struct TableName {
    given: String,
    /// `"schema"."table"` or `"table"`.
    quoted: String,
    /// `"table_expires_idx"` (an index lives in its table's schema).
    index: String,
}

impl TableName {
    /// Leaves room for the index's `_expires_idx` within PostgreSQL's 63-byte names.
    const MAX_LEN: usize = 50;

    fn parse(name: &str) -> Result<Self, PgStoreError> {
        let invalid = |reason| PgStoreError::InvalidTableName {
            name: name.to_owned(),
            reason,
        };
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() > 2 {
            return Err(invalid("at most one `.`, between a schema and a table"));
        }
        for part in &parts {
            let mut bytes = part.bytes();
            match bytes.next() {
                None => return Err(invalid("an empty name")),
                Some(b'a'..=b'z' | b'_') => {}
                Some(_) => return Err(invalid("must start with a lowercase letter or `_`")),
            }
            if !bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_')) {
                return Err(invalid("only lowercase letters, digits and `_`"));
            }
            if part.len() > Self::MAX_LEN {
                return Err(invalid("longer than 50 bytes"));
            }
        }
        let table = parts[parts.len() - 1];
        let quoted = parts
            .iter()
            .map(|part| format!("\"{part}\""))
            .collect::<Vec<_>>()
            .join(".");
        Ok(Self {
            given: name.to_owned(),
            quoted,
            index: format!("\"{table}_expires_idx\""),
        })
    }
}

/// The store's statements, built once per store from the table name.
#[derive(Debug)]
struct Sql {
    create: String,
    /// `$1` key, `$2` TTL in seconds; a row (the transaction id) when the key is new or expired.
    record: String,
    forget: String,
    contains: String,
    /// `$1` batch size.
    purge: String,
}

impl Sql {
    fn new(table: &TableName) -> Self {
        let t = &table.quoted;
        let index = &table.index;
        Self {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (\
                   key text PRIMARY KEY, \
                   recorded_at timestamptz NOT NULL DEFAULT now(), \
                   expires_at timestamptz NOT NULL); \
                 CREATE INDEX IF NOT EXISTS {index} ON {t} (expires_at)"
            ),
            // One statement, so atomic across instances: a concurrent insert of the same key
            // waits for the other transaction, then sees its row (a repeat) or its rollback
            // (inserts). An expired row is taken over as if absent.
            record: format!(
                "INSERT INTO {t} AS k (key, expires_at) \
                 VALUES ($1, now() + $2::float8 * interval '1 second') \
                 ON CONFLICT (key) DO UPDATE \
                   SET recorded_at = now(), expires_at = EXCLUDED.expires_at \
                   WHERE k.expires_at <= now() \
                 RETURNING txid_current()"
            ),
            forget: format!("DELETE FROM {t} WHERE key = $1"),
            contains: format!("SELECT 1 FROM {t} WHERE key = $1 AND expires_at > now()"),
            purge: format!(
                "DELETE FROM {t} WHERE key IN (\
                   SELECT key FROM {t} WHERE expires_at <= now() \
                   LIMIT $1 FOR UPDATE SKIP LOCKED)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers_quoted() {
        let table = TableName::parse("p100_webhook_keys").unwrap();
        assert_eq!(table.quoted, "\"p100_webhook_keys\"");
        assert_eq!(table.index, "\"p100_webhook_keys_expires_idx\"");
        let table = TableName::parse("hooks.keys_2").unwrap();
        assert_eq!(table.quoted, "\"hooks\".\"keys_2\"");
        assert_eq!(table.index, "\"keys_2_expires_idx\"");

        for bad in [
            "",
            "Keys",
            "2keys",
            "keys; DROP TABLE x",
            "a.b.c",
            ".keys",
            "keys\"",
            "ключи",
            &"k".repeat(51),
        ] {
            let error = TableName::parse(bad).unwrap_err();
            assert!(
                matches!(error, PgStoreError::InvalidTableName { .. }),
                "{bad:?}: {error}"
            );
        }
        assert!(TableName::parse(&"k".repeat(50)).is_ok());
    }

    #[test]
    fn the_builder_needs_a_database_and_a_valid_url() {
        assert!(matches!(
            PgDedupeStore::builder().build(),
            Err(PgStoreError::NoDatabase)
        ));
        assert!(matches!(
            PgDedupeStore::builder().url("postgres://a:b@[::1").build(),
            Err(PgStoreError::InvalidUrl(_))
        ));
        assert!(matches!(
            PgDedupeStore::builder()
                .url("postgres://127.0.0.1/db")
                .table("Bad")
                .build(),
            Err(PgStoreError::InvalidTableName { .. })
        ));
    }

    #[test]
    fn the_builder_does_not_show_the_url() {
        let builder = PgDedupeStore::builder().url("postgres://app:hunter2@db/app");
        assert!(!format!("{builder:?}").contains("hunter2"));
    }
}
