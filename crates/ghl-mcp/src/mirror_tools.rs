//! Tools over the local mirror: `query` (read-only SQL, the schema in its
//! description, rows capped with a continuation), `report`, and `sync` only
//! when the server was started with it allowed. An assistant answers a
//! cross-record question in one call instead of paging the API.

use std::sync::Arc;

use base64::Engine;
use ghl_core::{Client, Error};
use ghl_mirror::Mirror;
use ghl_mirror::reports::{self, ReportArgs};
use ghl_mirror::sync::{Quiet, SyncOptions};
use ghl_store::{QueryLimits, QueryResult, Value};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value as Json, json};

/// Rows one `query` answer carries at most; `next_cursor` continues.
pub const MAX_ROWS: usize = 100;

/// The mirror a server answers from, and whether it may sync it.
#[derive(Clone)]
pub struct MirrorAccess {
    pub mirror: Mirror,
    pub allow_sync: bool,
}

impl std::fmt::Debug for MirrorAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorAccess")
            .field("mirror", &self.mirror.store().describe())
            .field("allow_sync", &self.allow_sync)
            .finish()
    }
}

pub const TOOL_NAMES: [&str; 3] = ["query", "report", "sync"];

fn object(v: Json) -> Arc<JsonObject> {
    match v {
        Json::Object(m) => Arc::new(m),
        _ => Arc::new(JsonObject::new()),
    }
}

