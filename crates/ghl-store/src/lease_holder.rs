//! Who holds a lease and until when, so a process refused one can say what
//! it waits for ("synced by host/pid until 15:02:10").

use crate::Store;
use crate::error::Result;
use crate::lease::MIGRATIONS;

/// The current holder of a lease (possibly expired: compare `expires_at_ms`
/// with the clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseHolder {
    pub holder: String,
    /// Epoch milliseconds.
    pub expires_at_ms: i64,
}

impl Store {
    /// The holder of lease `name`, when anyone took it and has not released it.
    pub fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>> {
        self.migrate("leases", MIGRATIONS)?;
        let row = self.read(|tx| {
            tx.query_opt(
                "SELECT holder, expires_at FROM ghl_leases WHERE name = $1",
                &[name.into()],
            )
        })?;
        Ok(row.and_then(|r| {
            let holder = r.values.first()?.as_str()?.to_string();
            let expires_at_ms = r.values.get(1)?.as_i64()?;
            Some(LeaseHolder {
                holder,
                expires_at_ms,
            })
        }))
    }
}
