//! Exactly-once handling: the event's key and the handler's writes in one transaction.
//!
//! [`PgDedupeStore::begin`] takes a connection, opens a transaction and records the key in it.
//! The key's row stays uncommitted, and so locked, until the transaction ends: a concurrent
//! delivery of the same event (another instance, or P100 retrying while the first is still
//! being handled) waits on it, then finds the key committed (a repeat) or rolled back (its turn).
//! The commit makes the key and the writes durable together; anything else (an error, a panic,
//! a time limit that drops the transaction, a lost connection, a server crash) leaves neither.

use std::future::Future;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use deadpool_postgres::{ClientWrapper, Object};
use futures_util::FutureExt;

use super::{HandleOnceError, PgDedupeStore, PgStoreError};
use crate::webhooks::{BoxError, DedupeKey, WebhookEvent};

/// What [`PgDedupeStore::begin`] found.
#[derive(Debug)]
pub enum Begin {
    /// The first delivery of this event (or the first since its key expired): do its writes in
    /// the transaction, then [`commit`](EventTransaction::commit).
    First(EventTransaction),
    /// The key is recorded (committed): the event was handled before, here or on another
    /// instance. Answer 200 and do nothing.
    Repeat,
}

/// An open transaction in which an event's key is recorded: do the event's writes through it
/// (it dereferences to the pooled `tokio_postgres` client, with `prepare_cached`), then
/// [`commit`](Self::commit).
///
/// Dropped without a commit (an error returned early, a panic, a cancelled future), it closes
/// its connection instead of returning it to the pool, and the server rolls the transaction
/// back: the key and the writes are gone together, and the next delivery is handled again.
/// [`rollback`](Self::rollback) does the same and keeps the connection.
///
/// Do not end the transaction yourself (`COMMIT`, `ROLLBACK` through `batch_execute`): the commit
/// then fails with [`PgStoreError::TransactionAborted`]. Savepoints are fine.
pub struct EventTransaction {
    /// `Some` until the transaction ends; the guard that discards the connection. Boxed: a
    /// pooled connection is some 250 bytes, and this travels in [`Begin`].
    client: Option<Box<Object>>,
    /// The server's transaction id, to check at commit that it is still this transaction.
    txid: i64,
    key: Option<DedupeKey>,
}

impl EventTransaction {
    /// The key recorded in this transaction (`None` from
    /// [`begin_unrecorded`](PgDedupeStore::begin_unrecorded)).
    pub fn key(&self) -> Option<&DedupeKey> {
        self.key.as_ref()
    }

    /// Commits the key and everything written through this transaction: from now on the event
    /// is handled, and its deliveries are [`Begin::Repeat`].
    ///
    /// An error means the commit did not happen, or may not have (a connection lost during
    /// `COMMIT`): answer 500; P100's retry then finds the key (a repeat) or handles the event
    /// again, never both. [`PgStoreError::TransactionAborted`] if a statement of the
    /// transaction had failed: PostgreSQL would have turned the `COMMIT` into a rollback.
    pub async fn commit(mut self) -> Result<(), PgStoreError> {
        let client = self.client()?;
        // In a failed transaction this statement fails; after a COMMIT or ROLLBACK of the
        // handler's own, the id differs (or there is none).
        let failed = |error: tokio_postgres::Error| match error.code() {
            Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION) => {
                PgStoreError::TransactionAborted
            }
            _ => PgStoreError::Database(error),
        };
        let probe = client
            .prepare_cached("SELECT txid_current_if_assigned()")
            .await
            .map_err(failed)?;
        let current: Option<i64> = client
            .query_one(&probe, &[])
            .await
            .map_err(failed)?
            .try_get(0)
            .map_err(PgStoreError::Database)?;
        if current != Some(self.txid) {
            return Err(PgStoreError::TransactionAborted);
        }
        client
            .batch_execute("COMMIT")
            .await
            .map_err(PgStoreError::Database)?;
        // Committed: the connection is clean and goes back to the pool.
        self.client.take();
        Ok(())
    }

    /// Rolls back the key and the writes, keeping the connection for the pool. Dropping the
    /// transaction has the same outcome.
    pub async fn rollback(mut self) -> Result<(), PgStoreError> {
        self.client()?
            .batch_execute("ROLLBACK")
            .await
            .map_err(PgStoreError::Database)?;
        self.client.take();
        Ok(())
    }

    fn client(&self) -> Result<&ClientWrapper, PgStoreError> {
        self.client
            .as_deref()
            .map(|client| &**client)
            .ok_or(PgStoreError::TransactionAborted)
    }

    /// Opens a transaction on `client`; the guard exists before `BEGIN` is sent, so that a
    /// cancelled `begin` cannot return a connection inside a transaction to the pool.
    async fn open(client: Object) -> Result<Self, PgStoreError> {
        let tx = Self {
            client: Some(Box::new(client)),
            txid: 0,
            key: None,
        };
        tx.client()?
            .batch_execute("BEGIN")
            .await
            .map_err(PgStoreError::Database)?;
        Ok(tx)
    }
}

