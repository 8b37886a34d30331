//! The pipeline every entry point goes through: find the operation, apply
//! policy, validate and build the request, confirm, send, follow pages.

use std::sync::Arc;

use futures::StreamExt;
use ghl_catalog::Operation;
use serde_json::Value;

use crate::agency::{self, Agency};
use crate::args::CallArgs;
use crate::custom_fields::Resolver;
use crate::error::{Error, ErrorCode, Result};
use crate::field_values;
use crate::oauth::OAuthSession;
use crate::pager;
use crate::policy::Policy;
use crate::request::{self, Defaults, Prepared, RequestBody};
use crate::secret::Secret;
use crate::transport::Transport;

/// How far to follow pages.
#[derive(Debug, Clone, Copy)]
pub struct PageOpts {
    /// Follow every page.
    pub all: bool,
    /// Follow pages up to this many records in all (with or without `all`).
    pub max: Option<usize>,
    /// Records per page, when the operation takes a size.
    pub page_size: Option<u64>,
    /// Pages requested at once where the style allows it.
    pub concurrency: usize,
}

impl Default for PageOpts {
    fn default() -> Self {
        PageOpts {
            all: false,
            max: None,
            page_size: None,
            concurrency: 4,
        }
    }
}

/// One page as it arrived.
#[derive(Debug, Clone)]
pub struct Page {
    pub index: usize,
    pub records: Vec<Value>,
    pub body: Value,
}

/// The result of following pages.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub records: usize,
    pub pages: usize,
    pub total: Option<u64>,
    /// Whether more records exist than were fetched (stopped by `--max` or
    /// by not asking for `--all`).
    pub more: bool,
    /// The arguments that would fetch the next page, when `more`.
    pub next: Option<CallArgs>,
    /// Key of the records in each page body.
    pub records_key: Option<String>,
}

/// Where a continued walk stands: the records its earlier calls returned
/// and the total stated when it began.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resume {
    pub seen: u64,
    pub total: Option<u64>,
}

impl Resume {
    pub fn new(seen: u64, total: Option<u64>) -> Self {
        Resume { seen, total }
    }
}

/// Slots kept free by [`Client::reserve_slot`]; given back on drop.
pub struct Reservation {
    transport: Arc<Transport>,
    key: String,
    slots: u32,
}

impl Reservation {
    /// Keep as many slots as a chain answering in `round_trip` sends in a
    /// window, at most half the window's budget (the rest stays for the
    /// requests side by side).
    pub fn pace(&mut self, round_trip: std::time::Duration) {
        let limiter = self.transport.limiter();
        let (max, interval) = limiter.budget(&self.key);
        let per_window = interval.as_secs_f64() / round_trip.as_secs_f64().max(0.001);
        let want = (per_window.ceil() as u32).clamp(1, (max / 2).max(1));
        if want > self.slots {
            limiter.reserve(&self.key, want - self.slots);
        } else {
            limiter.unreserve(&self.key, self.slots - want);
        }
        self.slots = want;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.transport.limiter().unreserve(&self.key, self.slots);
    }
}

#[derive(Clone)]
pub struct Client {
    transport: Arc<Transport>,
    policy: Policy,
    defaults: Defaults,
    agency: Option<Arc<Agency>>,
    /// Custom field definitions, to check values before sending.
    fields: Resolver,
    oauth: Option<Arc<OAuthSession>>,
}

impl Client {
    pub fn new(transport: Arc<Transport>, policy: Policy, defaults: Defaults) -> Self {
        Client {
            transport,
            policy,
            defaults,
            agency: None,
            fields: Resolver::new(),
            oauth: None,
        }
    }

    /// Send with a marketplace app's OAuth token, refreshed when it is
    /// about to expire or HighLevel refuses it.
    pub fn with_oauth(mut self, session: Arc<OAuthSession>) -> Self {
        self.oauth = Some(session);
        self
    }

    pub fn oauth(&self) -> Option<&Arc<OAuthSession>> {
        self.oauth.as_ref()
    }

