//! For tests of every plane: a fresh, empty database on the real Postgres
//! server that `scripts/pg-test-server.sh` started (its URL in
//! `GHL_TEST_PG_URL`). There is no fallback and no skip: without a server
//! the test fails and says how to start one.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::location::StoreUrl;

pub const ENV_TEST_PG_URL: &str = "GHL_TEST_PG_URL";

/// A new database of its own on the test server, for one test.
pub fn postgres_database() -> Result<StoreUrl> {
    static N: AtomicU64 = AtomicU64::new(0);
    let base = std::env::var(ENV_TEST_PG_URL).map_err(|_| {
        Error::Config(format!(
            "{ENV_TEST_PG_URL} is not set: these tests need a real Postgres. \
             Run them through `bash scripts/test.sh`, or start one with \
             `eval \"$(bash scripts/pg-test-server.sh start)\"`"
        ))
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    );
    crate::postgres::exec_outside_tx(&base, &format!("CREATE DATABASE {name}"))?;
    Ok(StoreUrl::Postgres(with_database(&base, &name)))
}

fn with_database(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let after_scheme = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}
