//! Totals of contact searches, remembered per state of the contacts table.
//!
//! Every page of a walk asks for the same total, and counting a common
//! substring over 100,000 contacts costs milliseconds (the trigram index
//! merges long lists), more than reading the page itself. A total is kept
//! under the table's stamp: a random number that triggers replace on every
//! insert, update and delete of a contact (from any process, since the
//! triggers live in the database), so a count cached for one state of the
//! table is never served for another, whichever file or copy it came from.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use rusqlite::{Connection, OptionalExtension};

/// The stamp table and its triggers (part of the sandbox schema). No
/// conflict clause in the triggers: an outer statement's (a contact's
/// upsert) would override it. The row appears with the first write, so
/// opening a database writes nothing.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS contacts_stamp(id INTEGER PRIMARY KEY CHECK (id = 1), stamp INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS contacts_stamp_i AFTER INSERT ON contacts BEGIN
  UPDATE contacts_stamp SET stamp = random() WHERE id = 1;
  INSERT INTO contacts_stamp(id, stamp) SELECT 1, random() WHERE NOT EXISTS (SELECT 1 FROM contacts_stamp); END;
CREATE TRIGGER IF NOT EXISTS contacts_stamp_u AFTER UPDATE ON contacts BEGIN
  UPDATE contacts_stamp SET stamp = random() WHERE id = 1;
  INSERT INTO contacts_stamp(id, stamp) SELECT 1, random() WHERE NOT EXISTS (SELECT 1 FROM contacts_stamp); END;
CREATE TRIGGER IF NOT EXISTS contacts_stamp_d AFTER DELETE ON contacts BEGIN
  UPDATE contacts_stamp SET stamp = random() WHERE id = 1;
  INSERT INTO contacts_stamp(id, stamp) SELECT 1, random() WHERE NOT EXISTS (SELECT 1 FROM contacts_stamp); END;
";

/// What was counted: a location, its match condition and date range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub what: &'static str,
    pub loc: String,
    pub pattern: Option<String>,
    pub lo: Option<String>,
    pub hi: Option<String>,
}

/// Past this many entries the cache starts over (stale stamps are never
/// asked for again, so nothing worth keeping is lost for long).
const MAX_ENTRIES: usize = 4096;

fn cache() -> &'static Mutex<HashMap<(i64, Key), u64>> {
    static CACHE: OnceLock<Mutex<HashMap<(i64, Key), u64>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The table's current stamp, when the answer can be trusted to describe
/// the rows the caller goes on to read: inside a transaction (one
/// snapshot), after at least one contact write stamped the table.
pub fn stamp(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    if conn.is_autocommit() {
        return Ok(None);
    }
    conn.prepare_cached("SELECT stamp FROM contacts_stamp WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// The count for `key` at `stamp`, from the cache or from `count`.
pub fn get_or_count(
    stamp: Option<i64>,
    key: Key,
    count: impl FnOnce() -> rusqlite::Result<u64>,
) -> rusqlite::Result<u64> {
    let Some(stamp) = stamp else {
        return count();
    };
    let entry = (stamp, key);
    if let Some(n) = cache().lock().ok().and_then(|c| c.get(&entry).copied()) {
        return Ok(n);
    }
    let n = count()?;
    if let Ok(mut c) = cache().lock() {
        if c.len() >= MAX_ENTRIES {
            c.clear();
        }
        c.insert(entry, n);
    }
    Ok(n)
}