    /// Treat the token as an agency token: location-level operations then
    /// run with a location token minted for their location.
    pub fn with_agency(mut self, company_id: &str) -> Self {
        self.agency = Some(Arc::new(Agency::new(company_id)));
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn defaults(&self) -> &Defaults {
        &self.defaults
    }

    pub fn transport(&self) -> &Arc<Transport> {
        &self.transport
    }

    /// Keep a rate-limit slot of the location `req` acts for free for
    /// priority requests ([`Prepared::priority`]) until the reservation is
    /// dropped: for a chain of requests that must follow each other while
    /// others run side by side.
    pub fn reserve_slot(&self, req: &Prepared) -> Reservation {
        let key = req.location.clone().unwrap_or_else(|| "-".to_string());
        self.transport.limiter().reserve(&key, 1);
        Reservation {
            transport: self.transport.clone(),
            key,
            slots: 1,
        }
    }

    /// A copy with another policy (e.g. confirmation granted for one call).
    pub fn with_policy(&self, policy: Policy) -> Client {
        Client {
            transport: self.transport.clone(),
            policy,
            defaults: self.defaults.clone(),
            agency: self.agency.clone(),
            fields: self.fields.clone(),
            oauth: self.oauth.clone(),
        }
    }

    pub fn operation(name: &str) -> Result<&'static Operation> {
        ghl_catalog::find(name).ok_or_else(|| {
            let near = ghl_catalog::suggest(name, 3);
            let e = Error::new(
                ErrorCode::UnknownOperation,
                format!("no operation named {name}"),
            );
            if near.is_empty() {
                e.with_hint("`ghl api list --search WORDS` finds operations")
            } else {
                e.with_hint(format!("did you mean {}?", near.join(", ")))
            }
        })
    }

    /// Policy and validation: everything short of sending.
    pub fn prepare(&self, name: &str, args: &CallArgs) -> Result<Prepared> {
        let op = Self::operation(name)?;
        self.policy
            .permits(op)
            .map_err(|e| e.with_operation(name))?;
        let req = request::prepare(op, args, &self.defaults)?;
        crate::values::check(&req)?;
        Ok(req)
    }

    /// What `--dry-run` shows for a prepared request.
    pub fn describe(&self, req: &Prepared) -> Value {
        req.describe(self.transport.base_url())
    }

    /// Confirm (if needed) and send one prepared request. Under dry-run the
    /// description is returned and nothing is sent.
    pub async fn execute(&self, req: &Prepared) -> Result<Value> {
        let preview = self.describe(req);
        if self.policy.dry_run {
            return Ok(preview);
        }
        self.check_custom_fields(req).await?;
        self.policy.confirmed(req.op, &preview)?;
        let removed = crate::tag_guard::removed_tags(self, req).await?;
        if !removed.is_empty() {
            let mut preview = preview;
            if let Value::Object(m) = &mut preview {
                m.insert("removesTags".into(), serde_json::json!(removed));
            }
            self.policy.confirmed_loss(
                req.op,
                &preview,
                &format!("removes the tags {} from the contact", removed.join(", ")),
            )?;
        }
        if let (Some(oauth), Some(agency)) = (&self.oauth, &self.agency)
            && !agency::is_agency_level(req.op)
        {
            return self.execute_as_app_location(req, oauth, agency).await;
        }
        if let Some(oauth) = &self.oauth {
            let token = oauth.access_token(&self.transport).await?;
            let response = match self.transport.send_as(req, &token).await {
                // A refused token applied nothing: refresh once and resend.
                Err(e) if e.code == ErrorCode::InvalidToken => {
                    let token = oauth.after_rejection(&self.transport, &token).await?;
                    self.transport.send_as(req, &token).await?
                }
                other => other?,
            };
            return Ok(response.body);
        }
        let response = match &self.agency {
            Some(agency) if !agency::is_agency_level(req.op) => {
                let location = req
                    .location
                    .as_deref()
                    .or(self.defaults.location_id.as_deref());
                let token = agency.location_token(&self.transport, location).await?;
                match self.transport.send_as(req, &token).await {
                    // A refused location token (expired, revoked) applied
                    // nothing: mint a fresh one and send once more.
                    Err(e) if e.code == ErrorCode::InvalidToken => {
                        if let Some(loc) = location {
                            agency.forget(loc).await;
                        }
                        let token = agency.location_token(&self.transport, location).await?;
                        self.transport.send_as(req, &token).await?
                    }
                    other => other?,
                }
            }
            _ => self.transport.send(req).await?,
        };
        Ok(response.body)
    }

    /// Custom field values of a contact or deal checked against their
    /// definitions (type, options). Best effort: a token that cannot read
    /// the definitions still sends.
    async fn check_custom_fields(&self, req: &Prepared) -> Result<()> {
        let model = match req.op.name.split_once('.') {
            Some(("contacts", _)) => "contact",
            Some(("opportunities", _)) => "opportunity",
            _ => return Ok(()),
        };
        let Some(RequestBody::Json(body)) = &req.body else {
            return Ok(());
        };
        let Some(items) = body.get("customFields").filter(|v| v.is_array()) else {
            return Ok(());
        };
        let Some(location) = req
            .location
            .as_deref()
            .or(self.defaults.location_id.as_deref())
        else {
            return Ok(());
        };
        let Ok(set) = Box::pin(self.fields.fields(self, location)).await else {
            return Ok(());
        };
        let checked = field_values::check_items(&set, items, Some(model))?;
        field_values::same_spelling(items, &checked)
    }

