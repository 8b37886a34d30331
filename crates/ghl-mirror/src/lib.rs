//! `ghl-mirror`: a local copy of one HighLevel location that answers
//! questions across records without paging through the API.
//!
//! - [`sync`] fills the mirror's tables through `ghl_core::Client` (pages at
//!   the rate ceiling, incremental where the API filters by update time,
//!   resumable per group);
//! - [`events::apply_event`] applies one webhook event between syncs;
//! - [`Mirror::query`] runs read-only SQL; [`reports`] and [`names`] are
//!   built on it.
//!
//! It must never: send a request except through `ghl_core::Client`, open a
//! database except through `ghl-store`, or let a query change the mirror.

pub mod events;
pub mod groups;
pub mod lanes;
pub mod merge;
pub mod names;
pub mod reports;
pub mod schedule;
pub mod schema;
pub mod sync;
pub mod tables;
pub mod views;
pub mod workers;

use ghl_core::{Error, ErrorCode};
use ghl_store::{QueryLimits, QueryResult, Store, StoreUrl};
use serde_json::Value as Json;

pub use events::apply_event;
pub use sync::{GroupReport, Progress, SyncOptions, sync};

/// One location's mirror, in its store.
#[derive(Clone)]
pub struct Mirror {
    store: Store,
    /// Profile and location, when opened for them (names its sync lease).
    key: Option<(String, String)>,
}

/// The store name of the mirror of `location` under `profile`.
pub fn store_name(profile: &str, location: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("mirror-{}-{}", clean(profile), clean(location))
}

impl Mirror {
    /// Open (creating and migrating when new) the mirror `url` names.
    pub fn open(url: &StoreUrl) -> Result<Mirror, Error> {
        let store = Store::open(url).map_err(store_error)?;
        Mirror::from_store(store)
    }

    /// The mirror of `location` for `profile`: `explicit` (a `--store`
    /// flag), else `GHL_STORE_URL`, else a file in the data directory.
    pub fn open_for(
        explicit: Option<&str>,
        profile: &str,
        location: &str,
    ) -> Result<Mirror, Error> {
        let name = store_name(profile, location);
        let url = StoreUrl::resolve(explicit, &name).map_err(store_error)?;
        let mut mirror = Mirror::open_scoped(&url, &name)?;
        mirror.key = Some((profile.to_string(), location.to_string()));
        Ok(mirror)
    }

    /// The lease a sync of this mirror holds (see [`workers`]), when the
    /// mirror was opened for a profile and location.
    pub fn sync_lease_name(&self) -> Option<String> {
        self.key
            .as_ref()
            .map(|(profile, location)| workers::lease_name(profile, location))
    }

    /// The mirror named `name` in the store `url`: its own file on SQLite,
    /// its own schema on a shared Postgres (so every location's tables,
    /// views and `ghl sql` stay apart while one server holds them all).
    pub fn open_scoped(url: &StoreUrl, name: &str) -> Result<Mirror, Error> {
        let url = ghl_store::scoped(url, name).map_err(store_error)?;
        Mirror::open(&url)
    }

    /// Whether the mirror file for `location` exists (without creating it).
    pub fn exists_for(explicit: Option<&str>, profile: &str, location: &str) -> bool {
        match StoreUrl::resolve(explicit, &store_name(profile, location)) {
            Ok(StoreUrl::Sqlite(p)) => p.exists(),
            Ok(StoreUrl::Postgres(_)) => true,
            Err(_) => false,
        }
    }

