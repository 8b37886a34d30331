//! `ghl-store`: everything `ghl` keeps between runs — the webhook spool and
//! its dedupe keys, the mirror's tables, bulk journals, leases.
//!
//! It knows nothing about HighLevel: planes (`ghl-events`, `ghl-mirror`,
//! `ghl-bulk`) bring their own tables as [`Migration`]s and talk to the store
//! through the portable surface of [`Tx`] with `$1`-style placeholders, so
//! the same plane code runs on the embedded SQLite file and, with
//! `GHL_STORE_URL=postgres://…`, on a shared Postgres.
//!
//! It must never: speak HTTP, hold a HighLevel token in plain sight of a
//! query, or let a read-only caller change anything.
//!
//! Nothing else in the workspace opens a database file or a Postgres
//! connection on ghl's behalf (the sandbox keeps its own SQLite: it imitates
//! HighLevel, it is not ghl's memory).

mod error;
mod lease;
mod lease_holder;
mod location;
mod migrate;
mod pg_readonly;
mod postgres;
mod readonly;
mod scope;
mod sqlite;
pub mod testing;
mod value;

pub use error::{Error, Result};
pub use lease::Lease;
pub use lease_holder::LeaseHolder;
pub use location::{ENV_STORE_URL, StoreUrl, default_dir};
pub use migrate::Migration;
pub use readonly::{QueryLimits, QueryResult};
pub use scope::scoped;
pub use value::{Row, Value};

use std::sync::Arc;

/// Which engine a store runs on; planes branch on it only where SQL
/// genuinely differs (for example `FOR UPDATE SKIP LOCKED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One statement surface inside a transaction. SQL uses `$1`, `$2`, …
/// placeholders, numbered in order of first use, on every backend.
pub trait Tx {
    /// Run a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Run a query; every row, with column names.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Run several statements with no parameters (schema changes).
    fn batch(&mut self, sql: &str) -> Result<()>;
    fn backend(&self) -> Backend;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
}

/// A handle on one store; cheap to clone, safe to share across threads.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Engine>,
}

enum Engine {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl Store {
    /// Open (creating it when missing) the store a URL names.
    pub fn open(url: &StoreUrl) -> Result<Store> {
        let engine = match url {
            StoreUrl::Sqlite(path) => Engine::Sqlite(sqlite::SqliteStore::open(path)?),
            StoreUrl::Postgres(u) => Engine::Postgres(postgres::PgStore::open(u, url.describe())?),
        };
        Ok(Store {
            inner: Arc::new(engine),
        })
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Engine::Sqlite(_) => Backend::Sqlite,
            Engine::Postgres(_) => Backend::Postgres,
        }
    }

    /// Where the store lives, for messages (never holds a password).
    pub fn describe(&self) -> String {
        match &*self.inner {
            Engine::Sqlite(s) => s.describe(),
            Engine::Postgres(p) => p.describe(),
        }
    }

    /// Apply a plane's migrations that this store has not seen yet, in order,
    /// each in its own transaction. Safe to call from many processes at once.
    pub fn migrate(&self, plane: &str, migrations: &[Migration]) -> Result<()> {
        migrate::apply(self, plane, migrations)
    }

    /// Run `f` in one write transaction: committed when it returns `Ok`
    /// (durable on disk before this returns), rolled back otherwise.
    pub fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        match &*self.inner {
            Engine::Sqlite(s) => s.write(f),
            Engine::Postgres(p) => p.write(f),
        }
    }

    /// Run `f` in a read-only transaction: any statement that would change
    /// the store fails.
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        match &*self.inner {
            Engine::Sqlite(s) => s.read(f),
            Engine::Postgres(p) => p.read(f),
        }
    }

    /// [`Store::write`] off the async runtime's worker threads.
    pub async fn write_async<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.write(f))
            .await
            .map_err(|e| Error::Backend(format!("store task failed: {e}")))?
    }

    /// [`Store::read`] off the async runtime's worker threads.
    pub async fn read_async<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read(f))
            .await
            .map_err(|e| Error::Backend(format!("store task failed: {e}")))?
    }

    /// Run one statement of arbitrary user SQL that may only read: writes,
    /// `ATTACH`, `PRAGMA`, extension loading and every other change are
    /// refused before it runs. At most `limits.max_rows` rows come back
    /// (`truncated` says when more existed).
    pub fn query_readonly(
        &self,
        sql: &str,
        params: &[Value],
        limits: QueryLimits,
    ) -> Result<QueryResult> {
        match &*self.inner {
            Engine::Sqlite(s) => s.query_readonly(sql, params, limits),
            Engine::Postgres(p) => p.query_readonly(sql, params, limits),
        }
    }

    /// A named lease held by `holder` for `ttl`; see [`Lease`].
    pub fn lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<Option<Lease>> {
        lease::acquire(self, name, holder, ttl)
    }
}
