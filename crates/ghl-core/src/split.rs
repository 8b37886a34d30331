//! Walks past a page-numbered search's window, cut into disjoint date
//! ranges whose cursors are followed side by side.
//!
//! HighLevel numbers search pages only up to 10,000 records; past that,
//! each page's `searchAfter` names the next, so one walk is one request at
//! a time (0.63 of the rate ceiling at 150 ms). A `range` filter on a date
//! field cuts the records into pieces that share none: a record has one
//! date, and a piece takes the dates `gte` its lower bound and `lt` its
//! upper one, so many records on a boundary date all fall on one side.
//! Each piece is walked with its own `searchAfter` cursor, a page at a
//! time; when fewer pieces are live than requests may be in flight, the
//! piece that just answered is cut again at even dates over what is left
//! of it, so uneven dates still keep every request slot busy. The client's
//! per-location limiter paces all of it.

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use ghl_catalog::Operation;
use serde_json::{Value, json};

use crate::args::CallArgs;
use crate::client::{Client, Page, Summary};
use crate::error::{Error, ErrorCode, Result};
use crate::pager;

/// A search whose walk can be cut by ranges of one date field: the body
/// takes `filters` (`{field, operator: "range", value: {gte, lt}}`),
/// `sort` (`[{field, direction}]`) and `searchAfter`, and every record
/// carries its `searchAfter` = `[sort value, id]`, the sort value of a
/// date being epoch milliseconds.
#[derive(Debug)]
pub struct RangeSplit {
    pub operation: &'static str,
    pub field: &'static str,
}

/// The operations whose long walks are cut into ranges.
pub const SPLITTABLE: &[RangeSplit] = &[RangeSplit {
    operation: "contacts.search-contacts-advanced",
    field: "dateAdded",
}];

pub fn for_operation(name: &str) -> Option<&'static RangeSplit> {
    SPLITTABLE.iter().find(|s| s.operation == name)
}

/// A walk that may be cut: the field and the direction pages go in.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub split: &'static RangeSplit,
    pub asc: bool,
}

impl RangeSplit {
    /// Make the first page's order explicit (the server's default, newest
    /// first) so later pieces continue in it; `None` when the caller's own
    /// sort or cursor leaves no date order to cut along.
    pub fn plan(&'static self, args: &mut CallArgs) -> Option<Plan> {
        if pager::get(args, "searchAfter", true)
            .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        {
            return None;
        }
        match pager::get(args, "sort", true) {
            None | Some(Value::Null) => {
                let sort = json!([{"field": self.field, "direction": "desc"}]);
                pager::put(args, "sort", sort, true);
                Some(Plan {
                    split: self,
                    asc: false,
                })
            }
            Some(Value::Array(sorts)) => match sorts.as_slice() {
                [one] if one.get("field").and_then(Value::as_str) == Some(self.field) => {
                    let asc = one
                        .get("direction")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d.eq_ignore_ascii_case("asc"));
                    Some(Plan { split: self, asc })
                }
                _ => None,
            },
            Some(_) => None,
        }
    }
}

/// A record's position: its date (epoch ms) and its whole `searchAfter`.
pub fn position(record: &Value) -> Option<(i64, Value)> {
    let sa = record.get("searchAfter")?;
    let a = sa.as_array().filter(|a| a.len() == 2)?;
    let date = a[0].as_i64().or_else(|| a[0].as_f64().map(|f| f as i64))?;
    Some((date, sa.clone()))
}

/// Where a split walk starts: the first page's first and last positions.
#[derive(Debug, Clone)]
pub struct Start {
    first_date: i64,
    last_date: i64,
    cursor: Value,
}

/// The first page's edges, when its records carry the positions a split
/// needs (else the walk goes on one cursor at a time).
pub fn start(records: &[Value]) -> Option<Start> {
    let (first_date, _) = position(records.first()?)?;
    let (last_date, cursor) = position(records.last()?)?;
    Some(Start {
        first_date,
        last_date,
        cursor,
    })
}

