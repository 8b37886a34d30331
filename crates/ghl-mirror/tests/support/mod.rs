//! A demo sandbox on loopback, a client that counts its requests, and a
//! read-only view of the sandbox's own database to compare against.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_mirror::Mirror;
use ghl_store::StoreUrl;
use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub sandbox: ghl_sandbox::Sandbox,
    pub client: Client,
    pub requests: Arc<AtomicUsize>,
    pub mirror: Mirror,
}

impl Env {
    pub fn sandbox_db(&self) -> PathBuf {
        self.dir.path().join("sandbox.db")
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Ids (or any one column) of a sandbox collection, for comparison.
    pub fn sandbox_docs(&self, coll: &str) -> Vec<Value> {
        let conn = rusqlite::Connection::open_with_flags(
            self.sandbox_db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt = conn
            .prepare("SELECT data FROM docs WHERE coll = ?1 AND (location_id = ?2 OR location_id IS NULL) ORDER BY id")
            .unwrap();
        stmt.query_map(
            rusqlite::params![coll, ghl_sandbox::DEMO_LOCATION_ID],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
        .map(|s| serde_json::from_str(&s.unwrap()).unwrap())
        .collect()
    }

    pub fn sandbox_contacts(&self) -> Vec<Value> {
        let conn = rusqlite::Connection::open_with_flags(
            self.sandbox_db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let mut stmt = conn
            .prepare("SELECT data FROM contacts WHERE location_id = ?1 ORDER BY id")
            .unwrap();
        stmt.query_map([ghl_sandbox::DEMO_LOCATION_ID], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|s| serde_json::from_str(&s.unwrap()).unwrap())
            .collect()
    }

    /// One column of a mirror query, as strings.
    pub fn mirror_strings(&self, sql: &str) -> Vec<String> {
        let r = self
            .mirror
            .query(
                sql,
                ghl_store::QueryLimits {
                    max_rows: 1_000_000,
                    ..Default::default()
                },
            )
            .unwrap();
        r.rows
            .into_iter()
            .map(|row| match &row[0] {
                ghl_store::Value::Text(s) => s.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    pub fn count(&self, sql: &str) -> i64 {
        let r = self.mirror.query(sql, Default::default()).unwrap();
        r.rows[0][0].as_i64().unwrap()
    }
}

pub async fn start(extra_contacts: usize) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    let mut opts = ghl_sandbox::SandboxOptions::new(db.clone());
    opts.rate_limit = ghl_sandbox::RateLimit {
        max: 100_000,
        interval: std::time::Duration::from_secs(10),
        daily: 10_000_000,
    };
    let sandbox = ghl_sandbox::start(opts).await.unwrap();
    if extra_contacts > 0 {
        ghl_sandbox::bulk_seed_contacts(&db, extra_contacts).unwrap();
    }
    let requests = Arc::new(AtomicUsize::new(0));
    let client = client_for(&sandbox.base_url(), requests.clone(), 100_000);
    let mirror = open_mirror(&dir);
    Env {
        dir,
        sandbox,
        client,
        requests,
        mirror,
    }
}

pub fn client_for(base_url: &str, requests: Arc<AtomicUsize>, rate: u32) -> Client {
    let mut tc = TransportConfig::new(base_url, Secret::new(ghl_sandbox::DEFAULT_TOKEN));
    tc.rate.max = rate;
    tc.logger = Some(Arc::new(move |line: &str| {
        if line.starts_with("> ") {
            requests.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let transport = Transport::new(tc).unwrap();
    Client::new(
        Arc::new(transport),
        Policy {
            confirm: ghl_core::Confirm::Granted,
            ..Policy::default()
        },
        Defaults {
            location_id: Some(ghl_sandbox::DEMO_LOCATION_ID.to_string()),
            company_id: None,
        },
    )
}

thread_local! {
    static BACKEND: std::cell::Cell<ghl_store::Backend> =
        const { std::cell::Cell::new(ghl_store::Backend::Sqlite) };
}

/// The backend the mirror of the next [`start`] on this thread lives on
/// (`on_both!` sets it; tokio's test runtime runs the test on its thread).
pub fn use_backend(b: ghl_store::Backend) {
    BACKEND.with(|c| c.set(b));
}

/// A new mirror on this thread's backend, opened the way `ghl sync` opens
/// one: a file on SQLite, a schema of its own on the test Postgres (which
/// must be running: `GHL_TEST_PG_URL`, else the test fails saying so).
pub fn open_mirror(dir: &tempfile::TempDir) -> Mirror {
    let name = ghl_mirror::store_name("test", ghl_sandbox::DEMO_LOCATION_ID);
    let url = match BACKEND.with(|c| c.get()) {
        ghl_store::Backend::Sqlite => StoreUrl::Sqlite(dir.path().join("mirror.db")),
        ghl_store::Backend::Postgres => ghl_store::testing::postgres_database().unwrap(),
    };
    let mirror = Mirror::open_scoped(&url, &name).unwrap();
    assert_eq!(mirror.store().backend(), BACKEND.with(|c| c.get()));
    mirror
}

/// Each mirror test, once on SQLite and once on Postgres.
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                $crate::support::use_backend(ghl_store::Backend::Sqlite);
                super::$name().await
            }
            #[tokio::test]
            async fn postgres() {
                $crate::support::use_backend(ghl_store::Backend::Postgres);
                super::$name().await
            }
        }
    };
}
