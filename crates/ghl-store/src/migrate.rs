//! Each plane brings its own numbered migrations; the store records which
//! ones it has applied, per plane, in `ghl_migrations`.

use crate::error::{Error, Result};
use crate::{Backend, Store, Value};

/// One schema step of a plane, written for each backend.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1, 2, 3… within the plane; never renumbered once released.
    pub version: i64,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS ghl_migrations (
    plane TEXT NOT NULL,
    version BIGINT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (plane, version)
)";

fn applied(store: &Store, plane: &str) -> Result<i64> {
    store.read(|tx| {
        tx.query_opt(
            "SELECT COALESCE(MAX(version), 0) AS v FROM ghl_migrations WHERE plane = $1",
            &[plane.into()],
        )?
        .map(|r| r.int("v"))
        .transpose()
        .map(|v| v.unwrap_or(0))
    })
}

pub(crate) fn apply(store: &Store, plane: &str, migrations: &[Migration]) -> Result<()> {
    for w in migrations.windows(2) {
        if w[1].version <= w[0].version {
            return Err(Error::Config(format!("{plane}: migrations out of order")));
        }
    }
    // Up to date already: nothing is written, so a role that may only read
    // (a reporting role on Postgres) can open the store. A store too new or
    // not yet set up goes on to the write below.
    if let Some(last) = migrations.last()
        && applied(store, plane).is_ok_and(|done| done >= last.version)
    {
        return Ok(());
    }
    // One transaction for the whole check-and-apply: two processes opening
    // a fresh store at once serialise on the write lock, and the second sees
    // what the first applied.
    store.write(|tx| {
        if tx.backend() == Backend::Postgres {
            // CREATE TABLE IF NOT EXISTS races between sessions on Postgres;
            // one migrator at a time, released at commit.
            tx.query("SELECT pg_advisory_xact_lock(7406)::text AS l", &[])?;
        }
        tx.batch(BOOKKEEPING)?;
        let done = tx
            .query_opt(
                "SELECT COALESCE(MAX(version), 0) AS v FROM ghl_migrations WHERE plane = $1",
                &[plane.into()],
            )?
            .map(|r| r.int("v"))
            .transpose()?
            .unwrap_or(0);
        for m in migrations.iter().filter(|m| m.version > done) {
            let sql = match tx.backend() {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            tx.batch(sql)?;
            tx.execute(
                "INSERT INTO ghl_migrations (plane, version, applied_at) VALUES ($1, $2, $3)",
                &[
                    plane.into(),
                    Value::Int(m.version),
                    Value::Int(crate::lease::now_ms()),
                ],
            )?;
        }
        Ok(())
    })
}
