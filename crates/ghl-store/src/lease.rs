//! Named leases with an expiry: one holder at a time, taken over when the
//! holder stops renewing (a process that died). Used for delivery claims,
//! sync workers and the OAuth refresh lock.

use std::time::Duration;

use crate::error::Result;
use crate::{Migration, Store, Value};

pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: "CREATE TABLE IF NOT EXISTS ghl_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
    postgres: "CREATE TABLE IF NOT EXISTS ghl_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at BIGINT NOT NULL
    )",
}];

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A lease this process holds until it expires or is released.
#[derive(Clone)]
pub struct Lease {
    store: Store,
    pub name: String,
    pub holder: String,
    ttl: Duration,
}

pub(crate) fn acquire(
    store: &Store,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> Result<Option<Lease>> {
    store.migrate("leases", MIGRATIONS)?;
    let now = now_ms();
    let until = now + ttl.as_millis() as i64;
    let got = store.write(|tx| {
        tx.execute(
            "INSERT INTO ghl_leases (name, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE ghl_leases.expires_at < $4 OR ghl_leases.holder = excluded.holder",
            &[name.into(), holder.into(), Value::Int(until), Value::Int(now)],
        )
    })?;
    Ok((got == 1).then(|| Lease {
        store: store.clone(),
        name: name.to_string(),
        holder: holder.to_string(),
        ttl,
    }))
}

impl Lease {
    /// Extend the lease; false when it expired and someone else took it.
    pub fn renew(&self) -> Result<bool> {
        let until = now_ms() + self.ttl.as_millis() as i64;
        let n = self.store.write(|tx| {
            tx.execute(
                "UPDATE ghl_leases SET expires_at = $1 WHERE name = $2 AND holder = $3",
                &[
                    Value::Int(until),
                    self.name.as_str().into(),
                    self.holder.as_str().into(),
                ],
            )
        })?;
        Ok(n == 1)
    }

    /// Give the lease up now.
    pub fn release(self) -> Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "DELETE FROM ghl_leases WHERE name = $1 AND holder = $2",
                &[self.name.as_str().into(), self.holder.as_str().into()],
            )
        })?;
        Ok(())
    }
}