impl Deref for EventTransaction {
    type Target = ClientWrapper;

    fn deref(&self) -> &ClientWrapper {
        match &self.client {
            Some(client) => client,
            // `client` is taken only by `commit` and `rollback`, which consume `self`.
            None => unreachable!("an EventTransaction keeps its connection until it ends"),
        }
    }
}

impl Drop for EventTransaction {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Still inside the transaction (or unsure): close the connection rather than hand it
            // to the next user; the server rolls back.
            drop(Object::take(*client));
            tracing::debug!(
                key = self.key.as_ref().map(DedupeKey::as_str),
                "webhook transaction dropped without commit: rolled back"
            );
        }
    }
}

impl std::fmt::Debug for EventTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventTransaction")
            .field("key", &self.key)
            .field("open", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

/// What [`PgDedupeStore::handle_once`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handled {
    /// The handler ran and its writes are committed with the key.
    Now,
    /// The key was already recorded: handled before; the handler was not called.
    Earlier,
}

/// A handler whose writes commit with the event's key: it gets the open transaction, and the
/// event counts as handled exactly when the transaction commits.
///
/// Return `Ok` to commit; an error (or a panic) rolls back the key and every write made through
/// `tx`, so P100's retry reaches the handler again. Effects outside the database (an e-mail, a
/// call to another API) are not in the transaction: record them in it (an outbox row) and
/// send them afterwards.
///
/// ```
/// use p100_ergonomic::webhooks::postgres::{EventTransaction, TransactionalHandler};
/// use p100_ergonomic::webhooks::{BoxError, WebhookEvent};
///
/// struct CreditLedger;
///
/// impl TransactionalHandler for CreditLedger {
///     async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
///         if let WebhookEvent::CryptoDeposit(deposit) = event {
///             // Exact decimals go in as text, read by PostgreSQL as numeric.
///             tx.execute(
///                 "INSERT INTO ledger (deposit_id, user_id, amount) VALUES ($1, $2, $3::text::numeric)",
///                 &[
///                     &deposit.crypto_deposit_id.to_string(),
///                     &deposit.external_user_id,
///                     &deposit.amount.to_string(),
///                 ],
///             )
///             .await?;
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait TransactionalHandler: Send + Sync + 'static {
    /// Applies one event's effects through `tx`; `Ok` commits them with the event's key.
    fn handle(
        &self,
        event: WebhookEvent,
        tx: &EventTransaction,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl<H: TransactionalHandler> TransactionalHandler for Arc<H> {
    fn handle(
        &self,
        event: WebhookEvent,
        tx: &EventTransaction,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        (**self).handle(event, tx)
    }
}

impl PgDedupeStore {
    /// Opens a transaction recording `key`: [`Begin::First`] with the transaction to do the
    /// event's writes in and [`commit`](EventTransaction::commit), or [`Begin::Repeat`] if the
    /// key is already recorded.
    ///
    /// If another transaction is recording the same key (a concurrent delivery, on any
    /// instance), this waits for it to end. Bound the whole handling with a time limit
    /// (`tokio::time::timeout`; the receiver does): a timed-out `begin` or transaction is rolled
    /// back.
    pub async fn begin(&self, key: &DedupeKey) -> Result<Begin, PgStoreError> {
        let mut tx = EventTransaction::open(self.connection().await?).await?;
        let client = tx.client()?;
        let statement = client
            .prepare_cached(&self.sql.record)
            .await
            .map_err(PgStoreError::Database)?;
        let row = client
            .query_opt(&statement, &[&key.as_str(), &self.ttl.as_secs_f64()])
            .await
            .map_err(PgStoreError::Database)?;
        match row {
            Some(row) => {
                tx.txid = row.try_get(0).map_err(PgStoreError::Database)?;
                tx.key = Some(key.clone());
                Ok(Begin::First(tx))
            }
            None => {
                tx.rollback().await?;
                Ok(Begin::Repeat)
            }
        }
    }

    /// A transaction recording no key, for a kind handled at every delivery
    /// ([`without_dedupe`](crate::webhooks::WebhookReceiver::without_dedupe)): its writes still
    /// commit all together or not at all.
    pub async fn begin_unrecorded(&self) -> Result<EventTransaction, PgStoreError> {
        let mut tx = EventTransaction::open(self.connection().await?).await?;
        let row = tx
            .client()?
            .query_one("SELECT txid_current()", &[])
            .await
            .map_err(PgStoreError::Database)?;
        tx.txid = row.try_get(0).map_err(PgStoreError::Database)?;
        Ok(tx)
    }

    /// Handles `event` exactly once: [`begin`](Self::begin) with `key` (`None`:
    /// [`begin_unrecorded`](Self::begin_unrecorded)), the handler with the transaction, then
    /// the commit. A handler error or panic rolls back its writes and the key.
    ///
    /// `Ok` means the event is handled (now or before): answer 200. `Err` means nothing of it was
    /// committed (or, if the connection broke during the commit, maybe all of it, which the
    /// next delivery finds as a repeat): answer 500. Wrap it in a time limit; dropping it
    /// rolls back.
    ///
    /// ```no_run
    /// use p100_ergonomic::webhooks::postgres::{EventTransaction, PgDedupeStore, TransactionalHandler};
    /// use p100_ergonomic::webhooks::{self, BoxError, DedupeKey, WebhookEvent, WebhookKind};
    ///
    /// struct Save;
    /// impl TransactionalHandler for Save {
    ///     async fn handle(&self, event: WebhookEvent, tx: &EventTransaction) -> Result<(), BoxError> {
    ///         tx.execute("INSERT INTO events (kind) VALUES ($1)", &[&event.kind().as_str()]).await?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # async fn run(store: PgDedupeStore, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    /// let event = webhooks::parse(WebhookKind::Exchange, body)?;
    /// let key = DedupeKey::for_delivery(&event, body);
    /// let status = match store.handle_once(Some(&key), event, &Save).await {
    ///     Ok(_now_or_earlier) => 200,
    ///     Err(error) => {
    ///         eprintln!("{}: {error}", error.reason());
    ///         500
    ///     }
    /// };
    /// # let _ = status; Ok(()) }
    /// ```
    pub async fn handle_once<H: TransactionalHandler>(
        &self,
        key: Option<&DedupeKey>,
        event: WebhookEvent,
        handler: &H,
    ) -> Result<Handled, HandleOnceError> {
        let tx = match key {
            Some(key) => match self.begin(key).await? {
                Begin::First(tx) => tx,
                Begin::Repeat => return Ok(Handled::Earlier),
            },
            None => self.begin_unrecorded().await?,
        };
        // The call inside the block, so that a panic before the handler's first await is caught.
        let handling = AssertUnwindSafe(async { handler.handle(event, &tx).await }).catch_unwind();
        match handling.await {
            Ok(Ok(())) => {
                tx.commit().await?;
                Ok(Handled::Now)
            }
            // `tx` is dropped: rolled back.
            Ok(Err(error)) => Err(HandleOnceError::Handler(error)),
            Err(_panic) => Err(HandleOnceError::Panicked),
        }
    }
}
