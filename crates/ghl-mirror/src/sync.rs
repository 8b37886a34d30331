//! The sync engine: runs each selected group's declaration against the
//! client and writes every page with its checkpoint in one transaction, so
//! a run killed at any point resumes where its last page landed, and a page
//! written twice (upserts by id) leaves no duplicate.

use std::collections::VecDeque;

use futures::StreamExt;
use ghl_core::pager;
use ghl_core::{CallArgs, Client, Error, PageOpts};
use ghl_store::Value;
use serde_json::{Map, Value as Json, json};

use crate::groups::{self, Group, Plan, Reconcile};
use crate::lanes::{self, Lane};
use crate::schedule;
use crate::tables::{self, Apply, Origin};
use crate::{Mirror, now_ms, store_error};

/// A page's transaction, queued for the writer of a walk in lanes.
type PageWrite = Box<dyn FnOnce(&mut dyn ghl_store::Tx) -> Result<(), ghl_store::Error> + Send>;

/// Pages answered and waiting to be written, at most: past it the walk
/// waits for the writer (memory stays bounded when the disk is slow).
const WRITES_AHEAD: usize = 8;

/// How far back to look past the previous run's start, for clocks that
/// disagree and records written while it ran.
pub const DEFAULT_OVERLAP_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Group names (all when empty).
    pub groups: Vec<String>,
    /// Read every list whole and delete what is gone.
    pub full: bool,
    /// The oldest conversation and appointment to mirror (epoch ms).
    pub since_ms: Option<i64>,
    /// Requests in flight at once (a long list cut into date ranges walks
    /// twice as many); the client's limiter keeps the rate.
    pub concurrency: usize,
    pub overlap_ms: i64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            groups: Vec::new(),
            full: false,
            since_ms: None,
            concurrency: 4,
            overlap_ms: DEFAULT_OVERLAP_MS,
        }
    }
}

/// What one group's run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupReport {
    pub group: String,
    /// Records fetched in this run (across resumptions of it).
    pub fetched: u64,
    pub deleted: u64,
    /// Only changes were asked for.
    pub incremental: bool,
    /// The run continued one that had been interrupted.
    pub resumed: bool,
    /// A list read by changes was read whole to find deletions (`--full`,
    /// or the reconcile schedule was due).
    pub reconciled: bool,
}

/// Where a sync reports its progress (a terminal bar, or nothing).
pub trait Progress: Send + Sync {
    fn group(&self, _name: &str) {}
    fn total(&self, _total: u64) {}
    fn advance(&self, _records: u64) {}
    fn done(&self, _report: &GroupReport) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// Sync the selected groups, one after another.
pub async fn sync(
    client: &Client,
    mirror: &Mirror,
    opts: &SyncOptions,
    progress: &dyn Progress,
) -> Result<Vec<GroupReport>, Error> {
    let selected = groups::select(&opts.groups)?;
    let now = now_ms();
    let plan = Plan {
        now_ms: now,
        since_ms: opts.since_ms.unwrap_or(now - 90 * 86_400_000),
    };
    let reconcile_every = schedule::every(mirror)?;
    // Groups run side by side (the client's limiter shares the rate among
    // them); a group that walks a parent table starts when that table's
    // group is done (at once when it is not part of this sync).
    let follows = |g: &Group| {
        g.parent
            .as_ref()
            .map(|p| p.group)
            .filter(|p| selected.iter().any(|s| s.name == *p))
    };
    let run_one = |g: &'static Group| {
        let plan = &plan;
        async move {
            progress.group(g.name);
            let report =
                run_group(client, mirror, g, plan, opts, reconcile_every, progress).await?;
            progress.done(&report);
            Ok::<_, Error>(report)
        }
    };
    let chains = selected.iter().filter(|g| follows(g).is_none()).map(|g| {
        let after: Vec<&'static Group> = selected
            .iter()
            .copied()
            .filter(|d| follows(d) == Some(g.name))
            .collect();
        async move {
            let mut out = vec![run_one(g).await?];
            out.extend(futures::future::try_join_all(after.into_iter().map(run_one)).await?);
            Ok::<_, Error>(out)
        }
    });
    let mut reports: Vec<GroupReport> = futures::future::try_join_all(chains)
        .await?
        .into_iter()
        .flatten()
        .collect();
    // In declaration order, whatever finished first.
    reports.sort_by_key(|r| {
        groups::GROUPS
            .iter()
            .position(|g| g.name == r.group)
            .unwrap_or(usize::MAX)
    });
    Ok(reports)
}

