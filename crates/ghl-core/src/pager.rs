//! The eleven pagination styles: where a page's records are, how many there
//! are in all, and what to ask for next.

use ghl_catalog::{Operation, Pagination};
use serde_json::{Map, Value, json};

use crate::args::CallArgs;

/// Default records per page when the caller names none.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// Keys that never hold the records of a page.
const NOT_RECORDS: &[&str] = &[
    "meta",
    "pagination",
    "traceId",
    "searchAfter",
    "aggregations",
    // Products answer `total: [{total: 6}]`: an aggregate, not records.
    "total",
    "totals",
    "count",
];

/// The records of one page and the key they were under.
pub fn records(body: &Value) -> (Vec<Value>, Option<String>) {
    match body {
        Value::Array(a) => (a.clone(), None),
        Value::Object(map) => {
            if let Some((k, a)) = first_record_array(map) {
                return (a.clone(), Some(k.to_string()));
            }
            // One level down: `{messages: {messages: [...], lastMessageId}}`.
            for (k, v) in map {
                if let Value::Object(inner) = v
                    && let Some((k2, a)) = first_record_array(inner)
                {
                    return (a.clone(), Some(format!("{k}.{k2}")));
                }
            }
            (Vec::new(), None)
        }
        _ => (Vec::new(), None),
    }
}

fn first_record_array(map: &Map<String, Value>) -> Option<(&str, &Vec<Value>)> {
    let arrays = map
        .iter()
        .filter(|(k, _)| !NOT_RECORDS.contains(&k.as_str()))
        .filter_map(|(k, v)| v.as_array().map(|a| (k.as_str(), a)));
    let mut fallback = None;
    for (k, a) in arrays {
        if a.first().is_some_and(Value::is_object) {
            return Some((k, a));
        }
        fallback.get_or_insert((k, a));
    }
    fallback
}

/// The total count of records, where the response states it.
pub fn total(body: &Value) -> Option<u64> {
    let candidates = [
        "/total",
        "/total/0/total",
        "/totalCount",
        "/count",
        "/meta/total",
        "/pagination/total",
        "/messages/total",
    ];
    candidates.iter().find_map(|p| {
        body.pointer(p)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
    })
}

/// Where the page size goes, for styles that take one.
pub fn size_param(p: &Pagination) -> Option<&str> {
    match p {
        Pagination::OffsetLimit { limit } | Pagination::SkipLimit { limit } => Some(limit),
        Pagination::PageSize { size } => Some(size),
        Pagination::SkipLimitBody | Pagination::PageLimit => Some("limit"),
        Pagination::BodyPage { size } => Some(size),
        Pagination::LastId { .. } | Pagination::Cursor { .. } | Pagination::StartAfterDate => {
            Some("limit")
        }
        Pagination::StartAfter => Some("limit"),
        Pagination::PageOnly => None,
    }
}

/// Whether the style's paging fields travel in the JSON body.
fn in_body(p: &Pagination) -> bool {
    matches!(p, Pagination::SkipLimitBody | Pagination::BodyPage { .. })
}

/// The starting-position parameter of the offset styles.
fn start_key(p: &Pagination) -> &'static str {
    match p {
        Pagination::OffsetLimit { .. } => "offset",
        _ => "skip",
    }
}

