//! The contacts table. Contacts get their own table (not the generic document
//! table) because they are the one collection large enough to need indexes:
//! a lower-cased `search` column makes a query over 100k contacts one scan.

use rusqlite::{Connection, OptionalExtension, ToSql, params};

use crate::search_counts;
use serde_json::Value;

fn s<'a>(c: &'a Value, k: &str) -> &'a str {
    c.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The text a free-text contact query matches against.
pub fn search_text(c: &Value) -> String {
    format!(
        "{} {}|{}|{}|{}",
        s(c, "firstName"),
        s(c, "lastName"),
        s(c, "email"),
        s(c, "phone"),
        s(c, "companyName")
    )
    .to_lowercase()
}

pub fn put(conn: &Connection, c: &Value) -> rusqlite::Result<()> {
    let email = s(c, "email").to_lowercase();
    let phone = phone_key(s(c, "phone"));
    conn.execute(
        "INSERT INTO contacts(id, location_id, email_lower, phone, first_lower, last_lower, date_added, search, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET email_lower = excluded.email_lower, phone = excluded.phone,
           first_lower = excluded.first_lower, last_lower = excluded.last_lower,
           search = excluded.search, data = excluded.data",
        params![
            s(c, "id"),
            s(c, "locationId"),
            (!email.is_empty()).then_some(email),
            (!phone.is_empty()).then_some(phone),
            s(c, "firstName").to_lowercase(),
            s(c, "lastName").to_lowercase(),
            s(c, "dateAdded"),
            search_text(c),
            c.to_string()
        ],
    )?;
    Ok(())
}

fn parse(data: String) -> Value {
    serde_json::from_str(&data).unwrap_or(Value::Null)
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<Value>> {
    conn.prepare_cached("SELECT data FROM contacts WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()
        .map(|o| o.map(parse))
}

pub fn delete(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM contacts WHERE id = ?1", [id])? > 0)
}

pub fn find_by_email(conn: &Connection, loc: &str, email: &str) -> rusqlite::Result<Option<Value>> {
    conn.query_row(
        "SELECT data FROM contacts WHERE location_id = ?1 AND email_lower = ?2 LIMIT 1",
        params![loc, email.to_lowercase()],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map(|o| o.map(parse))
}

/// Phones compare on their digits, both ways: `+1 (555) 010-2000` finds
/// `+15550102000` and the other way round (the column holds
/// [`phone_key`]; a database written before it held phones as written,
/// which the exact match still finds).
pub fn find_by_phone(conn: &Connection, loc: &str, phone: &str) -> rusqlite::Result<Option<Value>> {
    let key = phone_key(phone);
    for wanted in [key.as_str(), phone] {
        if wanted.is_empty() {
            continue;
        }
        let found = conn
            .query_row(
                "SELECT data FROM contacts WHERE location_id = ?1 AND phone = ?2 LIMIT 1",
                params![loc, wanted],
                |r| r.get::<_, String>(0),
            )
            .optional()?;
        if let Some(d) = found {
            return Ok(Some(parse(d)));
        }
    }
    Ok(None)
}

/// What phones are matched on: `+` and the digits, a 10-digit number
/// taken as North American; empty when there are no digits.
pub fn phone_key(p: &str) -> String {
    let digits = normalize_phone(p);
    if digits.is_empty() {
        String::new()
    } else {
        format!("+{digits}")
    }
}

pub fn normalize_phone(p: &str) -> String {
    let d: String = p.chars().filter(char::is_ascii_digit).collect();
    if d.len() == 10 { format!("1{d}") } else { d }
}

/// Which column a sort field maps to.
pub fn sort_column(field: &str) -> Option<&'static str> {
    match field {
        "dateAdded" | "date_added" => Some("date_added"),
        "firstName" | "firstNameLowerCase" | "first_name" => Some("first_lower"),
        "lastName" | "lastNameLowerCase" | "last_name" => Some("last_lower"),
        _ => None,
    }
}

pub struct Page {
    pub rows: Vec<Value>,
    pub total: u64,
}

/// Contacts added in `[lo, hi)` (ISO-8601 with milliseconds, as stored, so
/// text order is time order); open where `None`.
#[derive(Debug, Clone, Default)]
pub struct AddedIn {
    pub lo: Option<String>,
    pub hi: Option<String>,
}

/// What a free-text query asks of a contact's search text.
enum Text {
    Any,
    /// Under three characters: a `LIKE` pattern, read row by row.
    Short(String),
    /// Three or more: a phrase of the trigram index, and the lower-cased
    /// needle itself.
    Long {
        phrase: String,
        needle: String,
    },
}

impl Text {
    fn of(query: Option<&str>) -> Text {
        match query.map(|q| q.trim().to_lowercase()) {
            None => Text::Any,
            Some(q) if q.is_empty() => Text::Any,
            Some(q) if q.chars().count() >= 3 => Text::Long {
                phrase: format!("\"{}\"", q.replace('"', "\"\"")),
                needle: q,
            },
            Some(q) => Text::Short(format!("%{}%", escape_like(&q))),
        }
    }
}

/// A WHERE clause over `contacts c` built from the conditions a search has,
/// and only those: a condition left out (rather than written as
/// `?x IS NULL OR ...`) lets SQLite seek the index on a date range or a
/// cursor instead of walking it from the start.
#[derive(Default)]
struct Where<'a> {
    conds: Vec<String>,
    params: Vec<(&'static str, &'a dyn ToSql)>,
}

impl<'a> Where<'a> {
    fn and(&mut self, cond: String, params: &[(&'static str, &'a dyn ToSql)]) {
        self.conds.push(cond);
        self.params.extend_from_slice(params);
    }

    fn sql(&self) -> String {
        self.conds.join(" AND ")
    }
}

/// The conditions every way of finding a search's rows shares: its
/// location and its date range.
fn location_and_range<'a>(loc: &'a &'a str, added: &'a AddedIn) -> Where<'a> {
    let mut w = Where::default();
    w.and("c.location_id = :loc".into(), &[(":loc", loc)]);
    if let Some(lo) = &added.lo {
        w.and("c.date_added >= :lo".into(), &[(":lo", lo)]);
    }
    if let Some(hi) = &added.hi {
        w.and("c.date_added < :hi".into(), &[(":hi", hi)]);
    }
    w
}