/// A group's saved state.
#[derive(Debug, Default)]
struct State {
    cursor: Option<Json>,
    full_scan: bool,
    high_water_ms: Option<i64>,
    fetched: u64,
}

fn load_state(mirror: &Mirror, group: &str) -> Result<State, Error> {
    let group = group.to_string();
    mirror
        .store()
        .read(move |tx| {
            let Some(row) = tx.query_opt(
                "SELECT cursor, full_scan, high_water_ms, fetched FROM sync_state WHERE grp = $1",
                &[group.into()],
            )?
            else {
                return Ok(State::default());
            };
            Ok(State {
                cursor: row
                    .opt_text("cursor")
                    .and_then(|c| serde_json::from_str(&c).ok()),
                full_scan: row.int("full_scan")? != 0,
                high_water_ms: row.get("high_water_ms").and_then(Value::as_i64),
                fetched: row.int("fetched")? as u64,
            })
        })
        .map_err(store_error)
}

/// What to continue from.
enum Resume {
    /// The arguments of the next page of a list.
    Page(CallArgs),
    /// The last parent whose records are all written.
    AfterParent(String),
    /// A list walked in lanes: its arguments and the lanes left.
    Lanes(CallArgs, Vec<Lane>),
    /// Pages done; deletions and the new high-water mark remain.
    Finish,
}

fn resume_point(cursor: &Json) -> Option<Resume> {
    if cursor.get("finish").is_some() {
        return Some(Resume::Finish);
    }
    if let Some((base, left)) = lanes::from_checkpoint(cursor) {
        return Some(Resume::Lanes(base, left));
    }
    if let Some(p) = cursor.get("after_parent").and_then(Json::as_str) {
        return Some(Resume::AfterParent(p.to_string()));
    }
    cursor
        .get("page")
        .map(|a| Resume::Page(lanes::args_from(a)))
}

async fn run_group(
    client: &Client,
    mirror: &Mirror,
    g: &'static Group,
    plan: &Plan,
    opts: &SyncOptions,
    reconcile_every: Option<i64>,
    progress: &dyn Progress,
) -> Result<GroupReport, Error> {
    let state = load_state(mirror, g.name)?;
    let mut report = GroupReport {
        group: g.name.to_string(),
        ..GroupReport::default()
    };
    let (resume, full_scan, fetched) = match state.cursor.as_ref().and_then(resume_point) {
        Some(r) => {
            report.resumed = true;
            (r, state.full_scan, state.fetched)
        }
        None => {
            // A list read by changes scans its ids on `--full`, or when
            // the user's schedule says the last scan is too old.
            let whole = g.reconcile == Reconcile::OnFull
                && (opts.full
                    || schedule::due(
                        reconcile_every,
                        schedule::last_scan(mirror, g.name)?,
                        now_ms(),
                    ));
            let full_scan = g.reconcile == Reconcile::Always || whole;
            let mut args = (g.args)(plan);
            if let (Some(narrow), Some(hw), false) = (g.changed_since, state.high_water_ms, whole) {
                narrow(&mut args, hw - opts.overlap_ms);
                report.incremental = true;
            }
            let op = Client::operation(g.op)?;
            if let Some(style) = &op.pagination {
                pager::first_page(op, style, &mut args, pager::DEFAULT_PAGE_SIZE);
            }
            let resume = match g.parent {
                Some(_) => Resume::AfterParent(String::new()),
                None => Resume::Page(args.clone()),
            };
            let cursor = match &resume {
                Resume::Page(a) => json!({"page": lanes::args_json(a)}),
                _ => json!({"after_parent": ""}),
            };
            let name = g.name.to_string();
            mirror
                .store()
                .write(move |tx| {
                    tx.execute(
                        "INSERT INTO sync_state (grp, cursor, full_scan, run_started_ms, fetched)
                         VALUES ($1, $2, $3, $4, 0)
                         ON CONFLICT (grp) DO UPDATE SET cursor = excluded.cursor,
                         full_scan = excluded.full_scan, run_started_ms = excluded.run_started_ms,
                         fetched = 0, listed_total = NULL",
                        &[
                            name.clone().into(),
                            cursor.to_string().into(),
                            Value::Int(full_scan as i64),
                            Value::Int(now_ms()),
                        ],
                    )?;
                    tx.execute("DELETE FROM sync_seen WHERE grp = $1", &[name.into()])?;
                    Ok(())
                })
                .map_err(store_error)?;
            (resume, full_scan, 0)
        }
    };
    let mut run = Run {
        client,
        mirror,
        g,
        plan,
        opts,
        progress,
        full_scan,
        fetched,
        newest: None,
    };
    match resume {
        Resume::Page(args) => run.pages(args).await?,
        Resume::AfterParent(after) => run.parents(&after, state.high_water_ms).await?,
        Resume::Lanes(base, left) => run.lanes(base, left).await?,
        Resume::Finish => {}
    }
    report.reconciled = full_scan && g.reconcile == Reconcile::OnFull;
    report.deleted = run.finish()?;
    report.fetched = run.fetched;
    Ok(report)
}

