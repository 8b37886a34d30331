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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

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

/// A count being made by one request, that others asking for the same
/// count wait for: 16 requests arriving at once for a new query make one
/// count, not 16 (which on 2 cores is what the slowest of them waits for).
#[derive(Default)]
struct Pending {
    /// `Some(Some(n))` once counted, `Some(None)` if the count failed.
    done: Mutex<Option<Option<u64>>>,
    ready: Condvar,
}

impl Pending {
    fn finish(&self, n: Option<u64>) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if done.is_none() {
            *done = Some(n);
        }
        self.ready.notify_all();
    }

    fn wait(&self) -> Option<u64> {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(n) = *done {
                return n;
            }
            done = self.ready.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Wakes the waiters however the count ends (an error, a panic).
struct Finish(Arc<Pending>);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.finish(None);
    }
}

enum Slot {
    Counted(u64),
    Counting(Arc<Pending>),
}

type Cache = Mutex<HashMap<(i64, Key), Slot>>;

fn cache() -> MutexGuard<'static, HashMap<(i64, Key), Slot>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
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

/// The count for `key` at `stamp`: remembered, being made by another
/// request (waited for), or made by `count` now.
pub fn get_or_count(
    stamp: Option<i64>,
    key: Key,
    count: impl FnOnce() -> rusqlite::Result<u64>,
) -> rusqlite::Result<u64> {
    let Some(stamp) = stamp else {
        return count();
    };
    let entry = (stamp, key);
    let pending = {
        let mut c = cache();
        match c.get(&entry) {
            Some(Slot::Counted(n)) => return Ok(*n),
            Some(Slot::Counting(p)) => Err(p.clone()),
            None => {
                if c.len() >= MAX_ENTRIES {
                    c.clear();
                }
                let p = Arc::new(Pending::default());
                c.insert(entry.clone(), Slot::Counting(p.clone()));
                Ok(p)
            }
        }
    };
    let mine = match pending {
        Err(theirs) => {
            return match theirs.wait() {
                Some(n) => Ok(n),
                // Their count failed: make ours (and meet its error).
                None => count(),
            };
        }
        Ok(mine) => Finish(mine),
    };
    let n = count();
    {
        let mut c = cache();
        match &n {
            Ok(n) => c.insert(entry, Slot::Counted(*n)),
            Err(_) => c.remove(&entry),
        };
    }
    mine.0.finish(n.as_ref().ok().copied());
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn key(loc: &str) -> Key {
        Key {
            what: "test",
            loc: loc.to_string(),
            pattern: None,
            lo: None,
            hi: None,
        }
    }

    /// A second request for a count being made waits for it and takes its
    /// answer (its own count would say otherwise); if the first fails, the
    /// second counts for itself.
    #[test]
    fn a_count_under_way_is_waited_for_not_made_twice() {
        for (first_fails, want) in [(false, 7), (true, 999)] {
            let stamp = rand::random::<i64>();
            let (release, hold) = mpsc::channel::<()>();
            let (started, counting) = mpsc::channel::<()>();
            let first = std::thread::spawn(move || {
                get_or_count(Some(stamp), key("a"), || {
                    started.send(()).unwrap();
                    hold.recv().unwrap();
                    if first_fails {
                        Err(rusqlite::Error::InvalidQuery)
                    } else {
                        Ok(7)
                    }
                })
            });
            counting.recv().unwrap();
            let second = std::thread::spawn(move || {
                get_or_count(Some(stamp), key("a"), || Ok(999)).unwrap()
            });
            // Give the second request time to find the count under way.
            std::thread::sleep(Duration::from_millis(100));
            release.send(()).unwrap();
            assert_eq!(first.join().unwrap().is_err(), first_fails);
            assert_eq!(second.join().unwrap(), want, "first fails: {first_fails}");
        }
    }
}