    /// A location-level request for an app signed in to a company: a
    /// location token is minted with the company's OAuth token (refreshed
    /// once if HighLevel refuses it), and minted again once if the location
    /// token is refused.
    async fn execute_as_app_location(
        &self,
        req: &Prepared,
        oauth: &OAuthSession,
        agency: &Agency,
    ) -> Result<Value> {
        let location = req
            .location
            .as_deref()
            .or(self.defaults.location_id.as_deref());
        let mint = |company: Secret| async move {
            agency
                .location_token_with(&self.transport, location, Some(&company))
                .await
        };
        let company = oauth.access_token(&self.transport).await?;
        let token = match mint(company.clone()).await {
            Err(e) if e.code == ErrorCode::InvalidToken && e.status == Some(401) => {
                mint(oauth.after_rejection(&self.transport, &company).await?).await?
            }
            other => other?,
        };
        let response = match self.transport.send_as(req, &token).await {
            Err(e) if e.code == ErrorCode::InvalidToken => {
                if let Some(loc) = location {
                    agency.forget(loc).await;
                }
                let company = oauth.access_token(&self.transport).await?;
                let token = mint(company).await?;
                self.transport.send_as(req, &token).await?
            }
            other => other?,
        };
        Ok(response.body)
    }

    /// Call one operation, one page.
    pub async fn call(&self, name: &str, args: CallArgs) -> Result<Value> {
        let req = self.prepare(name, &args)?;
        self.execute(&req).await
    }

    /// Follow pages, handing each to `on_page` as it arrives, in order. A
    /// failure midway is an error that says how many records came back.
    pub async fn walk(
        &self,
        name: &str,
        args: CallArgs,
        opts: PageOpts,
        on_page: impl FnMut(Page) -> Result<()>,
    ) -> Result<Summary> {
        self.walk_from(name, args, Resume::default(), opts, on_page)
            .await
    }