/// One disjoint piece of the walk: dates in `[lo, hi)` (open where `None`),
/// followed from `cursor`.
#[derive(Debug, Clone)]
struct Piece {
    lo: Option<i64>,
    hi: Option<i64>,
    cursor: Option<Value>,
    /// Date of the record at `cursor`.
    last: Option<i64>,
    /// Records this piece returned within its current bounds.
    fetched: u64,
    /// Records within its current bounds, as the server last stated.
    total: Option<u64>,
    /// The piece this one was cut from.
    parent: Option<usize>,
    /// A piece cut from this one came back empty: what is left of it is
    /// most likely records on its cursor's own date, which no cut divides.
    uncut: bool,
}

impl Piece {
    fn contains(&self, date: i64) -> bool {
        self.lo.is_none_or(|l| date >= l) && self.hi.is_none_or(|h| date < h)
    }
}

/// The walk's state between pages.
struct Walk<'a> {
    plan: Plan,
    base: &'a CallArgs,
    page_size: u64,
    /// Earliest and latest dates when the walk began.
    lo_edge: i64,
    hi_edge: i64,
}

impl Walk<'_> {
    /// The arguments for the next page of `p`.
    fn args(&self, p: &Piece) -> CallArgs {
        range_args(
            self.base,
            self.plan.split.field,
            p.lo,
            p.hi,
            p.cursor.as_ref(),
        )
    }

    /// Cut what is left of `p` into up to `n` pieces at even dates: `p`
    /// keeps the part next to its cursor, the others are returned. Nothing
    /// is cut when too little is left to be worth a request more.
    fn cut(&self, p: &mut Piece, n: usize) -> Vec<Piece> {
        let Some(last) = p.last else {
            return Vec::new();
        };
        if n < 2
            || p.uncut
            || p.total
                .is_some_and(|t| t.saturating_sub(p.fetched) < 2 * self.page_size)
        {
            return Vec::new();
        }
        // The dates left, excluding the cursor's own (its ties stay with p).
        let (from, to) = if self.plan.asc {
            (last + 1, p.hi.unwrap_or(self.hi_edge + 1))
        } else {
            (p.lo.unwrap_or(self.lo_edge), last)
        };
        let cuts = even_cuts(from, to, n);
        if cuts.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let fresh = |lo, hi| Piece {
            lo,
            hi,
            cursor: None,
            last: None,
            fetched: 0,
            total: None,
            parent: None,
            uncut: false,
        };
        if self.plan.asc {
            // p keeps [lo, cuts[0]); then [cuts[i], cuts[i+1]) ...; the
            // last piece keeps p's open end, where records added now go.
            for (i, c) in cuts.iter().enumerate() {
                let hi = cuts.get(i + 1).copied().map(Some).unwrap_or(p.hi);
                out.push(fresh(Some(*c), hi));
            }
            p.hi = Some(cuts[0]);
        } else {
            // p keeps [cuts[last], hi); below it pieces down to p's low end.
            let top = *cuts.last().unwrap_or(&from);
            for (i, c) in cuts.iter().enumerate() {
                let lo = if i == 0 { p.lo } else { Some(cuts[i - 1]) };
                out.push(fresh(lo, Some(*c)));
            }
            p.lo = Some(top);
        }
        // The new bounds hold a count the server has yet to state.
        p.total = None;
        out
    }
}

/// The dates that cut `[from, to)` into up to `n` pieces of even spans
/// (fewer when the span holds fewer dates): the pieces' inner bounds, in
/// order, none when it cannot be cut.
pub fn even_cuts(from: i64, to: i64, n: usize) -> Vec<i64> {
    let span = to.saturating_sub(from);
    let n = (n as i64).min(span);
    if n < 2 {
        return Vec::new();
    }
    (1..n)
        .map(|j| from + ((span as i128 * j as i128) / n as i128) as i64)
        .collect()
}

