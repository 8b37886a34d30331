//! POST /contacts/search with filters no index answers (tags, custom
//! fields, `dateUpdated`...): every contact the query and date range leave
//! is read and tested, 100,000 of them in a large sandbox. A walk asks for
//! the same search page after page, so its matches (sort value, id and
//! where the row lies, in sort order) are remembered per state of the
//! contacts table, and each later page reads only its own rows.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::Connection;
use serde::Deserializer as _;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::contact_store::{self as cs, AddedIn};
use crate::search_counts;

/// One matching contact.
pub struct Hit {
    /// The value `searchAfter` compares first.
    pub key: Value,
    pub id: String,
    rowid: i64,
}

impl Hit {
    /// The whole contact, as stored.
    pub fn read(&self, c: &Connection) -> rusqlite::Result<Option<Value>> {
        cs::at_rowid(c, self.rowid)
    }
}

/// Everything that decides a search's matches and their order.
pub struct Search<'a> {
    pub loc: &'a str,
    pub query: Option<&'a str>,
    pub col: &'static str,
    pub sort_field: &'a str,
    pub asc: bool,
    pub added: &'a AddedIn,
    pub filters: &'a [Value],
}

struct Entry {
    stamp: i64,
    loc: String,
    query: Option<String>,
    col: &'static str,
    sort_field: String,
    asc: bool,
    lo: Option<String>,
    hi: Option<String>,
    filters: Vec<Value>,
    hits: Arc<Vec<Hit>>,
}

impl Entry {
    fn is(&self, stamp: i64, s: &Search) -> bool {
        self.stamp == stamp
            && self.loc == s.loc
            && self.query.as_deref() == s.query
            && self.col == s.col
            && self.sort_field == s.sort_field
            && self.asc == s.asc
            && self.lo == s.added.lo
            && self.hi == s.added.hi
            && self.filters == s.filters
    }
}

/// Result lists kept at once: a few walks side by side (each list holds
/// up to one small record per contact).
const KEPT: usize = 4;

fn kept() -> &'static Mutex<Vec<Entry>> {
    static KEPT_LISTS: OnceLock<Mutex<Vec<Entry>>> = OnceLock::new();
    KEPT_LISTS.get_or_init(Default::default)
}

/// The contacts of `s` that pass `test`, in sort order, with `key` of each.
/// `test` and `key` see only the top-level `fields` of each contact (and
/// its `id`): building the rest of 100,000 documents is most of the cost.
pub fn hits(
    c: &Connection,
    s: &Search,
    fields: &HashSet<String>,
    test: impl Fn(&Value) -> bool,
    key: impl Fn(&Value) -> Value,
) -> rusqlite::Result<Arc<Vec<Hit>>> {
    let stamp = search_counts::stamp(c)?;
    if let Some(stamp) = stamp
        && let Some(found) = kept()
            .lock()
            .ok()
            .and_then(|k| k.iter().find(|e| e.is(stamp, s)).map(|e| e.hits.clone()))
    {
        return Ok(found);
    }
    let mut found = Vec::new();
    cs::query_each(
        c,
        s.loc,
        s.query,
        s.col,
        s.asc,
        None,
        0,
        None,
        s.added,
        |rowid, data| {
            let ct = only(data, fields);
            if test(&ct) {
                found.push(Hit {
                    key: key(&ct),
                    id: super::str_of(&ct, "id").to_string(),
                    rowid,
                });
            }
        },
    )?;
    let hits = Arc::new(found);
    if let (Some(stamp), Ok(mut k)) = (stamp, kept().lock()) {
        if k.len() >= KEPT {
            k.remove(0);
        }
        k.push(Entry {
            stamp,
            loc: s.loc.to_string(),
            query: s.query.map(str::to_string),
            col: s.col,
            sort_field: s.sort_field.to_string(),
            asc: s.asc,
            lo: s.added.lo.clone(),
            hi: s.added.hi.clone(),
            filters: s.filters.to_vec(),
            hits: hits.clone(),
        });
    }
    Ok(hits)
}

/// The JSON document `data` with only its top-level `fields` and `id`
/// (`Null` where a whole parse gives `Null`: not JSON, or not all of it).
fn only(data: &str, fields: &HashSet<String>) -> Value {
    let mut de = serde_json::Deserializer::from_str(data);
    de.deserialize_any(Only(fields))
        .and_then(|v| de.end().map(|()| v))
        .unwrap_or(Value::Null)
}

struct Only<'a>(&'a HashSet<String>);

impl<'de> Visitor<'de> for Only<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a contact")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key_seed(Wanted(self.0))? {
            match key {
                Some(k) => {
                    out.insert(k, map.next_value()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// A key, kept when it is `id` or one of the fields asked for.
struct Wanted<'a>(&'a HashSet<String>);

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Option<String>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((v == "id" || self.0.contains(v)).then(|| v.to_string()))
    }
}