    /// Go on with a walk whose earlier calls returned `from.seen` records:
    /// `args` are the `next` arguments those calls gave. A stated total
    /// then counts those records too, so the end is known, as long as it
    /// has not fallen below the total the walk began with.
    pub async fn walk_from(
        &self,
        name: &str,
        args: CallArgs,
        from: Resume,
        opts: PageOpts,
        mut on_page: impl FnMut(Page) -> Result<()>,
    ) -> Result<Summary> {
        let seen = from.seen;
        let op = Self::operation(name)?;
        let Some(style) = op.pagination.clone() else {
            let body = self.call(name, args).await?;
            let (records, key) = pager::records(&body);
            let n = records.len();
            on_page(Page {
                index: 0,
                records,
                body,
            })?;
            return Ok(Summary {
                records: n,
                pages: 1,
                records_key: key,
                ..Summary::default()
            });
        };
        let mut args = args;
        let page_size = opts.page_size.filter(|s| *s > 0).unwrap_or(match opts.max {
            Some(m) => (m as u64).clamp(1, pager::DEFAULT_PAGE_SIZE),
            None => pager::DEFAULT_PAGE_SIZE,
        });
        pager::first_page(op, &style, &mut args, page_size);
        // A whole walk of a search that can be cut by date ranges states its
        // order, so the pieces can continue in it. (A walk capped by `--max`
        // stays one cursor: its `next` must say where to go on.)
        let follow = opts.all || opts.max.is_some();
        let split = crate::split::for_operation(name)
            .filter(|_| opts.all && opts.max.is_none() && seen == 0 && !self.policy.dry_run)
            .and_then(|s| s.plan(&mut args));
        let first = self.prepare(name, &args)?;
        if self.policy.dry_run {
            let body = self.describe(&first);
            on_page(Page {
                index: 0,
                records: Vec::new(),
                body,
            })?;
            return Ok(Summary::default());
        }
        let mut summary = Summary::default();
        let cap = opts.max.unwrap_or(usize::MAX);
        let body = self.execute(&first).await?;
        let (mut records, key) = pager::records(&body);
        summary.records_key = key;
        summary.total = pager::total(&body);
        // Records deleted behind a continued walk's cursor lower the total
        // below what its earlier calls counted: then reaching it says
        // nothing, and only the pages say where the list ends.
        let end_at = match (from.total, summary.total) {
            (Some(began), Some(now)) if seen > 0 && now < began => None,
            (_, now) => now,
        };
        let split_start = split.and_then(|_| crate::split::start(&records));
        let first_count = records.len() as u64;
        // Records fetched so far, this walk's and its earlier calls': with
        // a stated total, reaching it ends the list whatever the style.
        let mut fetched = seen + records.len() as u64;
        let mut next =
            pager::next_page(op, &style, &first.args, &body).filter(|_| !reached(end_at, fetched));
        truncate(&mut records, cap, &mut summary);
        let got = records.len();
        summary.records += got;
        summary.pages = 1;
        on_page(Page {
            index: 0,
            records,
            body,
        })?;
        // `--max N` alone also follows pages, up to N records.
        if !follow || summary.records >= cap {
            summary.more = next.is_some();
            summary.next = next;
            return Ok(summary);
        }

        // Past the page window: date ranges walked side by side.
        if let (Some(plan), Some(start), Some(total)) = (split, split_start, summary.total)
            && total > pager::BODY_PAGE_WINDOW
            && next.is_some()
        {
            let first = crate::split::First {
                args: &first.args,
                start,
                count: first_count,
                total,
            };
            crate::split::walk(
                self,
                name,
                op,
                plan,
                first,
                opts.concurrency,
                cap,
                &mut summary,
                &mut on_page,
            )
            .await?;
            return Ok(summary);
        }

        // Numbered styles with a known total: ask for later pages ahead.
        if let Some(total) = summary.total
            && pager::numbered(&style)
            && seen == 0
            && next.is_some()
        {
            let pending = pager::remaining_pages(op, &style, &first.args, total, got as u64);
            let mut prepared = Vec::with_capacity(pending.len());
            for a in &pending {
                prepared.push(self.prepare(name, a)?);
            }
            let mut stream = futures::stream::iter(prepared.into_iter().map(|req| {
                let this = self.clone();
                async move {
                    let body = this.execute(&req).await;
                    (req, body)
                }
            }))
            .buffered(opts.concurrency.max(1));
            while let Some((req, body)) = stream.next().await {
                let body = body.map_err(|e| partial(e, summary.records))?;
                let (mut records, _) = pager::records(&body);
                let last = records.is_empty();
                fetched += records.len() as u64;
                truncate(&mut records, cap - summary.records, &mut summary);
                summary.records += records.len();
                summary.pages += 1;
                next = pager::next_page(op, &style, &req.args, &body)
                    .filter(|_| !reached(end_at, fetched));
                on_page(Page {
                    index: summary.pages - 1,
                    records,
                    body,
                })?;
                if summary.records >= cap || last {
                    summary.more = summary.more || next.is_some();
                    summary.next = next;
                    return Ok(summary);
                }
            }
            // Planned pages done; if the server says there is more (its
            // total grew, or it paged differently), go on one by one.
        }

        // Cursor styles are sequential by nature.
        while let Some(a) = next.take() {
            if reached(end_at, fetched) {
                break;
            }
            if summary.records >= cap {
                summary.more = true;
                summary.next = Some(a);
                break;
            }
            let req = self
                .prepare(name, &a)
                .map_err(|e| partial(e, summary.records))?;
            let body = self
                .execute(&req)
                .await
                .map_err(|e| partial(e, summary.records))?;
            let (mut records, _) = pager::records(&body);
            fetched += records.len() as u64;
            next = pager::next_page(op, &style, &req.args, &body)
                .filter(|_| !reached(end_at, fetched));
            truncate(&mut records, cap - summary.records, &mut summary);
            summary.records += records.len();
            summary.pages += 1;
            on_page(Page {
                index: summary.pages - 1,
                records,
                body,
            })?;
        }
        Ok(summary)
    }

    /// Follow pages and gather every record.
    pub async fn collect(
        &self,
        name: &str,
        args: CallArgs,
        opts: PageOpts,
    ) -> Result<(Vec<Value>, Summary)> {
        let mut all = Vec::new();
        let summary = self
            .walk(name, args, opts, |page| {
                all.extend(page.records);
                Ok(())
            })
            .await?;
        Ok((all, summary))
    }
}

/// Whether a stated total is reached: nothing more exists.
fn reached(total: Option<u64>, fetched: u64) -> bool {
    total.is_some_and(|t| fetched >= t)
}

fn truncate(records: &mut Vec<Value>, room: usize, summary: &mut Summary) {
    if records.len() > room {
        records.truncate(room);
        summary.more = true;
    }
}

pub(crate) fn partial(mut e: Error, records: usize) -> Error {
    if records == 0 {
        return e;
    }
    let cause = e.code;
    e.message = format!(
        "stopped after {records} records: a later page failed ({cause}: {})",
        e.message
    );
    e.code = ErrorCode::Partial;
    e.records = Some(records);
    e.hint = Some(format!(
        "the result is incomplete; retry, or lower the rate with --max. Cause: {cause}"
    ));
    e
}
