//! `ghl sync`, `ghl sql` and `ghl report`: the local mirror of a location.
//! Questions run over the mirror (no request); only `sync` talks to
//! HighLevel, through the client like every command.

use std::io::IsTerminal;

use clap::{Args, Subcommand};
use ghl_core::Error;
use ghl_mirror::reports::{self, ReportArgs};
use ghl_mirror::sync::{GroupReport, Progress, Quiet, SyncOptions};
use ghl_mirror::{Mirror, names};
use ghl_store::{QueryLimits, QueryResult, Value};
use serde_json::{Map, Value as Json, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::context;
use crate::output;

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Only these groups (comma-separated): users, custom_fields, tags, pipelines, contacts,
    /// opportunities, calendars, appointments, conversations, messages, invoices, products
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
    /// Read every list whole and remove what was deleted in HighLevel
    #[arg(long)]
    pub full: bool,
    /// Oldest conversations and appointments to mirror: YYYY-MM-DD or an ISO time [default: 90 days ago]
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Sync several locations: `all` (every sub-account of the agency token) or ID,ID; several workers may share them
    #[arg(long, value_name = "all|ID,ID")]
    pub locations: Option<String>,
    /// When another sync holds this mirror's lease, wait for it instead of refusing
    #[arg(long)]
    pub wait: bool,
    /// The store: postgres://… (shared by workers) or a SQLite path [default: GHL_STORE_URL, else files in the data directory]
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    /// Seconds a sync lease lasts without renewal (a killed sync's mirror is free again after this)
    #[arg(long, value_name = "SECS", default_value_t = 30, hide = true, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_ttl: u64,
    /// Also find deletions on a normal sync once the last id scan is this old: 30m, 24h, 7d;
    /// kept in the mirror for later syncs (`off` removes it)
    #[arg(long, value_name = "DURATION")]
    pub reconcile_every: Option<String>,
}