/// The date of the record at the far end of `args`'s order by `field`
/// (`asc`: the newest), from one request for one record; `None` when the
/// list is empty.
pub async fn far_edge(
    client: &Client,
    name: &str,
    args: &CallArgs,
    field: &str,
    asc: bool,
) -> Result<Option<i64>> {
    let op = Client::operation(name)?;
    let mut probe = args.clone();
    let other = if asc { "desc" } else { "asc" };
    pager::put(
        &mut probe,
        "sort",
        json!([{"field": field, "direction": other}]),
        true,
    );
    if let Some(size) = op.pagination.as_ref().and_then(pager::size_param) {
        pager::put(&mut probe, size, json!(1), true);
    }
    let req = client.prepare(name, &probe)?;
    let body = client.execute(&req).await?;
    let (edge, _) = pager::records(&body);
    Ok(edge.first().and_then(position).map(|(date, _)| date))
}

/// `base` narrowed to dates of `field` in `[lo, hi)` (open where `None`),
/// continued after `cursor` or from its first page.
pub fn range_args(
    base: &CallArgs,
    field: &str,
    lo: Option<i64>,
    hi: Option<i64>,
    cursor: Option<&Value>,
) -> CallArgs {
    let mut a = base.clone();
    let mut bounds = serde_json::Map::new();
    if let Some(lo) = lo {
        bounds.insert("gte".into(), json!(iso(lo)));
    }
    if let Some(hi) = hi {
        bounds.insert("lt".into(), json!(iso(hi)));
    }
    if !bounds.is_empty() {
        let mut filters = match pager::get(&a, "filters", true) {
            Some(Value::Array(f)) => f.clone(),
            _ => Vec::new(),
        };
        filters.push(json!({"field": field, "operator": "range", "value": bounds}));
        pager::put(&mut a, "filters", Value::Array(filters), true);
    }
    match cursor {
        Some(c) => {
            pager::put(&mut a, "searchAfter", c.clone(), true);
            pager::remove(&mut a, "page", true);
        }
        None => pager::put(&mut a, "page", json!(1), true),
    }
    a
}

fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// What the walk needs from the first page, already handed to the caller.
pub struct First<'a> {
    pub args: &'a CallArgs,
    pub start: Start,
    /// Records of the first page (before any `--max` cut).
    pub count: u64,
    pub total: u64,
}

/// Walk the rest of a search cut into ranges, handing pages to `on_page`
/// as they arrive (pieces interleave). `summary` already counts the first
/// page; `cap` is the most records to hand over in all.
#[allow(clippy::too_many_arguments)]
pub async fn walk<F: FnMut(Page) -> Result<()>>(
    client: &Client,
    name: &str,
    op: &Operation,
    plan: Plan,
    first: First<'_>,
    concurrency: usize,
    cap: usize,
    summary: &mut Summary,
    on_page: &mut F,
) -> Result<()> {
    let style = op.pagination.as_ref();
    let page_size = style
        .and_then(pager::size_param)
        .and_then(|s| pager::get(first.args, s, true))
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .unwrap_or(pager::DEFAULT_PAGE_SIZE);
    if first.count >= first.total {
        return Ok(());
    }
    let far = far_edge(client, name, first.args, plan.split.field, plan.asc)
        .await
        .map_err(|e| partial(e, summary))?;
    let Some(far) = far else {
        // Nothing at the other end: the first page was all there is.
        return Ok(());
    };
    let (lo_edge, hi_edge) = if plan.asc {
        (first.start.first_date, far)
    } else {
        (far, first.start.first_date)
    };
    let walk = Walk {
        plan,
        base: first.args,
        page_size,
        lo_edge,
        hi_edge,
    };
    let mut pieces = vec![Piece {
        lo: None,
        hi: None,
        cursor: Some(first.start.cursor.clone()),
        last: Some(first.start.last_date),
        fetched: first.count,
        total: Some(first.total),
        parent: None,
        uncut: false,
    }];
    let concurrency = concurrency.max(1);
    let mut idle = vec![0usize];
    let mut in_flight = FuturesUnordered::new();
    loop {
        while let Some(i) = idle.pop() {
            let live = in_flight.len() + idle.len() + 1;
            let mut ready = vec![i];
            if live < concurrency {
                let more = walk.cut(&mut pieces[i], concurrency - live + 1);
                for mut p in more {
                    p.parent = Some(i);
                    pieces.push(p);
                    ready.push(pieces.len() - 1);
                }
            }
            for j in ready {
                let args = walk.args(&pieces[j]);
                let req = client
                    .prepare(name, &args)
                    .map_err(|e| partial(e, summary))?;
                let c = client.clone();
                in_flight.push(async move {
                    let body = c.execute(&req).await;
                    (j, body)
                });
            }
        }
        let Some((i, body)) = in_flight.next().await else {
            return Ok(());
        };
        let body = body.map_err(|e| partial(e, summary))?;
        let (records, _) = pager::records(&body);
        let p = &mut pieces[i];
        let fresh = p.cursor.is_none();
        let asked = records.len() as u64;
        let mut kept = Vec::with_capacity(records.len());
        let mut past_end = false;
        for r in records {
            let Some((date, sa)) = position(&r) else {
                return Err(partial(
                    Error::new(
                        ErrorCode::Server,
                        "a search page came back without the `searchAfter` positions the walk follows",
                    ),
                    summary,
                ));
            };
            p.cursor = Some(sa);
            p.last = Some(date);
            if p.contains(date) {
                kept.push(r);
            } else {
                // The server ignored the bounds: the other pieces own
                // these records; this piece is over once it is past its end.
                past_end = true;
            }
        }
        p.fetched += kept.len() as u64;
        p.total = pager::total(&body);
        let parent = p.parent;
        // The pages say where a range ends, not its stated total: records
        // deleted behind the cursor lower the total below what was
        // counted, and stopping there would leave the rest out.
        let done = asked == 0 || asked < page_size || past_end;
        if fresh
            && asked == 0
            && let Some(parent) = parent
        {
            pieces[parent].uncut = true;
        }
        let room = cap.saturating_sub(summary.records);
        if kept.len() > room {
            kept.truncate(room);
            summary.more = true;
        }
        summary.records += kept.len();
        summary.pages += 1;
        on_page(Page {
            index: summary.pages - 1,
            records: kept,
            body,
        })?;
        if summary.records >= cap {
            summary.more = summary.more || !done || !in_flight.is_empty();
            return Ok(());
        }
        if !done {
            idle.push(i);
        }
    }
}