/// Contacts of one location whose search text contains `query`, ordered by
/// `col` (`asc`), with either an offset or a keyset cursor `(value, id)`.
// One call site per pagination style; a params struct would only rename these.
#[allow(clippy::too_many_arguments)]
pub fn query(
    conn: &Connection,
    loc: &str,
    query: Option<&str>,
    col: &str,
    asc: bool,
    after: Option<(&str, &str)>,
    offset: u64,
    limit: Option<u64>,
    added: &AddedIn,
) -> rusqlite::Result<Page> {
    let mut rows = Vec::new();
    let total = query_each(
        conn,
        loc,
        query,
        col,
        asc,
        after,
        offset,
        limit,
        added,
        |_, data| rows.push(serde_json::from_str(data).unwrap_or(Value::Null)),
    )?;
    Ok(Page { rows, total })
}

/// [`query`]'s rows handed to `each` as stored (rowid, JSON text) without
/// keeping them: a scan of every contact need not copy each one. Returns
/// the total.
#[allow(clippy::too_many_arguments)]
pub fn query_each(
    conn: &Connection,
    loc: &str,
    query: Option<&str>,
    col: &str,
    asc: bool,
    after: Option<(&str, &str)>,
    offset: u64,
    limit: Option<u64>,
    added: &AddedIn,
    mut each: impl FnMut(i64, &str),
) -> rusqlite::Result<u64> {
    let text = Text::of(query);
    let stamp = search_counts::stamp(conn)?;
    let total = search_counts::get_or_count(stamp, count_key(loc, &text, added), || {
        count(conn, loc, &text, added, stamp)
    })?;
    let (dir, cmp) = if asc { ("ASC", ">") } else { ("DESC", "<") };
    let lim = limit.map(|l| l as i64).unwrap_or(-1);
    let off = offset as i64;
    let (av, aid) = after.unzip();
    let loc = &loc;
    let mut w = location_and_range(loc, added);
    // `col` comes from `sort_column`, never from the request, so formatting it in is safe.
    if let (Some(av), Some(aid)) = (&av, &aid) {
        w.and(
            format!("(c.{col}, c.id) {cmp} (:av, :aid)"),
            &[(":av", av), (":aid", aid)],
        );
    }
    // Few matches: start from the trigram index and sort them, instead of
    // walking the whole sort index looking for them (10x faster for a
    // rare name over 100k contacts; 10x slower for a common one). Only the
    // sort keys are sorted; the page's own rows are read after.
    let window = offset.saturating_add(limit.unwrap_or(u64::MAX / 2));
    let sql = match &text {
        Text::Long { phrase, .. }
            if total.saturating_mul(total) < window.saturating_mul(all_contacts(conn, stamp)?) =>
        {
            w.and("f.contacts_fts MATCH :fts".into(), &[(":fts", phrase)]);
            format!(
                "SELECT o.rowid, o.data FROM (
                   SELECT c.rowid AS r, c.{col} AS k, c.id AS i
                   FROM contacts_fts f CROSS JOIN contacts c ON c.rowid = f.rowid
                   WHERE {} ORDER BY k {dir}, i {dir} LIMIT :lim OFFSET :off) p
                 CROSS JOIN contacts o ON o.rowid = p.r ORDER BY p.k {dir}, p.i {dir}",
                w.sql()
            )
        }
        _ => {
            match &text {
                Text::Any => {}
                Text::Short(pattern) => {
                    w.and(
                        "c.search LIKE :pattern ESCAPE '\\'".into(),
                        &[(":pattern", pattern)],
                    );
                }
                // Walking the sort index, each row is checked where it
                // lies: a substring test of a lower-cased ASCII needle is
                // what the trigram phrase matches, without the index's
                // whole list of matches built first.
                Text::Long { needle, .. } if needle.is_ascii() => {
                    w.and(
                        "instr(c.search, :needle) > 0".into(),
                        &[(":needle", needle)],
                    );
                }
                Text::Long { phrase, .. } => {
                    w.and(
                        "c.rowid IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :fts)"
                            .into(),
                        &[(":fts", phrase)],
                    );
                }
            }
            format!(
                "SELECT c.rowid, c.data FROM contacts c WHERE {}
                 ORDER BY c.{col} {dir}, c.id {dir} LIMIT :lim OFFSET :off",
                w.sql()
            )
        }
    };
    w.params.push((":lim", &lim));
    w.params.push((":off", &off));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(&w.params[..])?;
    while let Some(r) = rows.next()? {
        each(r.get(0)?, r.get_ref(1)?.as_str()?);
    }
    Ok(total)
}

