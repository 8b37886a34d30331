//! A long list walked in lanes side by side: past HighLevel's
//! 10,000-record page window a search follows one `searchAfter` cursor, a
//! request at a time, far below the rate ceiling.
//!
//! - A search that filters by the date it is sorted by is cut into
//!   disjoint date ranges (a record has one date, a range takes dates
//!   `>= lo` and `< hi`), each followed with its own cursor.
//! - One that cannot be cut (POST /opportunities/search has no filters)
//!   asks its numbered pages inside the window one lane each, and follows
//!   `searchAfter` from the window's last page in one more lane, started
//!   first: the one chain no lane can shorten runs beside everything else.
//!
//! The client's limiter paces the lanes. The lanes left, with their
//! cursors, are the group's checkpoint, written with each page, so a run
//! killed midway continues where each lane stood.

use ghl_core::CallArgs;
use ghl_core::split;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One lane still to walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "lane", rename_all = "snake_case")]
pub enum Lane {
    /// Dates in `[lo, hi)` of the list's sort field, after `cursor`.
    Range(Piece),
    /// One numbered page (its arguments).
    Page { args: Json },
    /// Pages followed one by one, the next from these arguments.
    Keyset { args: Json },
}

/// One date range still to walk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
    /// The `searchAfter` of the last record written; `None`: from the start.
    pub cursor: Option<Json>,
}

impl Piece {
    pub fn contains(&self, date: i64) -> bool {
        self.lo.is_none_or(|l| date >= l) && self.hi.is_none_or(|h| date < h)
    }

    /// The date of the record the cursor stands at.
    pub fn cursor_date(&self) -> Option<i64> {
        self.cursor.as_ref()?.get(0)?.as_i64()
    }

    pub fn args(&self, base: &CallArgs, field: &str) -> CallArgs {
        split::range_args(base, field, self.lo, self.hi, self.cursor.as_ref())
    }
}

/// What a page of a range leaves to do.
pub struct Step {
    /// The records inside the range.
    pub kept: Vec<Json>,
    /// The range is walked to its end.
    pub done: bool,
}

/// Take a page of `p` (asked `size` records at most): keep what lies in the
/// range, move its cursor, and say whether it is over.
pub fn step(p: &mut Piece, records: Vec<Json>, size: u64) -> Option<Step> {
    let asked = records.len() as u64;
    let mut kept = Vec::with_capacity(records.len());
    let mut past_end = false;
    for r in records {
        let (date, sa) = split::position(&r)?;
        p.cursor = Some(sa);
        if p.contains(date) {
            kept.push(r);
        } else {
            // A server that ignored the bounds: other ranges own these.
            past_end = true;
        }
    }
    Some(Step {
        kept,
        done: asked == 0 || asked < size || past_end,
    })
}

/// The ranges for a list sorted oldest first whose first page ended at
/// `last` (date) with `cursor`, and whose newest record is dated `newest`:
/// the first range continues from the cursor, the dates after it are cut
/// evenly into `n - 1` more, the last open-ended (records added meanwhile
/// land there).
pub fn cut(last: i64, cursor: Json, newest: i64, n: usize) -> Vec<Lane> {
    let mut first = Piece {
        lo: None,
        hi: None,
        cursor: Some(cursor),
    };
    let rest = recut(&mut first, last, newest, n);
    std::iter::once(first)
        .chain(rest)
        .map(Lane::Range)
        .collect()
}

/// Cut what is left of `p`, whose cursor stands at date `last`, into up to
/// `n` pieces at even dates (an open end counts as reaching `newest`): `p`
/// keeps the part next to its cursor, with the cursor's own date (ties no
/// cut divides), and the others are returned, each from its start.
pub fn recut(p: &mut Piece, last: i64, newest: i64, n: usize) -> Vec<Piece> {
    let to = p.hi.unwrap_or(newest.saturating_add(1));
    let cuts = split::even_cuts(last.saturating_add(1), to, n);
    let Some(first) = cuts.first().copied() else {
        return Vec::new();
    };
    let out = cuts
        .iter()
        .enumerate()
        .map(|(i, c)| Piece {
            lo: Some(*c),
            hi: cuts.get(i + 1).copied().or(p.hi),
            cursor: None,
        })
        .collect();
    p.hi = Some(first);
    out
}

/// The checkpoint of a walk in lanes: the list's own arguments and the
/// lanes left.
pub fn checkpoint(base: &CallArgs, lanes: &[&Lane]) -> Json {
    serde_json::json!({"lanes": {"base": args_json(base), "left": lanes}})
}