#[derive(Args, Debug)]
pub struct SqlArgs {
    /// One read-only SQL statement over the mirror, e.g. "SELECT stage, COUNT(*) FROM opportunities_view GROUP BY stage"
    #[arg(required_unless_present = "schema")]
    pub query: Option<String>,
    /// List the mirror's tables and views with their columns
    #[arg(long)]
    pub schema: bool,
    /// Rows returned at most
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_rows: u64,
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Open deals and their value per stage
    Funnel {
        /// Only this pipeline (name or id)
        #[arg(long)]
        pipeline: Option<String>,
    },
    /// Open deals that have sat in their stage at least N days
    Stale {
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Contacts per source, with deals and won value
    Sources {
        /// Only contacts added since: YYYY-MM-DD or an ISO time
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Contacts that share an email or phone: a merge plan (nothing is changed)
    Dedupe {
        /// email, phone or both
        #[arg(long, value_delimiter = ',', default_value = "email,phone")]
        by: Vec<String>,
    },
}

/// The mirror's identity: the profile and location in use. No network.
pub fn mirror_key(global: &GlobalArgs) -> Result<(String, String), Error> {
    if global.sandbox {
        let location = global
            .location
            .clone()
            .unwrap_or_else(|| ghl_sandbox::DEMO_LOCATION_ID.to_string());
        return Ok(("sandbox".into(), location));
    }
    let resolved = context::resolve(global)?;
    let location = resolved.location_id.clone().ok_or_else(|| {
        Error::config("no location is configured").with_hint(
            "pass --location ID, set HIGHLEVEL_LOCATION_ID, or run `ghl setup`; `--sandbox` tries it on the demo",
        )
    })?;
    let profile = resolved.profile.clone().unwrap_or_else(|| "default".into());
    Ok((profile, location))
}

/// The mirror for this profile and location; `None` when none was synced.
pub fn existing_mirror(global: &GlobalArgs) -> Result<Option<Mirror>, Error> {
    let (profile, location) = mirror_key(global)?;
    if !Mirror::exists_for(None, &profile, &location) {
        return Ok(None);
    }
    let m = Mirror::open_for(None, &profile, &location)?;
    Ok(m.is_synced()?.then_some(m))
}

/// The mirror behind the MCP `query` and `report` tools: the location's
/// mirror when it exists, or a new one when `sync` may fill it.
pub fn for_mcp(
    global: &GlobalArgs,
    allow_sync: bool,
) -> Result<Option<ghl_mcp::mirror_tools::MirrorAccess>, Error> {
    let Ok((profile, location)) = mirror_key(global) else {
        return Ok(None);
    };
    // No file is created just for serving: without a mirror (and without
    // leave to sync one) the mirror tools are not offered.
    if !allow_sync && !Mirror::exists_for(None, &profile, &location) {
        return Ok(None);
    }
    let mirror = Mirror::open_for(None, &profile, &location)?;
    Ok(Some(ghl_mcp::mirror_tools::MirrorAccess {
        mirror,
        allow_sync,
    }))
}

fn required_mirror(global: &GlobalArgs) -> Result<Mirror, Error> {
    existing_mirror(global)?.ok_or_else(|| {
        Error::config("this location has no mirror yet")
            .with_hint("run `ghl sync` first (a few minutes for a large account); `ghl --sandbox sync` tries it on the demo")
    })
}

fn parse_date(flag: &str, s: &str) -> Result<i64, Error> {
    ghl_core::validate::iso_to_epoch_ms(s.trim()).ok_or_else(|| {
        Error::validation(format!("{flag} {s}: not a date"))
            .with_hint("write YYYY-MM-DD or an ISO time such as 2025-03-01T00:00:00Z")
    })
}

pub async fn sync(args: SyncArgs, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    // Everything the user typed is checked before any request.
    ghl_mirror::groups::select(&args.groups)?;
    let since_ms = args
        .since
        .as_deref()
        .map(|s| parse_date("--since", s))
        .transpose()?;
    let reconcile_every = args
        .reconcile_every
        .as_deref()
        .map(ghl_mirror::schedule::parse_every)
        .transpose()?;
    let opts = SyncOptions {
        groups: args.groups.clone(),
        full: args.full,
        since_ms,
        ..SyncOptions::default()
    };
    if args.locations.is_some() {
        return super::sync_workers::run(&args, opts, global, fmt).await;
    }
    let (profile, location) = mirror_key(global)?;
    let coordinator = super::sync_workers::coordinator(&args)?;
    let ctx = context::build(global).await?;
    let mirror = Mirror::open_for(args.store.as_deref(), &profile, &location)?;
    if let Some(every) = reconcile_every {
        ghl_mirror::schedule::set_every(&mirror, every)?;
    }
    // One sync per mirror: held (and renewed) until this one ends.
    let held = coordinator
        .claim(
            &ghl_mirror::workers::lease_name(&profile, &location),
            &format!("the mirror of location {location}"),
            args.wait,
        )
        .await?;
    let reports = held
        .guard(sync_with_progress(&ctx.client, &mirror, &opts))
        .await;
    held.release().await;
    let reports = reports??;
    let rows: Vec<Json> = reports.iter().map(report_json).collect();
    output::records(fmt, &rows).map_err(io)?;
    output::note(fmt, &format!("mirror: {}", mirror.store().describe()));
    Ok(())
}

/// One location's sync, with a progress bar on a terminal.
pub async fn sync_with_progress(
    client: &ghl_core::Client,
    mirror: &Mirror,
    opts: &SyncOptions,
) -> Result<Vec<GroupReport>, Error> {
    Ok(if std::io::stderr().is_terminal() {
        let bar = Bar::new();
        let r = ghl_mirror::sync(client, mirror, opts, &bar).await;
        bar.clear();
        r?
    } else {
        ghl_mirror::sync(client, mirror, opts, &Quiet).await?
    })
}

fn report_json(r: &GroupReport) -> Json {
    json!({
        "group": r.group,
        "fetched": r.fetched,
        "deleted": r.deleted,
        "mode": if r.resumed { "resumed" } else if r.incremental { "changes" } else if r.reconciled { "whole, id scan" } else { "whole" },
    })
}

pub async fn sql(args: SqlArgs, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let mirror = required_mirror(global)?;
    if args.schema {
        let rows: Vec<Json> = mirror
            .schema()?
            .into_iter()
            .map(|(name, kind, cols)| json!({"name": name, "type": kind, "columns": cols.join(", ")}))
            .collect();
        return output::records(fmt, &rows).map_err(io);
    }
    let query = args.query.unwrap_or_default();
    let r = mirror.query(
        &query,
        QueryLimits {
            max_rows: args.max_rows as usize,
            ..QueryLimits::default()
        },
    )?;
    print_result(fmt, &r)
}

pub async fn report(
    cmd: ReportCommand,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let now = ghl_mirror::now_ms();
    let (name, args) = match cmd {
        ReportCommand::Funnel { pipeline } => (
            "funnel",
            ReportArgs {
                pipeline,
                ..ReportArgs::default()
            },
        ),
        ReportCommand::Stale { days } => (
            "stale",
            ReportArgs {
                days: Some(days),
                ..ReportArgs::default()
            },
        ),
        ReportCommand::Sources { since } => (
            "sources",
            ReportArgs {
                since_ms: since
                    .as_deref()
                    .map(|s| parse_date("--since", s))
                    .transpose()?,
                ..ReportArgs::default()
            },
        ),
        ReportCommand::Dedupe { by } => (
            "dedupe",
            ReportArgs {
                by,
                ..ReportArgs::default()
            },
        ),
    };
    let mirror = required_mirror(global)?;
    let r = reports::run(
        &mirror,
        reports::find(name)?,
        &ReportArgs {
            now_ms: now,
            ..args
        },
        QueryLimits::default(),
    )?;
    print_result(fmt, &r)
}

/// Rows as records in column order, in any output format.
pub fn print_result(fmt: OutputFormat, r: &QueryResult) -> Result<(), Error> {
    let rows = result_records(r);
    output::chosen_columns(fmt, &r.columns, &rows).map_err(io)?;
    if r.truncated {
        eprintln!(
            "note: more rows exist than the {} shown; narrow the query or raise --max-rows",
            r.rows.len()
        );
    }
    Ok(())
}

pub fn result_records(r: &QueryResult) -> Vec<Json> {
    r.rows
        .iter()
        .map(|row| {
            let mut m = Map::new();
            for (c, v) in r.columns.iter().zip(row) {
                m.insert(c.clone(), value_json(v));
            }
            Json::Object(m)
        })
        .collect()
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Int(i) => json!(i),
        Value::Real(f) => json!(f),
        Value::Text(s) => json!(s),
        Value::Blob(b) => json!(format!("<{} bytes>", b.len())),
    }
}

pub(crate) fn io(e: std::io::Error) -> Error {
    Error::new(
        ghl_core::ErrorCode::Config,
        format!("cannot write output: {e}"),
    )
}

/// The progress bar: records, rate and ETA per group, on stderr.
struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    fn new() -> Bar {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr(),
        );
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:>14} {bar:30} {pos}/{len} records, {rate}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        // Whole records a second: `{per_sec}` shows four decimals.
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", s.per_sec());
            },
        );
        bar.set_style(style);
        Bar { bar }
    }
    fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    // Groups run side by side: one bar adds up their records.
    fn group(&self, _name: &str) {
        self.bar.set_prefix("syncing");
    }
    fn total(&self, total: u64) {
        self.bar.inc_length(total);
    }
    fn advance(&self, records: u64) {
        if self
            .bar
            .length()
            .is_some_and(|l| self.bar.position() + records > l)
        {
            self.bar.set_length(self.bar.position() + records);
        }
        self.bar.inc(records);
    }
    fn done(&self, r: &GroupReport) {
        self.bar.println(format!(
            "{:>14} {} fetched{}",
            r.group,
            r.fetched,
            if r.deleted > 0 {
                format!(", {} removed", r.deleted)
            } else {
                String::new()
            }
        ));
    }
}