/// Set the page size when the caller did not, and start numbered styles at
/// their first page.
pub fn first_page(op: &Operation, p: &Pagination, args: &mut CallArgs, page_size: u64) {
    let in_body = in_body(p);
    // Keep the size inside what the operation accepts (forms take at most
    // 50 a page, message exports at least 10).
    let declared_size = size_param(p).and_then(|s| op.param(s).or_else(|| op.body_field(s)));
    let page_size = declared_size.map_or(page_size, |d| {
        let hi = d.maximum.map_or(page_size, |m| page_size.min(m as u64));
        d.minimum.map_or(hi, |m| hi.max(m as u64))
    });
    if let Some(size) = size_param(p)
        && (in_body || op.param(size).is_some())
        && get(args, size, in_body).is_none()
    {
        let v = number_as_declared(op, size, page_size);
        put(args, size, v, in_body);
    }
    // Some operations declare the starting offset as required.
    for start in ["offset", "skip"] {
        let declared = op.param(start).is_some() || op.body_field(start).is_some();
        if declared && get(args, start, in_body).is_none() {
            let v = number_as_declared(op, start, 0);
            put(args, start, v, in_body);
        }
    }
    // Numbered query styles name their first page: some operations require
    // `page` (saas locations), and later pages are counted from it.
    if matches!(
        p,
        Pagination::PageSize { .. } | Pagination::PageLimit | Pagination::PageOnly
    ) && op.param("page").is_some()
        && get(args, "page", false).is_none()
    {
        put(args, "page", json!(first_page_number(op)), false);
    }
    if matches!(p, Pagination::BodyPage { .. })
        && get(args, "page", true).is_none()
        // An empty `searchAfter` (the spec of POST /opportunities/search
        // requires the field) asks for the first page, not a keyset.
        && get(args, "searchAfter", true)
            .is_none_or(|v| v.is_null() || v.as_array().is_some_and(|a| a.is_empty()))
    {
        put(args, "page", json!(1), true);
    }
}

/// Arguments for the page after `body`, or `None` when it was the last.
/// `sent` are the arguments of the page just fetched.
pub fn next_page(
    op: &Operation,
    p: &Pagination,
    sent: &CallArgs,
    body: &Value,
) -> Option<CallArgs> {
    let (items, _) = records(body);
    if items.is_empty() {
        return None;
    }
    let n = items.len() as u64;
    let mut next = sent.clone();
    let size = size_param(p).and_then(|s| {
        let in_body = in_body(p);
        get(sent, s, in_body).and_then(as_u64)
    });
    let total = total(body);
    // A page shorter than asked for ends the list only when the response
    // states no total: servers cap page sizes below what was asked.
    let short = size.is_some_and(|s| n < s) && total.is_none();
    match p {
        Pagination::OffsetLimit { .. }
        | Pagination::SkipLimit { .. }
        | Pagination::SkipLimitBody => {
            let key = start_key(p);
            let in_body = in_body(p);
            let at = get(sent, key, in_body).and_then(as_u64).unwrap_or(0) + n;
            if short || total.is_some_and(|t| at >= t) {
                return None;
            }
            // (With a total, `at < t` alone decides.)
            let v = number_as_declared(op, key, at);
            put(&mut next, key, v, in_body);
        }
        Pagination::PageSize { .. } | Pagination::PageOnly | Pagination::PageLimit => {
            if short {
                return None;
            }
            if let Pagination::PageLimit = p {
                match body.pointer("/meta/nextPage") {
                    Some(Value::Null) => return None,
                    Some(v) if as_u64(v).is_some() => {
                        put(&mut next, "page", json!(as_u64(v)?), false);
                        return Some(next);
                    }
                    _ => {}
                }
            }
            let page = get(sent, "page", false)
                .and_then(as_u64)
                .unwrap_or(first_page_number(op));
            // Full pages so far cover the total: done. (A capped page size
            // makes pages look short; then the walker stops at the total.)
            if let (Some(t), Some(s)) = (total, size)
                && n >= s
                && (page + 1 - first_page_number(op)) * n >= t
            {
                return None;
            }
            put(&mut next, "page", json!(page + 1), false);
        }
        Pagination::BodyPage { .. } => {
            if short {
                return None;
            }
            let last_sort = items
                .last()
                .and_then(|i| i.get("searchAfter"))
                .filter(|v| v.is_array());
            if let Some(sa) = last_sort {
                put(&mut next, "searchAfter", sa.clone(), true);
                // The keyset replaces the number. Where the spec requires
                // `page` (POST /opportunities/search), the first page from
                // the keyset is asked for, not a page past it.
                if op.body_field("page").is_some_and(|p| p.required) {
                    put(&mut next, "page", json!(1), true);
                } else {
                    remove(&mut next, "page", true);
                }
            } else {
                let page = get(sent, "page", true).and_then(as_u64).unwrap_or(1);
                if let (Some(t), Some(s)) = (total, size)
                    && n >= s
                    && page * n >= t
                {
                    return None;
                }
                put(&mut next, "page", json!(page + 1), true);
            }
        }
        Pagination::LastId { param, response } => {
            let said = body
                .pointer("/nextPage")
                .or_else(|| body.pointer("/messages/nextPage"))
                .and_then(Value::as_bool);
            if said == Some(false) || (said.is_none() && short) {
                return None;
            }
            let from_body = find_key(body, response).filter(|v| !v.is_null()).cloned();
            let cursor = from_body.or_else(|| {
                items
                    .last()
                    .and_then(|i| i.get("id").or_else(|| i.get("_id")))
                    .cloned()
            })?;
            if get(sent, param, false) == Some(&cursor) {
                return None;
            }
            put(&mut next, param, cursor, false);
        }
        Pagination::Cursor { param, response } => {
            let cursor =
                find_key(body, response).filter(|v| !v.is_null() && v.as_str() != Some(""))?;
            // A server repeating its cursor would loop forever.
            if get(sent, param, false) == Some(cursor) {
                return None;
            }
            put(&mut next, param, cursor.clone(), false);
        }
        Pagination::StartAfter => {
            let meta = body.get("meta")?;
            let next_url = meta.get("nextPageUrl");
            let no_next = next_url.is_some_and(|u| u.is_null() || u.as_str() == Some(""));
            if no_next || (next_url.is_none() && short) {
                return None;
            }
            let after = meta.get("startAfter").filter(|v| !v.is_null())?;
            let after_id = meta.get("startAfterId").filter(|v| !v.is_null())?;
            if get(sent, "startAfterId", false) == Some(after_id) {
                return None;
            }
            put(&mut next, "startAfter", after.clone(), false);
            put(&mut next, "startAfterId", after_id.clone(), false);
        }
        Pagination::StartAfterDate => {
            if short {
                return None;
            }
            let last = items.last()?;
            // The cursor is the last record's sort value; `sort` carries it
            // whatever `sortBy` was.
            let date = ["sort", "lastMessageDate", "dateUpdated", "dateAdded"]
                .iter()
                .find_map(|k| last.get(*k).filter(|v| !v.is_null()))?;
            let date = match date {
                Value::Array(a) => a.first()?.clone(),
                v => v.clone(),
            };
            put(&mut next, "startAfterDate", date, false);
        }
    }
    Some(next)
}