    pub fn from_store(store: Store) -> Result<Mirror, Error> {
        store
            .migrate(schema::PLANE, schema::MIGRATIONS)
            .map_err(store_error)?;
        Ok(Mirror { store, key: None })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Run one read-only statement of user SQL.
    pub fn query(&self, sql: &str, limits: QueryLimits) -> Result<QueryResult, Error> {
        self.store
            .query_readonly(sql, &[], limits)
            .map_err(store_error)
    }

    /// A query with `$1…` parameters (for reports).
    pub fn query_with(
        &self,
        sql: &str,
        params: &[ghl_store::Value],
        limits: QueryLimits,
    ) -> Result<QueryResult, Error> {
        self.store
            .query_readonly(sql, params, limits)
            .map_err(store_error)
    }

    /// Whether any sync has completed (names and reports need one).
    pub fn is_synced(&self) -> Result<bool, Error> {
        let r = self.query(
            "SELECT COUNT(*) FROM sync_state WHERE completed_ms IS NOT NULL",
            QueryLimits::default(),
        )?;
        Ok(r.rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
            > 0)
    }

    /// Tables and views with their columns, for `ghl sql --schema` and the
    /// MCP query tool's description.
    pub fn schema(&self) -> Result<Vec<(String, String, Vec<String>)>, Error> {
        if self.store.backend() == ghl_store::Backend::Postgres {
            return self.schema_postgres();
        }
        let objects = self.query(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'ghl_%' ORDER BY type, name",
            QueryLimits::default(),
        )?;
        let mut out = Vec::new();
        for row in objects.rows {
            let (Some(name), Some(kind)) = (row[0].as_str(), row[1].as_str()) else {
                continue;
            };
            // Column names from an empty select: no PRAGMA needed.
            let cols = self.query(
                &format!("SELECT * FROM \"{name}\" LIMIT 0"),
                QueryLimits::default(),
            )?;
            out.push((name.to_string(), kind.to_string(), cols.columns));
        }
        Ok(out)
    }
}

impl Mirror {
    /// Postgres keeps no `sqlite_master`, and an empty result carries no
    /// column names there: both come from `information_schema`, for this
    /// mirror's schema only.
    fn schema_postgres(&self) -> Result<Vec<(String, String, Vec<String>)>, Error> {
        let r = self.query(
            "SELECT t.table_name::text,
                    CASE t.table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END,
                    c.column_name::text
             FROM information_schema.tables t
             JOIN information_schema.columns c
               ON c.table_schema = t.table_schema AND c.table_name = t.table_name
             WHERE t.table_schema = current_schema() AND t.table_name NOT LIKE 'ghl\\_%'
             ORDER BY 2, 1, c.ordinal_position",
            QueryLimits {
                max_rows: 100_000,
                ..QueryLimits::default()
            },
        )?;
        let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
        for row in r.rows {
            let (Some(name), Some(kind), Some(col)) =
                (row[0].as_str(), row[1].as_str(), row[2].as_str())
            else {
                continue;
            };
            match out.last_mut() {
                Some((n, _, cols)) if n == name => cols.push(col.to_string()),
                _ => out.push((name.to_string(), kind.to_string(), vec![col.to_string()])),
            }
        }
        Ok(out)
    }
}

/// The schema as text, one table or view a line.
pub fn schema_text(schema: &[(String, String, Vec<String>)]) -> String {
    schema
        .iter()
        .map(|(name, kind, cols)| format!("{kind} {name}({})", cols.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn store_error(e: ghl_store::Error) -> Error {
    match e {
        ghl_store::Error::ReadOnly(m) => Error::new(ErrorCode::Policy, format!("mirror: {m}"))
            .with_hint(
                "`ghl sql` only reads; change records with the normal commands, then `ghl sync`",
            ),
        ghl_store::Error::Busy(m) => Error::new(ErrorCode::Timeout, format!("mirror: {m}")),
        other => Error::config(format!("mirror: {other}"))
            .with_hint("`ghl sql --schema` lists the tables and columns"),
    }
}

/// An ISO time or an epoch number (seconds or milliseconds) in ms.
pub fn time_ms(v: &Json) -> Option<i64> {
    match v {
        Json::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return Some(epoch_ms(n));
            }
            ghl_core::validate::iso_to_epoch_ms(s).or_else(|| {
                // "2024-05-01 10:00:00" (space, no zone) is UTC.
                ghl_core::validate::iso_to_epoch_ms(&format!("{}Z", s.replacen(' ', "T", 1)))
            })
        }
        Json::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(epoch_ms),
        _ => None,
    }
}

fn epoch_ms(n: i64) -> i64 {
    // Before 2001-09 in ms is after 33658 in seconds: small numbers are seconds.
    if n.abs() < 100_000_000_000 {
        n * 1000
    } else {
        n
    }
}

/// Epoch ms as `2025-01-31T15:00:00.000Z`.
pub fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