fn partial(e: Error, summary: &Summary) -> Error {
    crate::client::partial(e, summary.records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(asc: bool) -> Walk<'static> {
        static BASE: std::sync::OnceLock<CallArgs> = std::sync::OnceLock::new();
        Walk {
            plan: Plan {
                split: &SPLITTABLE[0],
                asc,
            },
            base: BASE.get_or_init(CallArgs::new),
            page_size: 100,
            lo_edge: 1_000,
            hi_edge: 2_000,
        }
    }

    fn piece(last: i64) -> Piece {
        Piece {
            lo: None,
            hi: None,
            cursor: Some(json!([last, "x"])),
            last: Some(last),
            fetched: 100,
            total: Some(10_000),
            parent: None,
            uncut: false,
        }
    }

    /// The pieces of a cut cover every date once: `p` keeps its cursor's
    /// date, the others tile the rest without overlap.
    fn covers_once(w: &Walk, mut p: Piece, n: usize) {
        let last = p.last.unwrap();
        let more = w.cut(&mut p, n);
        assert_eq!(more.len(), n - 1);
        let all: Vec<&Piece> = std::iter::once(&p).chain(more.iter()).collect();
        for d in 0..3_000 {
            let owners = all.iter().filter(|q| q.contains(d)).count();
            assert_eq!(owners, 1, "date {d} is in {owners} pieces");
        }
        assert!(p.contains(last));
        assert!(p.total.is_none());
    }

    #[test]
    fn cuts_tile_the_dates_in_both_directions() {
        covers_once(&walk(false), piece(1_900), 4);
        covers_once(&walk(true), piece(1_100), 4);
        covers_once(&walk(true), piece(1_100), 2);
    }

    #[test]
    fn nothing_is_cut_when_little_is_left() {
        let w = walk(false);
        let mut p = piece(1_900);
        p.total = Some(250);
        assert!(w.cut(&mut p, 4).is_empty());
        // One date left below the cursor: nothing to cut between.
        let mut p = piece(1_001);
        assert!(w.cut(&mut p, 4).is_empty());
    }
}