impl MirrorAccess {
    /// The tools to list, their descriptions holding the current schema.
    pub fn tools(&self) -> Vec<Tool> {
        let schema = self
            .mirror
            .schema()
            .map(|s| {
                s.into_iter()
                    .filter(|(name, _, _)| !name.starts_with("sync_"))
                    .map(|(name, kind, cols)| {
                        let cols: Vec<String> = cols.into_iter().filter(|c| c != "raw").collect();
                        format!("{kind} {name}({})", cols.join(", "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        let query_about = format!(
            "Answer questions across records with one read-only SQL (SQLite) SELECT over the local mirror of this location, \
             e.g. stale deals, leads per source, who has not been contacted. Returns at most {MAX_ROWS} rows; pass `cursor` \
             from an answer to continue. Times: *_ms columns are epoch milliseconds. Every table keeps the record's JSON in \
             `raw` (json_extract(raw, '$.field')). Prefer the views: opportunities_view (pipeline, stage, owner names, \
             days_in_stage) and contacts_wide (one column per contact custom field key). Writes are refused. \
             If the mirror is empty or stale, say so (the user runs `ghl sync`).\nSchema:\n{schema}"
        );
        let read = ToolAnnotations::new()
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false);
        let mut out = vec![
            Tool::new(
                "query",
                query_about,
                object(json!({
                    "type": "object",
                    "properties": {
                        "sql": {"type": "string", "description": "one SELECT (or WITH … SELECT) statement"},
                        "cursor": {"type": "string", "description": "next_cursor from a previous answer"}
                    }
                })),
            )
            .with_title("Ask the mirror (SQL)")
            .annotate(read.clone()),
            Tool::new(
                "report",
                "Ready-made reports over the mirror: funnel (open deals and value per stage; `pipeline` name), \
                 stale (open deals in their stage at least `days`, default 30), sources (contacts per source since \
                 `since` YYYY-MM-DD, with deals and won value), dedupe (contacts sharing an email or phone: a merge plan; \
                 `by`: [\"email\",\"phone\"])."
                    .to_string(),
                object(json!({
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "enum": ["funnel", "stale", "sources", "dedupe"]},
                        "pipeline": {"type": "string"},
                        "days": {"type": "integer", "minimum": 0},
                        "since": {"type": "string"},
                        "by": {"type": "array", "items": {"type": "string", "enum": ["email", "phone"]}}
                    },
                    "required": ["name"]
                })),
            )
            .with_title("Mirror reports")
            .annotate(read),
        ];
        if self.allow_sync {
            out.push(
                Tool::new(
                    "sync",
                    "Refresh the local mirror from HighLevel (changes only, unless `full`). Takes seconds to minutes \
                     within the rate limit; `groups` narrows it (contacts, opportunities, pipelines, users, ...)."
                        .to_string(),
                    object(json!({
                        "type": "object",
                        "properties": {
                            "groups": {"type": "array", "items": {"type": "string"}},
                            "full": {"type": "boolean"}
                        }
                    })),
                )
                .with_title("Sync the mirror")
                .annotate(
                    ToolAnnotations::new()
                        .read_only(false)
                        .destructive(false)
                        .idempotent(true)
                        .open_world(true),
                ),
            );
        }
        out
    }

    /// Whether this server answers `name` from the mirror.
    pub fn handles(&self, name: &str) -> bool {
        match name {
            "query" | "report" => true,
            "sync" => self.allow_sync,
            _ => false,
        }
    }

    pub async fn call(&self, client: &Client, name: &str, args: Json) -> Result<Json, Error> {
        match name {
            "query" => self.query(args),
            "report" => self.report(args),
            "sync" if self.allow_sync => self.sync(client, args).await,
            _ => Err(Error::validation(format!(
                "no tool named {name} on this server"
            ))),
        }
    }

    fn query(&self, args: Json) -> Result<Json, Error> {
        let (sql, offset) = match args.get("cursor").and_then(Json::as_str) {
            Some(c) => decode_cursor(c)?,
            None => (
                args.get("sql")
                    .and_then(Json::as_str)
                    .ok_or_else(|| Error::validation("query needs `sql` (or a `cursor`)"))?
                    .to_string(),
                0,
            ),
        };
        self.require_synced()?;
        let r = self.mirror.query(
            &sql,
            QueryLimits {
                max_rows: MAX_ROWS,
                offset,
                ..QueryLimits::default()
            },
        )?;
        let shown = r.rows.len();
        let mut out = answer(&r);
        if r.truncated {
            out["next_cursor"] = json!(encode_cursor(&sql, offset + shown));
        }
        Ok(out)
    }

    fn report(&self, args: Json) -> Result<Json, Error> {
        let name = args.get("name").and_then(Json::as_str).ok_or_else(|| {
            Error::validation("report needs `name`: funnel, stale, sources or dedupe")
        })?;
        let report = reports::find(name)?;
        self.require_synced()?;
        let since_ms =
            match args.get("since").and_then(Json::as_str) {
                Some(s) => Some(ghl_core::validate::iso_to_epoch_ms(s).ok_or_else(|| {
                    Error::validation(format!("since {s}: not a date (YYYY-MM-DD)"))
                })?),
                None => None,
            };
        let ra = ReportArgs {
            pipeline: args
                .get("pipeline")
                .and_then(Json::as_str)
                .map(str::to_string),
            days: args.get("days").and_then(Json::as_i64),
            since_ms,
            by: args
                .get("by")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            now_ms: ghl_mirror::now_ms(),
        };
        let r = reports::run(
            &self.mirror,
            report,
            &ra,
            QueryLimits {
                max_rows: MAX_ROWS,
                ..QueryLimits::default()
            },
        )?;
        Ok(answer(&r))
    }

    async fn sync(&self, client: &Client, args: Json) -> Result<Json, Error> {
        let opts = SyncOptions {
            groups: args
                .get("groups")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            full: args.get("full").and_then(Json::as_bool).unwrap_or(false),
            ..SyncOptions::default()
        };
        // One sync per mirror, as with `ghl sync`: refused while another holds it.
        let reports = match self.mirror.sync_lease_name() {
            Some(name) => {
                let coordinator = ghl_mirror::workers::Coordinator::open(
                    None,
                    std::time::Duration::from_secs(30),
                )?;
                let held = coordinator
                    .claim(&name, "the mirror of this location", false)
                    .await?;
                let r = held
                    .guard(ghl_mirror::sync(client, &self.mirror, &opts, &Quiet))
                    .await;
                held.release().await;
                r??
            }
            None => ghl_mirror::sync(client, &self.mirror, &opts, &Quiet).await?,
        };
        Ok(json!({"synced": reports.iter().map(|r| json!({
            "group": r.group, "fetched": r.fetched, "deleted": r.deleted
        })).collect::<Vec<_>>()}))
    }

    fn require_synced(&self) -> Result<(), Error> {
        if self.mirror.is_synced()? {
            return Ok(());
        }
        Err(
            Error::config("the mirror of this location is empty").with_hint(if self.allow_sync {
                "call the sync tool first"
            } else {
                "ask the user to run `ghl sync` (or to start the server with --mirror-sync)"
            }),
        )
    }
}

/// Columns once, rows as arrays: compact for a model's context.
fn answer(r: &QueryResult) -> Json {
    let rows: Vec<Json> = r
        .rows
        .iter()
        .map(|row| {
            Json::Array(
                row.iter()
                    .map(|v| match v {
                        Value::Null => Json::Null,
                        Value::Int(i) => json!(i),
                        Value::Real(f) => json!(f),
                        Value::Text(s) => json!(s),
                        Value::Blob(b) => json!(format!("<{} bytes>", b.len())),
                    })
                    .collect(),
            )
        })
        .collect();
    json!({"columns": r.columns, "rows": rows, "row_count": r.rows.len()})
}

fn encode_cursor(sql: &str, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"sql": sql, "offset": offset}).to_string())
}

fn decode_cursor(c: &str) -> Result<(String, usize), Error> {
    let bad = || {
        Error::validation("this cursor is not one a query answer gave")
            .with_hint("pass next_cursor unchanged")
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| bad())?;
    let v: Json = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let sql = v.get("sql").and_then(Json::as_str).ok_or_else(bad)?;
    let offset = v.get("offset").and_then(Json::as_u64).ok_or_else(bad)?;
    Ok((sql.to_string(), offset as usize))
}