/// Page-numbered searches in the body reach this many records at most;
/// beyond it HighLevel wants `searchAfter`, which is sequential.
pub const BODY_PAGE_WINDOW: u64 = 10_000;

/// Numbered styles whose later pages can be asked for before earlier ones
/// answer, once the total is known. A body-numbered search past its
/// window is asked ahead up to the window ([`remaining_pages`] stops
/// there), then followed by `searchAfter` from its last page.
pub fn numbered(p: &Pagination) -> bool {
    matches!(
        p,
        Pagination::OffsetLimit { .. }
            | Pagination::SkipLimit { .. }
            | Pagination::SkipLimitBody
            | Pagination::PageSize { .. }
            | Pagination::PageLimit
            | Pagination::BodyPage { .. }
    )
}

/// The arguments of every page after the first, computed from the total:
/// used to fetch ahead concurrently.
pub fn remaining_pages(
    op: &Operation,
    p: &Pagination,
    first: &CallArgs,
    total: u64,
    got: u64,
) -> Vec<CallArgs> {
    let in_body = in_body(p);
    // A page reached by keyset (`searchAfter`) has no number to count
    // from: later pages can only follow it one by one.
    if get(first, "searchAfter", in_body)
        .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    {
        return Vec::new();
    }
    let Some(size) = size_param(p)
        .and_then(|s| get(first, s, in_body))
        .and_then(as_u64)
        .filter(|s| *s > 0)
    else {
        return Vec::new();
    };
    // A server that capped the page size answered `got` records: step by
    // what it gives, or records would be skipped.
    let size = if got > 0 && got < size { got } else { size };
    let mut out = Vec::new();
    match p {
        Pagination::OffsetLimit { .. }
        | Pagination::SkipLimit { .. }
        | Pagination::SkipLimitBody => {
            let key = start_key(p);
            let start = get(first, key, in_body).and_then(as_u64).unwrap_or(0);
            let mut at = start + got;
            while at < total {
                let mut a = first.clone();
                let v = number_as_declared(op, key, at);
                put(&mut a, key, v, in_body);
                out.push(a);
                at += size;
            }
        }
        _ => {
            let base = if in_body { 1 } else { first_page_number(op) };
            let first_no = get(first, "page", in_body).and_then(as_u64).unwrap_or(base);
            // Numbered body pages reach only the window's records.
            let reach = match p {
                Pagination::BodyPage { .. } => total.min(BODY_PAGE_WINDOW),
                _ => total,
            };
            let pages = reach.div_ceil(size);
            for page in first_no + 1..base + pages {
                let mut a = first.clone();
                put(&mut a, "page", json!(page), in_body);
                out.push(a);
            }
        }
    }
    out
}

