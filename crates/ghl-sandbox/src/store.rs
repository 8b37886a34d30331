//! SQLite persistence: connection setup, schema and the generic document table.
//!
//! Two processes may open the same file at once, so the database runs in WAL
//! mode with a busy timeout, ids are random (never autoincrement), and every
//! request that writes runs inside an IMMEDIATE transaction (a deferred one
//! could fail to upgrade its lock under contention instead of waiting).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::SandboxError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, location_id TEXT NOT NULL, scopes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(
  coll TEXT NOT NULL, id TEXT NOT NULL, location_id TEXT, parent TEXT,
  seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY(coll, id));
CREATE INDEX IF NOT EXISTS docs_list ON docs(coll, location_id, parent, seq);
CREATE TABLE IF NOT EXISTS contacts(
  id TEXT PRIMARY KEY, location_id TEXT NOT NULL, email_lower TEXT, phone TEXT,
  first_lower TEXT, last_lower TEXT, date_added TEXT NOT NULL,
  search TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS contacts_added ON contacts(location_id, date_added, id);
CREATE INDEX IF NOT EXISTS contacts_first ON contacts(location_id, first_lower, id);
CREATE INDEX IF NOT EXISTS contacts_last ON contacts(location_id, last_lower, id);
CREATE INDEX IF NOT EXISTS contacts_email ON contacts(location_id, email_lower);
CREATE INDEX IF NOT EXISTS contacts_phone ON contacts(location_id, phone);
-- Substring search over 100k contacts: a trigram index kept in step by triggers.
-- (External content keyed by rowid; the sandbox never VACUUMs, so rowids stay put.)
CREATE VIRTUAL TABLE IF NOT EXISTS contacts_fts USING fts5(search, content='contacts', content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER IF NOT EXISTS contacts_ai AFTER INSERT ON contacts BEGIN
  INSERT INTO contacts_fts(rowid, search) VALUES (new.rowid, new.search); END;
CREATE TRIGGER IF NOT EXISTS contacts_ad AFTER DELETE ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search) VALUES ('delete', old.rowid, old.search); END;
CREATE TRIGGER IF NOT EXISTS contacts_au AFTER UPDATE ON contacts BEGIN
  INSERT INTO contacts_fts(contacts_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
  INSERT INTO contacts_fts(rowid, search) VALUES (new.rowid, new.search); END;
";

pub fn open_conn(path: &Path) -> Result<Connection, SandboxError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|source| SandboxError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let wrap = |source| SandboxError::Db {
        path: path.to_path_buf(),
        source,
    };
    // Two processes opening a new file at once can see SQLITE_BUSY while the
    // other switches it to WAL or creates the schema (those steps do not
    // always wait on the busy handler), so set-up is retried briefly.
    let mut tries = 0;
    loop {
        match init(path) {
            Ok(conn) => return Ok(conn),
            Err(e) if is_busy(&e) && tries < 100 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20 + 10 * (tries % 5)));
            }
            Err(e) => return Err(wrap(e)),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn init(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Read the file through one shared mapping instead of a 2 MB page cache
    // per connection: a search over 100k contacts reads many pages.
    conn.pragma_update(None, "mmap_size", 256i64 * 1024 * 1024)?;
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(crate::search_counts::SCHEMA)?;
    conn.execute_batch(crate::oauth::SCHEMA)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Schema changes for databases made by earlier versions of the sandbox.
const SCHEMA_VERSION: i64 = 2;

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version = |c: &Connection| -> rusqlite::Result<i64> {
        Ok(meta_get(c, "schema_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(1))
    };
    if version(conn)? >= SCHEMA_VERSION {
        return Ok(());
    }
    // Under the write lock, and checked again: another process may have
    // migrated meanwhile. A failure rolls back (the transaction is dropped).
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if version(&tx)? < SCHEMA_VERSION {
        // Version 2 added the trigram index: fill it from the rows that were
        // already there, or searches would miss them.
        tx.execute(
            "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')",
            [],
        )?;
        meta_set(&tx, "schema_version", &SCHEMA_VERSION.to_string())?;
    }
    tx.commit()
}

/// A small pool of connections to one database file, so concurrent requests
/// can read in parallel (WAL) instead of queueing on one connection.
pub struct Db {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, SandboxError> {
        let first = open_conn(path)?;
        Ok(Db {
            path: path.to_path_buf(),
            pool: Mutex::new(vec![first]),
        })
    }

    /// Run `f` with a pooled connection (opening a new one when all are busy).
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> Result<T, SandboxError> {
        let taken = self.pool.lock().ok().and_then(|mut p| p.pop());
        let mut conn = match taken {
            Some(c) => c,
            None => open_conn(&self.path)?,
        };
        let out = f(&mut conn);
        // Keep as many as run at once (16 in flight is common): a connection
        // dropped here is one opened again later, with its schema parsed
        // and its page cache cold.
        if let Ok(mut p) = self.pool.lock()
            && p.len() < 32
        {
            p.push(conn);
        }
        Ok(out)
    }
}

pub fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn meta_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

fn parse(data: String) -> Value {
    serde_json::from_str(&data).unwrap_or(Value::Null)
}

pub fn doc_get(conn: &Connection, coll: &str, id: &str) -> rusqlite::Result<Option<Value>> {
    conn.query_row(
        "SELECT data FROM docs WHERE coll = ?1 AND id = ?2",
        params![coll, id],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map(|o| o.map(parse))
}

/// Insert or replace a document, keeping its original creation order.
pub fn doc_put(
    conn: &Connection,
    coll: &str,
    id: &str,
    location_id: Option<&str>,
    parent: Option<&str>,
    data: &Value,
) -> rusqlite::Result<()> {
    // Cached: bulk callers (a contact's new tags) insert thousands at once.
    conn.prepare_cached(
        "INSERT INTO docs(coll, id, location_id, parent, seq, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(coll, id) DO UPDATE SET data = excluded.data, parent = excluded.parent,
         location_id = excluded.location_id",
    )?
    .execute(params![
        coll,
        id,
        location_id,
        parent,
        crate::ids::seq(),
        data.to_string()
    ])?;
    Ok(())
}

/// Insert location tags in one statement: `fresh` holds `[id, name]`
/// pairs. One statement rather than one per tag keeps the write lock short
/// when a contact arrives with thousands of tags.
pub fn tags_put_many(
    conn: &Connection,
    location_id: &str,
    fresh: &[Value],
) -> rusqlite::Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO docs(coll, id, location_id, parent, seq, data)
         SELECT 'tags', json_extract(value, '$[0]'), ?1, NULL, ?2 + key,
                json_object('id', json_extract(value, '$[0]'), 'name', json_extract(value, '$[1]'), 'locationId', ?1)
         FROM json_each(?3)
         WHERE true
         ON CONFLICT(coll, id) DO NOTHING",
    )?
    .execute(params![
        location_id,
        crate::ids::seq(),
        Value::Array(fresh.to_vec()).to_string()
    ])?;
    Ok(())
}

pub fn doc_delete(conn: &Connection, coll: &str, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM docs WHERE coll = ?1 AND id = ?2",
        params![coll, id],
    )? > 0)
}

/// Documents of a collection in creation order, optionally narrowed to one
/// location and/or one parent (e.g. the notes of one contact).
pub fn doc_list(
    conn: &Connection,
    coll: &str,
    location_id: Option<&str>,
    parent: Option<&str>,
) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM docs WHERE coll = ?1
         AND (?2 IS NULL OR location_id = ?2) AND (?3 IS NULL OR parent = ?3)
         ORDER BY seq, id",
    )?;
    let rows = stmt.query_map(params![coll, location_id, parent], |r| {
        r.get::<_, String>(0)
    })?;
    rows.map(|r| r.map(parse)).collect()
}

pub fn clear_all(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM docs; DELETE FROM contacts; DELETE FROM tokens; DELETE FROM meta;",
    )?;
    conn.execute_batch(crate::oauth::CLEAR)
}