/// The contact stored at `rowid`.
pub fn at_rowid(conn: &Connection, rowid: i64) -> rusqlite::Result<Option<Value>> {
    conn.prepare_cached("SELECT data FROM contacts WHERE rowid = ?1")?
        .query_row([rowid], |r| r.get::<_, String>(0))
        .optional()
        .map(|o| o.map(parse))
}

fn count_key(loc: &str, text: &Text, added: &AddedIn) -> search_counts::Key {
    let (what, pattern) = match text {
        Text::Any => ("any", None),
        Text::Short(p) => ("like", Some(p.clone())),
        Text::Long { phrase, .. } => ("phrase", Some(phrase.clone())),
    };
    search_counts::Key {
        what,
        loc: loc.to_string(),
        pattern,
        lo: added.lo.clone(),
        hi: added.hi.clone(),
    }
}

/// Whether every contact in the database belongs to `loc` (two index
/// seeks): then counting needs no per-row location check.
fn sole_location(conn: &Connection, loc: &str) -> rusqlite::Result<bool> {
    let others: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM contacts WHERE location_id < ?1)
                 OR EXISTS(SELECT 1 FROM contacts WHERE location_id > ?1)",
        )?
        .query_row([loc], |r| r.get(0))?;
    Ok(!others)
}

/// How many contacts the database holds (a walk of the smallest index:
/// remembered per state of the table).
fn all_contacts(conn: &Connection, stamp: Option<i64>) -> rusqlite::Result<u64> {
    let key = search_counts::Key {
        what: "all",
        loc: String::new(),
        pattern: None,
        lo: None,
        hi: None,
    };
    search_counts::get_or_count(stamp, key, || {
        let n: i64 = conn
            .prepare_cached("SELECT COUNT(*) FROM contacts")?
            .query_row([], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    })
}

/// How many contacts of `loc` match. When `loc` holds every contact (and no
/// date range narrows them), the
/// trigram index (kept in step with the table by triggers) or the table's
/// own count answers without visiting each row: 0.5 ms instead of 15 ms
/// over 100k contacts.
fn count(
    conn: &Connection,
    loc: &str,
    text: &Text,
    added: &AddedIn,
    stamp: Option<i64>,
) -> rusqlite::Result<u64> {
    let sole = added.lo.is_none() && added.hi.is_none() && sole_location(conn, loc)?;
    match (sole, text) {
        (true, Text::Any) => return all_contacts(conn, stamp),
        (true, Text::Long { phrase, .. }) => {
            let n: i64 = conn
                .prepare_cached("SELECT COUNT(*) FROM contacts_fts WHERE contacts_fts MATCH ?1")?
                .query_row([phrase], |r| r.get(0))?;
            return Ok(n.max(0) as u64);
        }
        _ => {}
    }
    let loc = &loc;
    let mut w = location_and_range(loc, added);
    match text {
        Text::Any => {}
        Text::Short(pattern) => w.and(
            "c.search LIKE :pattern ESCAPE '\\'".into(),
            &[(":pattern", pattern)],
        ),
        Text::Long { phrase, .. } => w.and(
            "c.rowid IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :fts)".into(),
            &[(":fts", phrase)],
        ),
    }
    let n: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM contacts c WHERE {}",
            w.sql()
        ))?
        .query_row(&w.params[..], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