/// [`checkpoint`] read back.
pub fn from_checkpoint(cursor: &Json) -> Option<(CallArgs, Vec<Lane>)> {
    let r = cursor.get("lanes")?;
    let lanes = serde_json::from_value(r.get("left")?.clone()).ok()?;
    Some((args_from(r.get("base")?), lanes))
}

/// Arguments as a checkpoint keeps them.
pub fn args_json(a: &CallArgs) -> Json {
    serde_json::json!({"params": Json::Object(a.params.clone()), "body": a.body.clone()})
}

/// [`args_json`] read back.
pub fn args_from(v: &Json) -> CallArgs {
    let mut a = CallArgs::new();
    if let Some(Json::Object(p)) = v.get("params") {
        a.params = p.clone();
    }
    a.body = v.get("body").filter(|b| !b.is_null()).cloned();
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ranges(lanes: Vec<Lane>) -> Vec<Piece> {
        lanes
            .into_iter()
            .map(|l| match l {
                Lane::Range(p) => p,
                other => panic!("not a range: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_ranges_cover_every_later_date_once() {
        let pieces = ranges(cut(1_000, json!([1_000, "x"]), 5_000, 8));
        assert_eq!(pieces.len(), 8);
        for d in 0..6_000 {
            let owners = pieces.iter().filter(|p| p.contains(d)).count();
            assert_eq!(owners, 1, "date {d} is in {owners} ranges");
        }
        assert!(pieces[0].cursor.is_some());
        assert!(pieces[1..].iter().all(|p| p.cursor.is_none()));
        assert_eq!(pieces.last().and_then(|p| p.hi), None);
    }

    #[test]
    fn a_short_span_is_not_cut_finer_than_its_dates() {
        let pieces = ranges(cut(1_000, json!([1_000, "x"]), 1_002, 8));
        assert_eq!(pieces.len(), 2);
        for d in 990..1_010 {
            assert_eq!(pieces.iter().filter(|p| p.contains(d)).count(), 1);
        }
        let one = ranges(cut(1_000, json!([1_000, "x"]), 1_000, 8));
        assert_eq!(one.len(), 1);
        assert!(one[0].contains(2_000));
    }

    #[test]
    fn a_recut_range_and_its_new_pieces_share_no_date() {
        // A middle range [2000, 6000) walked up to 2500, cut in four.
        let mut p = Piece {
            lo: Some(2_000),
            hi: Some(6_000),
            cursor: Some(json!([2_500, "x"])),
        };
        let before = p.clone();
        assert_eq!(p.cursor_date(), Some(2_500));
        let more = recut(&mut p, 2_500, 9_999, 4);
        assert_eq!(more.len(), 3);
        assert!(more.iter().all(|m| m.cursor.is_none()));
        for d in 2_501..6_000 {
            let owners = more.iter().chain([&p]).filter(|q| q.contains(d)).count();
            assert_eq!(owners, 1, "date {d} is in {owners} ranges");
        }
        assert!(p.contains(2_500), "the cursor's ties stay with it");
        assert_eq!(more.last().and_then(|m| m.hi), Some(6_000));
        // Nothing outside the old bounds was taken in.
        assert!(more.iter().all(|m| before.contains(m.lo.unwrap())));
        // The open-ended range reaches to the newest date, and stays open.
        let mut open = Piece {
            lo: Some(6_000),
            hi: None,
            cursor: Some(json!([6_100, "y"])),
        };
        let more = recut(&mut open, 6_100, 8_000, 2);
        assert_eq!(more.len(), 1);
        assert_eq!(more[0].hi, None);
        assert!(open.hi.is_some_and(|h| h > 6_100 && h <= 8_000));
        // Too little left to cut.
        let mut thin = Piece {
            lo: None,
            hi: Some(10),
            cursor: Some(json!([9, "z"])),
        };
        assert!(recut(&mut thin, 9, 100, 4).is_empty());
        assert_eq!(thin.hi, Some(10));
    }

    #[test]
    fn the_checkpoint_reads_back() {
        let base = CallArgs::new().with_body(json!({"pageLimit": 500}));
        let mut lanes = cut(10, json!([10, "a"]), 100, 3);
        lanes.push(Lane::Page {
            args: args_json(&base),
        });
        lanes.push(Lane::Keyset {
            args: args_json(&base),
        });
        let refs: Vec<&Lane> = lanes.iter().collect();
        let (b, l) = from_checkpoint(&checkpoint(&base, &refs)).unwrap();
        assert_eq!(b.body, base.body);
        assert_eq!(l, lanes);
    }
}