struct Run<'a> {
    client: &'a Client,
    mirror: &'a Mirror,
    g: &'static Group,
    plan: &'a Plan,
    opts: &'a SyncOptions,
    progress: &'a dyn Progress,
    full_scan: bool,
    fetched: u64,
    /// The newest date of a list cut into ranges, as found when it was
    /// cut (a resumed run takes the clock's date instead).
    newest: Option<i64>,
}

impl Run<'_> {
    /// Write one page's records and the point after it, atomically.
    async fn write(&mut self, records: Vec<Json>, next: Json) -> Result<(), Error> {
        self.write_with_total(records, next, None).await
    }

    /// As [`Run::write`], also keeping the total the server stated.
    async fn write_with_total(
        &mut self,
        records: Vec<Json>,
        next: Json,
        total: Option<u64>,
    ) -> Result<(), Error> {
        let n = records.len() as u64;
        // Off the runtime's threads: a page's transaction must not hold up
        // the answers of the requests in flight (their rate-limit slots
        // count until their answers are read).
        self.mirror
            .store()
            .write_async(self.page_write(records, next, total))
            .await
            .map_err(store_error)?;
        self.fetched += n;
        self.progress.advance(n);
        Ok(())
    }

    /// The transaction that writes one page's records and the point after
    /// it.
    fn page_write(
        &self,
        records: Vec<Json>,
        next: Json,
        total: Option<u64>,
    ) -> impl FnOnce(&mut dyn ghl_store::Tx) -> Result<(), ghl_store::Error> + Send + 'static {
        let g = self.g;
        let full_scan = self.full_scan;
        let n = records.len() as u64;
        let apply = Apply {
            origin: Origin::Sync,
            now_ms: now_ms(),
        };
        move |tx| {
            for r in &records {
                let id = tables::upsert(tx, g.table, r, apply)?;
                if let (Some(id), true) = (id, full_scan) {
                    tx.execute(
                        "INSERT INTO sync_seen (grp, id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        &[g.name.into(), id.into()],
                    )?;
                }
            }
            tx.execute(
                "UPDATE sync_state SET cursor = $2, fetched = fetched + $3,
                     listed_total = COALESCE($4, listed_total) WHERE grp = $1",
                &[
                    g.name.into(),
                    next.to_string().into(),
                    Value::Int(n as i64),
                    total.map(|t| Value::Int(t as i64)).unwrap_or(Value::Null),
                ],
            )?;
            Ok(())
        }
    }

    /// Apply the group's bound: records past it are dropped and end the list.
    fn bounded(&self, mut records: Vec<Json>) -> (Vec<Json>, bool) {
        let Some(stop) = self.g.stop_at else {
            return (records, false);
        };
        match records.iter().position(|r| stop(r, self.plan)) {
            Some(i) => {
                records.truncate(i);
                (records, true)
            }
            None => (records, false),
        }
    }

    fn point(args: Option<&CallArgs>) -> Json {
        match args {
            Some(a) => json!({"page": lanes::args_json(a)}),
            None => json!({"finish": true}),
        }
    }

    async fn pages(&mut self, first: CallArgs) -> Result<(), Error> {
        let op = Client::operation(self.g.op)?;
        let style = op.pagination.clone();
        let mut cursor = Some(first);
        let mut shown_total = false;
        while let Some(args) = cursor.take() {
            let req = self.client.prepare(self.g.op, &args)?;
            let body = self.client.execute(&req).await?;
            let (records, _) = pager::records(&body);
            let total = pager::total(&body);
            if let (Some(t), false) = (total, shown_total) {
                self.progress.total(t);
                shown_total = true;
            }
            let (records, ended) = self.bounded(records);
            let got = records.len() as u64;
            let mut next = match (&style, ended, records.is_empty()) {
                (Some(s), false, false) => pager::next_page(op, s, &req.args, &body),
                _ => None,
            };
            // With a stated total, reaching it ends the list (a keyset
            // cursor would otherwise cost one more, empty, page).
            if total.is_some_and(|t| self.fetched + got >= t) {
                next = None;
            }
            if let (Some(s), Some(t), Some(_)) = (&style, total, &next) {
                let cut = match self.first_ranges(&req.args, &records, t).await? {
                    Some(ranges) => Some(ranges),
                    None => self.window_lanes(op, s, &req.args, t, got),
                };
                if let Some(left) = cut {
                    let base = without_position(&req.args);
                    let refs: Vec<&Lane> = left.iter().collect();
                    self.write_with_total(records, lanes::checkpoint(&base, &refs), total)
                        .await?;
                    return self.lanes(base, left).await;
                }
            }
            let ahead = match (&style, total, &next) {
                (Some(s), Some(t), Some(_)) if pager::numbered(s) && self.g.stop_at.is_none() => {
                    pager::remaining_pages(op, s, &req.args, t, got)
                }
                _ => Vec::new(),
            };
            if ahead.is_empty() {
                self.write_with_total(records, Self::point(next.as_ref()), total)
                    .await?;
                cursor = next;
                continue;
            }
            // Later pages are known in advance: keep several in flight (the
            // client's limiter holds the rate) and write them in order.
            self.write_with_total(records, Self::point(ahead.first()), total)
                .await?;
            let mut planned: VecDeque<CallArgs> = ahead.iter().skip(1).cloned().collect();
            let mut prepared = Vec::with_capacity(ahead.len());
            for a in &ahead {
                prepared.push(self.client.prepare(self.g.op, a)?);
            }
            let client = self.client.clone();
            let mut stream = futures::stream::iter(prepared.into_iter().map(|req| {
                let client = client.clone();
                Spawned::new(async move {
                    let body = client.execute(&req).await;
                    (req, body)
                })
            }))
            .buffered(self.opts.concurrency.max(1));
            let mut after = None;
            while let Some((req, body)) = stream.next().await {
                let body = body?;
                let (records, _) = pager::records(&body);
                let got = records.len() as u64;
                let following = planned.pop_front();
                let reached = total.is_some_and(|t| self.fetched + got >= t);
                let last = records.is_empty() || reached;
                let server_next = match (&style, last) {
                    (Some(s), false) => pager::next_page(op, s, &req.args, &body),
                    _ => None,
                };
                let point = if last {
                    None
                } else {
                    following.or(server_next)
                };
                let stated = pager::total(&body);
                self.write_with_total(records, Self::point(point.as_ref()), stated)
                    .await?;
                if last {
                    after = None;
                    break;
                }
                after = point;
            }
            cursor = after;
        }
        Ok(())
    }

    /// The date ranges to cut the rest of a long list into, after its
    /// first page (`args`, `records`) said it holds `total`: only past the
    /// page window, for a list sorted oldest first by a date the search can
    /// filter by, and when one probe finds its newest record.
    async fn first_ranges(
        &mut self,
        args: &CallArgs,
        records: &[Json],
        total: u64,
    ) -> Result<Option<Vec<Lane>>, Error> {
        let Some(split) = ghl_core::split::for_operation(self.g.op) else {
            return Ok(None);
        };
        if total <= pager::BODY_PAGE_WINDOW
            || self.g.stop_at.is_some()
            || !sorted_oldest_first(args, split.field)
        {
            return Ok(None);
        }
        let Some((last, cursor)) = records.last().and_then(ghl_core::split::position) else {
            return Ok(None);
        };
        let newest = ghl_core::split::far_edge(
            self.client,
            self.g.op,
            &without_position(args),
            split.field,
            true,
        )
        .await?;
        let Some(newest) = newest else {
            return Ok(None);
        };
        self.newest = Some(newest);
        Ok(Some(lanes::cut(last, cursor, newest, self.range_lanes())))
    }

    /// Date ranges walked side by side (one that ends early leaves its
    /// place to a piece cut from one still long): two per request in
    /// flight elsewhere, so a window's budget freed at once is spent at
    /// once. More cost more partly filled pages at the ranges' ends.
    fn range_lanes(&self) -> usize {
        self.opts.concurrency.max(1) * 2
    }

    /// For a body-numbered search past its window that cannot be cut by
    /// dates: one lane per numbered page inside the window, and the keyset
    /// chain from the window's last page, which goes first.
    fn window_lanes(
        &self,
        op: &ghl_core::catalog::Operation,
        style: &ghl_core::catalog::Pagination,
        args: &CallArgs,
        total: u64,
        got: u64,
    ) -> Option<Vec<Lane>> {
        if total <= pager::BODY_PAGE_WINDOW
            || self.g.stop_at.is_some()
            || !matches!(style, ghl_core::catalog::Pagination::BodyPage { .. })
        {
            return None;
        }
        let mut pages = pager::remaining_pages(op, style, args, total, got);
        let last = pages.pop()?;
        let mut out = vec![Lane::Keyset {
            args: lanes::args_json(&last),
        }];
        out.extend(pages.iter().map(|a| Lane::Page {
            args: lanes::args_json(a),
        }));
        Some(out)
    }

    /// Walk the lanes side by side, each page written with the lanes still
    /// left (their cursors as of the pages written) as checkpoint. Every
    /// range and keyset lane is in flight at once, numbered pages up to the
    /// concurrency; the client's limiter paces them all.
    async fn lanes(&mut self, base: CallArgs, left: Vec<Lane>) -> Result<(), Error> {
        // One writer writes the pages in the order they were answered
        // while the walk goes on asking: the next requests never wait on a
        // transaction, and each checkpoint still lands after the pages it
        // counts. Pages that queued up meanwhile go in one transaction (the
        // last one's checkpoint covers them all).
        let (pages, mut queued) = tokio::sync::mpsc::channel::<(u64, PageWrite)>(WRITES_AHEAD);
        let store = self.mirror.store().clone();
        let writer = Spawned::new(async move {
            let mut written = 0;
            let mut batch = Vec::with_capacity(WRITES_AHEAD);
            while queued.recv_many(&mut batch, WRITES_AHEAD).await > 0 {
                written += batch.iter().map(|(n, _)| n).sum::<u64>();
                let writes: Vec<PageWrite> = batch.drain(..).map(|(_, w)| w).collect();
                store
                    .write_async(move |tx| writes.into_iter().try_for_each(|w| w(tx)))
                    .await
                    .map_err(store_error)?;
            }
            Ok::<u64, Error>(written)
        });
        let walked = self.walk_lanes(base, left, pages).await;
        // What was answered before a failure is still written: a resumed
        // run need not ask for it again.
        let written = writer.await;
        if let Ok(n) = &written {
            self.fetched += n;
        }
        walked.and(written.map(|_| ()))
    }

    async fn walk_lanes(
        &self,
        base: CallArgs,
        left: Vec<Lane>,
        pages: tokio::sync::mpsc::Sender<(u64, PageWrite)>,
    ) -> Result<(), Error> {
        let op = Client::operation(self.g.op)?;
        let style = op.pagination.clone();
        let field = ghl_core::split::for_operation(self.g.op).map(|s| s.field);
        let size = style
            .as_ref()
            .and_then(pager::size_param)
            .and_then(|s| pager::get(&base, s, true))
            .and_then(Json::as_u64)
            .filter(|s| *s > 0)
            .unwrap_or(pager::DEFAULT_PAGE_SIZE);
        let mut live: Vec<Option<Lane>> = left.into_iter().map(Some).collect();
        let newest = self.newest.unwrap_or_else(now_ms);
        let range_lanes = self.range_lanes();
        // Records each range returned this run, against the count the
        // server states for its bounds: what is left, to judge whether a
        // range is worth cutting again. Not where it ends: records deleted
        // behind its cursor lower that count below what was read, so only
        // a short page ends a range.
        let mut got = vec![0u64; live.len()];
        let launch = |i: usize, lane: &Lane| -> Result<Spawned<_>, Error> {
            let args = match lane {
                Lane::Range(p) => {
                    let field = field.ok_or_else(|| {
                        Error::validation(format!("{} cannot be cut by dates", self.g.op))
                    })?;
                    p.args(&base, field)
                }
                Lane::Page { args } | Lane::Keyset { args } => lanes::args_from(args),
            };
            let mut req = self.client.prepare(self.g.op, &args)?;
            // The keyset chain is the one lane nothing can shorten: it goes
            // first whenever the others have used up the window.
            req.priority = matches!(lane, Lane::Keyset { .. });
            let client = self.client.clone();
            Ok(Spawned::new(async move {
                let sent = std::time::Instant::now();
                let body = client.execute(&req).await;
                (i, req.args, body, sent.elapsed())
            }))
        };
        // Slots kept free for each keyset lane while it runs, as many as it
        // sends in a window at the pace its pages answer.
        let mut reserved: Vec<Option<ghl_core::Reservation>> = Vec::with_capacity(live.len());
        for lane in &live {
            reserved.push(match lane {
                Some(Lane::Keyset { args }) => {
                    let req = self.client.prepare(self.g.op, &lanes::args_from(args))?;
                    Some(self.client.reserve_slot(&req))
                }
                _ => None,
            });
        }
        let mut in_flight = futures::stream::FuturesUnordered::new();
        let mut waiting: VecDeque<usize> = VecDeque::new();
        let pages_at_once = self.opts.concurrency.max(1);
        let mut pages_in_flight = 0;
        for (i, lane) in live.iter().enumerate() {
            match lane {
                Some(Lane::Page { .. }) if pages_in_flight >= pages_at_once => waiting.push_back(i),
                Some(l) => {
                    pages_in_flight += matches!(l, Lane::Page { .. }) as usize;
                    in_flight.push(launch(i, l)?);
                }
                None => {}
            }
        }
        while let Some((i, sent, body, took)) = in_flight.next().await {
            let body = body?;
            let (records, _) = pager::records(&body);
            let Some(lane) = live[i].as_mut() else {
                continue;
            };
            // Records the server states are left in this lane's range.
            let mut range_left = None;
            let (kept, done) = match lane {
                Lane::Range(piece) => {
                    let step = lanes::step(piece, records, size).ok_or_else(|| {
                        Error::new(
                            ghl_core::ErrorCode::Server,
                            "a search page came back without the `searchAfter` positions the walk follows",
                        )
                    })?;
                    got[i] += step.kept.len() as u64;
                    let stated = pager::total(&body);
                    range_left = stated.map(|t| t.saturating_sub(got[i]));
                    (step.kept, step.done)
                }
                Lane::Page { .. } => {
                    pages_in_flight -= 1;
                    (records, true)
                }
                Lane::Keyset { args } => {
                    if let Some(r) = reserved[i].as_mut() {
                        r.pace(took);
                    }
                    let next = match (&style, records.is_empty()) {
                        (Some(s), false) => pager::next_page(op, s, &sent, &body),
                        _ => None,
                    };
                    match next {
                        Some(n) => {
                            *args = lanes::args_json(&n);
                            (records, false)
                        }
                        None => (records, true),
                    }
                }
            };
            if done {
                live[i] = None;
                reserved[i] = None;
            }
            // Fewer ranges left than lanes, and this one has pages to
            // spare: cut what is left of it, so the walk's last pages go
            // out side by side rather than one lane's after another's.
            let mut cut_off = Vec::new();
            let ranges = live
                .iter()
                .filter(|l| matches!(l, Some(Lane::Range(_))))
                .count();
            if let Some(Lane::Range(piece)) = live[i].as_mut()
                && ranges < range_lanes
                && range_left.is_some_and(|r| r >= 2 * size)
                && let Some(last) = piece.cursor_date()
            {
                for more in lanes::recut(piece, last, newest, range_lanes - ranges + 1) {
                    live.push(Some(Lane::Range(more)));
                    got.push(0);
                    reserved.push(None);
                    cut_off.push(live.len() - 1);
                }
            }
            let again = live[i].clone();
            let left: Vec<&Lane> = live.iter().flatten().collect();
            let point = if left.is_empty() {
                Self::point(None)
            } else {
                lanes::checkpoint(&base, &left)
            };
            // The next requests go out before this page is queued for the
            // writer (a full queue waits): they depend on its cursor only.
            // The checkpoint stays as of the pages written, since the
            // writer takes pages in the order they were queued.
            if let Some(l) = again {
                in_flight.push(launch(i, &l)?);
            }
            for j in cut_off {
                if let Some(l) = &live[j] {
                    in_flight.push(launch(j, l)?);
                }
            }
            while pages_in_flight < pages_at_once
                && let Some(j) = waiting.pop_front()
            {
                if let Some(l) = &live[j] {
                    pages_in_flight += 1;
                    in_flight.push(launch(j, l)?);
                }
            }
            // A lane's count is not the list's: the total the first page
            // stated stays (deletions wait for a scan that saw it all).
            let n = kept.len() as u64;
            if pages
                .send((n, Box::new(self.page_write(kept, point, None))))
                .await
                .is_err()
            {
                // The writer stopped on an error, which `lanes` reports.
                break;
            }
            self.progress.advance(n);
        }
        Ok(())
    }

    async fn parents(&mut self, after: &str, high_water: Option<i64>) -> Result<(), Error> {
        let Some(parent) = &self.g.parent else {
            return Ok(());
        };
        let bound = groups::parent_bound(self.plan, high_water.map(|h| h - self.opts.overlap_ms));
        let after = after.to_string();
        let sql = parent.sql;
        let ids: Vec<String> = self
            .mirror
            .store()
            .read(move |tx| {
                Ok(tx
                    .query(sql, &[bound])?
                    .into_iter()
                    .filter_map(|r| r.values.first().and_then(Value::as_str).map(str::to_string))
                    .filter(|id| id.as_str() > after.as_str())
                    .collect())
            })
            .map_err(store_error)?;
        self.progress.total(ids.len() as u64);
        let client = self.client.clone();
        let g = self.g;
        let base = (g.args)(self.plan);
        let param = parent.param;
        let mut stream = futures::stream::iter(ids.into_iter().map(|id| {
            let client = client.clone();
            let args = base.clone().param(param, id.clone());
            Spawned::new(async move {
                let got = client
                    .collect(
                        g.op,
                        args,
                        PageOpts {
                            all: true,
                            ..PageOpts::default()
                        },
                    )
                    .await;
                (id, got)
            })
        }))
        .buffered(self.opts.concurrency.max(1));
        while let Some((id, got)) = stream.next().await {
            let (mut records, _) = got?;
            // Child lists do not always repeat their parent's id.
            for r in &mut records {
                if let Json::Object(m) = r {
                    fill_parent(m, param, &id);
                }
            }
            self.write(records, json!({"after_parent": id})).await?;
        }
        self.write(Vec::new(), json!({"finish": true})).await
    }

    /// Delete what a whole scan did not see, move the high-water mark, and
    /// clear the cursor. Idempotent: a kill inside it repeats it.
    fn finish(&mut self) -> Result<u64, Error> {
        let g = self.g;
        let full_scan = self.full_scan;
        let rebuild_views = g.name == "custom_fields";
        self.mirror
            .store()
            .write(move |tx| {
                let mut deleted = 0;
                // A list that shifted under the scan (a record deleted
                // mid-way moves the rest up a page) can hide records that
                // still exist: delete by absence only when the scan saw at
                // least as many records as the server last said it has.
                let complete = tx
                    .query_opt(
                        "SELECT (SELECT COUNT(*) FROM sync_seen WHERE grp = $1) AS seen,
                         listed_total FROM sync_state WHERE grp = $1",
                        &[g.name.into()],
                    )?
                    .is_none_or(|r| {
                        let seen = r.get("seen").and_then(Value::as_i64).unwrap_or(0);
                        r.get("listed_total")
                            .and_then(Value::as_i64)
                            .is_none_or(|t| seen >= t)
                    });
                if full_scan && complete {
                    schedule::record_scan(tx, g.name, now_ms())?;
                    let gone = tx.query(
                        &format!(
                            "SELECT id FROM {} WHERE id NOT IN (SELECT id FROM sync_seen WHERE grp = $1)",
                            g.table.name
                        ),
                        &[g.name.into()],
                    )?;
                    for row in gone {
                        if let Some(id) = row.values.first().and_then(Value::as_str) {
                            deleted += tables::delete(tx, g.table, id)?;
                        }
                    }
                }
                tx.execute("DELETE FROM sync_seen WHERE grp = $1", &[g.name.into()])?;
                tx.execute(
                    "UPDATE sync_state SET cursor = NULL, full_scan = 0,
                     high_water_ms = run_started_ms, completed_ms = $2, listed_total = NULL
                     WHERE grp = $1",
                    &[g.name.into(), Value::Int(now_ms())],
                )?;
                if rebuild_views {
                    crate::views::rebuild_contacts_wide(tx)?;
                }
                Ok(deleted)
            })
            .map_err(store_error)
    }
}