/// 0 or 1, from the spec's own example of the `page` parameter.
fn first_page_number(op: &Operation) -> u64 {
    op.param("page")
        .and_then(|p| p.example.as_ref())
        .and_then(as_u64)
        .filter(|n| *n <= 1)
        .unwrap_or(1)
}

/// A count as the operation declares the parameter: some take `limit` and
/// `offset` as strings.
fn number_as_declared(op: &Operation, name: &str, n: u64) -> Value {
    match op.param(name) {
        Some(p) if p.value_type == ghl_catalog::ValueType::String => json!(n.to_string()),
        _ => json!(n),
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.trim().parse().ok())
}

fn find_key<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    let map = body.as_object()?;
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    for k in ["meta", "pagination", "messages"] {
        if let Some(v) = map.get(k).and_then(|m| m.get(key)) {
            return Some(v);
        }
    }
    None
}

/// An argument of a page: a parameter, or with `in_body` a body field.
pub fn get<'a>(args: &'a CallArgs, key: &str, in_body: bool) -> Option<&'a Value> {
    if in_body {
        args.params
            .get(key)
            .or_else(|| args.body.as_ref()?.get(key))
    } else {
        args.params.get(key)
    }
}

/// Set a page's argument where [`get`] finds it.
pub fn put(args: &mut CallArgs, key: &str, v: Value, in_body: bool) {
    if in_body
        && let Some(Value::Object(b)) = args.body.as_mut()
        && !args.params.contains_key(key)
    {
        b.insert(key.to_string(), v);
        return;
    }
    args.params.insert(key.to_string(), v);
}

/// Drop a page's argument, parameter and body field alike.
pub fn remove(args: &mut CallArgs, key: &str, in_body: bool) {
    args.params.remove(key);
    if in_body && let Some(Value::Object(b)) = args.body.as_mut() {
        b.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::{records, total};
    use serde_json::json;

    #[test]
    fn aggregates_are_not_records() {
        // GET /products/ past the last page.
        let body = json!({"products": [], "total": [{"total": 6}]});
        assert!(records(&body).0.is_empty());
        assert_eq!(total(&body), Some(6));
        let body = json!({"products": [{"_id": "a"}], "total": [{"total": 6}]});
        assert_eq!(records(&body).1.as_deref(), Some("products"));
    }

    #[test]
    fn nested_records_and_totals() {
        let body = json!({"messages": {"lastMessageId": "m2", "nextPage": true, "messages": [{"id": "m1"}, {"id": "m2"}]}});
        let (r, key) = records(&body);
        assert_eq!(r.len(), 2);
        assert_eq!(key.as_deref(), Some("messages.messages"));
        assert_eq!(total(&json!({"meta": {"total": 42}})), Some(42));
    }
}