/// Arguments that take an id of a kind people know by name. Declared once
/// for every command: a parameter with one of these names accepts a name.
pub const NAMED_IDS: &[(&str, names::IdKind)] = &[
    ("pipelineId", names::IdKind::Pipeline),
    ("pipeline_id", names::IdKind::Pipeline),
    ("pipelineStageId", names::IdKind::Stage),
    ("pipeline_stage_id", names::IdKind::Stage),
    ("stageId", names::IdKind::Stage),
    ("assignedTo", names::IdKind::User),
    ("assigned_to", names::IdKind::User),
    ("userId", names::IdKind::User),
    ("calendarId", names::IdKind::Calendar),
];

/// HighLevel ids are 20 or more letters and digits; a name has spaces or
/// is shorter.
fn looks_like_id(s: &str) -> bool {
    s.len() >= 16
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn text_param<'a>(args: &'a ghl_core::CallArgs, name: &str) -> Option<&'a str> {
    args.params
        .get(name)
        .or_else(|| args.body.as_ref()?.get(name))
        .and_then(Json::as_str)
}

fn set_param(args: &mut ghl_core::CallArgs, name: &str, value: String) {
    if args.params.contains_key(name) {
        args.params.insert(name.to_string(), Json::String(value));
    } else if let Some(Json::Object(b)) = args.body.as_mut() {
        b.insert(name.to_string(), Json::String(value));
    }
}

