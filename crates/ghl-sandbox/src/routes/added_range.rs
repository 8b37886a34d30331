//! `dateAdded` range filters of POST /contacts/search answered by the
//! contacts index rather than by reading every contact: what lets a walk
//! cut into date ranges ask for one range at the cost of one page.

use serde_json::Value;

use crate::contact_store::AddedIn;
use crate::ids::{iso, parse_iso_ms};

/// The top-level `dateAdded` range filters of `filters` as one half-open
/// interval, and the filters left for the general matcher.
pub fn take(filters: Vec<Value>) -> (AddedIn, Vec<Value>) {
    let (mut lo, mut hi): (Option<i64>, Option<i64>) = (None, None);
    let mut rest = Vec::new();
    for f in filters {
        match bounds(&f) {
            Some((l, h)) => {
                lo = lo.max(l);
                hi = match (hi, h) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => rest.push(f),
        }
    }
    let text = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .ok()
            .map(iso)
    };
    let added = AddedIn {
        lo: lo.and_then(text),
        hi: hi.and_then(text),
    };
    (added, rest)
}

/// `[lo, hi)` in epoch ms of a `dateAdded` range filter whose bounds all
/// read as dates; `None` for any other filter.
fn bounds(f: &Value) -> Option<(Option<i64>, Option<i64>)> {
    if f.get("field")?.as_str()? != "dateAdded" || f.get("operator")?.as_str()? != "range" {
        return None;
    }
    let (mut lo, mut hi) = (None, None);
    for (k, v) in f.get("value")?.as_object()? {
        let ms = match v {
            Value::Number(n) => n.as_i64()?,
            Value::String(s) => parse_iso_ms(s)?,
            _ => return None,
        };
        // Inclusive low, exclusive high, at millisecond precision.
        let (l, h) = match k.as_str() {
            "gte" => (Some(ms), None),
            "gt" => (Some(ms + 1), None),
            "lt" => (None, Some(ms)),
            "lte" => (None, Some(ms + 1)),
            _ => return None,
        };
        lo = lo.max(l);
        hi = match (hi, h) {
            (Some(a), Some(b)) => Some(std::cmp::min(a, b)),
            (a, b) => a.or(b),
        };
    }
    Some((lo, hi))
}