/// `args` without a page number or cursor: the list's own arguments.
fn without_position(args: &CallArgs) -> CallArgs {
    let mut a = args.clone();
    pager::remove(&mut a, "searchAfter", true);
    pager::remove(&mut a, "page", true);
    a
}

/// Whether the list is sorted by `field`, oldest first, and by nothing else.
fn sorted_oldest_first(args: &CallArgs, field: &str) -> bool {
    match pager::get(args, "sort", true).and_then(Json::as_array) {
        Some(sorts) => {
            sorts.len() == 1
                && sorts[0].get("field").and_then(Json::as_str) == Some(field)
                && sorts[0]
                    .get("direction")
                    .and_then(Json::as_str)
                    .is_some_and(|d| d.eq_ignore_ascii_case("asc"))
        }
        None => false,
    }
}

fn fill_parent(m: &mut Map<String, Json>, param: &str, id: &str) {
    if !m.contains_key(param) || m.get(param).is_some_and(Json::is_null) {
        m.insert(param.to_string(), Json::String(id.to_string()));
    }
}

/// A request run as its own task, so its answer is read (and its
/// rate-limit slot settled) while the sync writes an earlier page; aborted
/// when the sync stops waiting for it.
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Spawned<T> {
    fn new(f: impl std::future::Future<Output = T> + Send + 'static) -> Self {
        Spawned(tokio::spawn(f))
    }
}

impl<T> std::future::Future for Spawned<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        match std::pin::Pin::new(&mut self.0).poll(cx) {
            std::task::Poll::Ready(Ok(v)) => std::task::Poll::Ready(v),
            // The task panicked: carry the panic on, as if it ran here.
            std::task::Poll::Ready(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