/// Replace names by ids in the arguments that take a pipeline, stage, user
/// or calendar id. Names come from the mirror when one exists (no request),
/// else from one listing request per kind.
pub async fn resolve_named_ids(
    args: &mut ghl_core::CallArgs,
    global: &GlobalArgs,
    client: &ghl_core::Client,
) -> Result<(), Error> {
    let wanted: Vec<(&str, names::IdKind, String)> = NAMED_IDS
        .iter()
        .filter_map(|(p, k)| text_param(args, p).map(|v| (*p, *k, v.to_string())))
        .filter(|(_, _, v)| !looks_like_id(v) && !v.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mirror = existing_mirror(global)?;
    // Without a mirror, only what is plainly a name (it has a space) is
    // worth a listing request; a single word goes to the API as an id.
    let wanted: Vec<_> = wanted
        .into_iter()
        .filter(|(_, _, v)| mirror.is_some() || v.contains(char::is_whitespace))
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    // Pipelines first: a stage name is looked up within its pipeline.
    let mut order = wanted;
    order.sort_by_key(|(_, k, _)| *k != names::IdKind::Pipeline);
    for (param, kind, value) in order {
        let dir = match &mirror {
            Some(m) => names::Directory::from_mirror(m, kind)?,
            None => directory_from_api(client, kind).await?,
        };
        let mut scope = ["pipelineId", "pipeline_id"]
            .iter()
            .find_map(|p| text_param(args, p))
            .map(str::to_string);
        if scope.is_none()
            && kind == names::IdKind::Stage
            && let (Some(m), Some(id)) = (&mirror, text_param(args, "id"))
        {
            scope = m
                .query_with(
                    "SELECT pipeline_id FROM opportunities WHERE id = $1",
                    &[id.into()],
                    QueryLimits::default(),
                )?
                .rows
                .first()
                .and_then(|r| r.first())
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let id = dir.resolve_or_keep(kind, &value, scope.as_deref())?;
        set_param(args, param, id);
    }
    Ok(())
}

async fn directory_from_api(
    client: &ghl_core::Client,
    kind: names::IdKind,
) -> Result<names::Directory, Error> {
    use names::{IdKind, Named};
    let op = match kind {
        IdKind::Pipeline | IdKind::Stage => "opportunities.get-pipelines",
        IdKind::User => "users.get-user-by-location",
        IdKind::Calendar => "calendars.get-calendars",
    };
    let body = client.call(op, ghl_core::CallArgs::new()).await?;
    let (records, _) = ghl_core::pager::records(&body);
    let s = |v: &Json, k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_string();
    let mut items = Vec::new();
    for r in &records {
        match kind {
            IdKind::Stage => {
                for st in r
                    .get("stages")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                {
                    items.push(Named {
                        id: s(st, "id"),
                        name: s(st, "name"),
                        scope: s(r, "id"),
                        scope_name: s(r, "name"),
                    });
                }
            }
            _ => {
                let mut name = s(r, "name");
                if name.is_empty() {
                    name = format!("{} {}", s(r, "firstName"), s(r, "lastName"))
                        .trim()
                        .to_string();
                }
                items.push(Named {
                    id: s(r, "id"),
                    name,
                    scope: String::new(),
                    scope_name: String::new(),
                });
            }
        }
    }
    Ok(names::Directory { items })
}

/// Names for ids in tables, from the mirror of the location in use (set
/// once per process, before a command renders).
static NAMER: std::sync::OnceLock<Vec<(&'static NamedField, names::Directory)>> =
    std::sync::OnceLock::new();

/// A record field whose ids a table shows as names, under another label
/// (the column then holds a name, not an id).
struct NamedField {
    field: &'static str,
    label: &'static str,
    kind: names::IdKind,
}

const NAMED_FIELDS: &[NamedField] = &[
    NamedField {
        field: "pipelineId",
        label: "pipeline",
        kind: names::IdKind::Pipeline,
    },
    NamedField {
        field: "pipelineStageId",
        label: "stage",
        kind: names::IdKind::Stage,
    },
    NamedField {
        field: "assignedTo",
        label: "assignedTo",
        kind: names::IdKind::User,
    },
    NamedField {
        field: "assignedUserId",
        label: "assignedUser",
        kind: names::IdKind::User,
    },
    NamedField {
        field: "calendarId",
        label: "calendar",
        kind: names::IdKind::Calendar,
    },
];

/// Load the names tables will show, when this location has a mirror.
pub fn load_names_for_tables(global: &GlobalArgs) {
    let Ok(Some(mirror)) = existing_mirror(global) else {
        return;
    };
    let dirs: Vec<(&'static NamedField, names::Directory)> = NAMED_FIELDS
        .iter()
        .filter_map(|f| {
            names::Directory::from_mirror(&mirror, f.kind)
                .ok()
                .map(|d| (f, d))
        })
        .collect();
    let _ = NAMER.set(dirs);
}

/// In records about to be shown as a table, replace known ids by names,
/// each under its field's label, in the field's place.
pub fn name_ids_in_table(records: &mut [Json]) {
    for r in records.iter_mut() {
        name_ids_in_record(r);
    }
}

/// [`name_ids_in_table`] for one answer shown as a table: a record, or
/// one record wrapped in one key (`{"opportunity": {...}}`).
pub fn name_ids_in_body(body: &mut Json) {
    match body {
        Json::Object(m) if m.len() == 1 && m.values().all(Json::is_object) => {
            m.values_mut().for_each(name_ids_in_record);
        }
        other => name_ids_in_record(other),
    }
}

fn name_ids_in_record(record: &mut Json) {
    let Some(dirs) = NAMER.get() else { return };
    let Json::Object(m) = record else { return };
    let named = |key: &str, value: &Json| {
        let (f, dir) = dirs.iter().find(|(f, _)| f.field == key)?;
        let name = dir.name_of(value.as_str()?).filter(|n| !n.is_empty())?;
        Some((f.label.to_string(), Json::String(name.to_string())))
    };
    if !m.iter().any(|(k, v)| named(k, v).is_some()) {
        return;
    }
    *m = std::mem::take(m)
        .into_iter()
        .map(|(k, v)| named(&k, &v).unwrap_or((k, v)))
        .collect();
}

/// `ghl contacts dedupe`: the dedupe report under the contacts noun.
pub fn dedupe_command() -> clap::Command {
    clap::Command::new("dedupe")
        .about(
            "Contacts sharing an email or phone, from the mirror: a merge plan (keep the oldest)",
        )
        .arg(
            clap::Arg::new("by")
                .long("by")
                .value_delimiter(',')
                .default_value("email,phone")
                .help("email, phone or both"),
        )
        .arg(
            clap::Arg::new("apply")
                .long("apply")
                .action(clap::ArgAction::SetTrue)
                .help("Carry out the plan (with --yes): tags, missing fields and notes move to the kept contact, then the duplicate is deleted; a duplicate with deals, conversations, appointments or tasks is left alone"),
        )
}

pub async fn dedupe(
    m: &clap::ArgMatches,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let by: Vec<String> = m
        .get_many::<String>("by")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    if m.get_flag("apply") && !global.dry_run {
        return merge_duplicates(&by, global, fmt).await;
    }
    report(ReportCommand::Dedupe { by }, global, fmt).await
}

/// `ghl contacts dedupe --apply`: the plan from the mirror, confirmed once,
/// carried out through the client one duplicate at a time.
async fn merge_duplicates(
    by: &[String],
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let mirror = required_mirror(global)?;
    let plan = ghl_mirror::merge::plan(&mirror, by)?;
    let count: usize = plan.iter().map(|g| g.merge.len()).sum();
    if count == 0 {
        output::note(fmt, "no duplicates in the mirror: nothing to merge");
        return output::records(fmt, &[]).map_err(io);
    }
    if !global.yes {
        return Err(Error::new(
            ghl_core::ErrorCode::ConfirmationRequired,
            format!(
                "merging deletes {count} duplicate contacts (into {} kept ones) and was not confirmed",
                plan.len()
            ),
        )
        .with_hint("look at the plan with `ghl contacts dedupe`, then re-run with --apply --yes"));
    }
    let (_, location) = mirror_key(global)?;
    let ctx = context::build(global).await?;
    let client = &ctx.client;
    let mut rows = Vec::new();
    let mut failed = 0;
    for group in &plan {
        for (dup, dup_name) in &group.merge {
            let outcome =
                ghl_mirror::merge::merge_one(client, &mirror, &location, &group.keep, dup).await;
            let (word, detail) = match &outcome {
                Ok(o) => (o.word(), o.detail()),
                Err(e) => {
                    failed += 1;
                    ("failed", e.message.clone())
                }
            };
            rows.push(json!({
                "keep": group.keep,
                "keepName": group.keep_name,
                "merge": dup,
                "mergeName": dup_name,
                "matched": group.matched.join("; "),
                "outcome": word,
                "detail": detail,
            }));
        }
    }
    output::records(fmt, &rows).map_err(io)?;
    if failed > 0 {
        return Err(Error::new(
            ghl_core::ErrorCode::Partial,
            format!("{failed} of {count} merges failed; the others are done"),
        )
        .with_hint("run the same command again: finished merges are not repeated"));
    }
    Ok(())
}
