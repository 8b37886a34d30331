//! `ghl-sandbox`: an embedded, stateful HTTP server that behaves like the
//! HighLevel API v2, so users and tests need no account and no network.
//!
//! Every catalog operation is routed and validated (token, scopes, Version
//! header, location, parameters, body); the main groups (contacts,
//! opportunities, calendars, conversations, products, invoices...) are modelled
//! with real state, the rest answer from a generic document store.

mod auth;
mod contact_store;
mod error;
mod faults;
mod generic;
mod ids;
mod oauth;
mod ratelimit;
mod reply;
mod router;
mod routes;
mod search_counts;
mod seed;
mod seed_added_at;
mod server;
mod store;
mod tz;
mod validate;
mod webhooks;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::SandboxError;
pub use webhooks::WebhookOptions;

/// A private-integration-style token with every scope, bound to the demo
/// location; valid in every sandbox database.
pub const DEFAULT_TOKEN: &str = "pit-sandbox-0000-4000-8000-000000000000";

/// The location every sandbox database has (also with `Seed::Empty`).
pub const DEMO_LOCATION_ID: &str = "SbxDemoLoc0000000001";

/// The agency (company) the demo location belongs to.
pub const DEMO_COMPANY_ID: &str = "SbxDemoCompany0000001";

pub use oauth::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// What a new (or reset) database starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// A realistic demo account: contacts, pipelines, calendars, conversations...
    Demo,
    /// Just the location and the default token.
    Empty,
}

impl FromStr for Seed {
    type Err = SandboxError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "demo" => Ok(Seed::Demo),
            "empty" => Ok(Seed::Empty),
            other => Err(SandboxError::Invalid(format!(
                "unknown seed `{other}` (expected `demo` or `empty`)"
            ))),
        }
    }
}

/// The request budget per location: `max` requests in any `interval`, and
/// `daily` per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub max: u32,
    pub interval: Duration,
    pub daily: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            max: 100,
            interval: Duration::from_secs(10),
            daily: 200_000,
        }
    }
}

impl FromStr for RateLimit {
    type Err = SandboxError;
    /// `MAX/INTERVAL`, the interval with a unit `ms`, `s`, `m` or `h`
    /// (`100/10s`, `5/1s`, `1000/500ms`); the daily budget stays the default.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            SandboxError::Invalid(format!(
                "rate limit `{s}`: expected MAX/INTERVAL such as 100/10s or 5/500ms"
            ))
        };
        let (max, interval) = s.trim().split_once('/').ok_or_else(bad)?;
        let max: u32 = max.trim().parse().map_err(|_| bad())?;
        let interval = interval.trim();
        let split = interval
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(interval.len());
        let (num, unit) = interval.split_at(split);
        let n: u64 = if num.is_empty() {
            1
        } else {
            num.parse().map_err(|_| bad())?
        };
        let interval = match unit {
            "ms" => Duration::from_millis(n),
            "s" | "" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            _ => return Err(bad()),
        };
        if max == 0 || interval.is_zero() {
            return Err(bad());
        }
        Ok(RateLimit {
            max,
            interval,
            ..RateLimit::default()
        })
    }
}

#[derive(Debug, Clone)]
pub struct SandboxOptions {
    pub listen: SocketAddr,
    pub db: PathBuf,
    pub seed: Seed,
    /// Added to every API response.
    pub latency_ms: u64,
    /// Share of API requests (0..=1) that fail at random: a 5xx, a dropped
    /// connection or a 60 s hang, one third each.
    pub fail_rate: f64,
    pub rate_limit: RateLimit,
    /// Lifetime of the OAuth access tokens `/oauth/token` issues (HighLevel:
    /// about a day); short ones let refresh be tried.
    pub oauth_access_ttl: Duration,
    /// Deliver signed webhooks for every change in the modelled groups.
    pub webhooks: Option<WebhookOptions>,
}

impl SandboxOptions {
    pub fn new(db: PathBuf) -> Self {
        SandboxOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db,
            seed: Seed::Demo,
            latency_ms: 0,
            fail_rate: 0.0,
            rate_limit: RateLimit::default(),
            oauth_access_ttl: Duration::from_secs(86_399),
            webhooks: None,
        }
    }
}

/// A running sandbox server.
pub struct Sandbox {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    webhook_task: Option<JoinHandle<()>>,
}

impl Sandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting, close open connections and wait for the loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Some(t) = self.webhook_task {
            let _ = t.await;
        }
    }

    /// Serve until the process ends (or the server stops).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Open (or create and seed) the database, bind, and serve in the background.
pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
    let db_path = opts.db.clone();
    let seed_kind = opts.seed;
    let db = tokio::task::spawn_blocking(move || -> Result<store::Db, SandboxError> {
        let db = store::Db::open(&db_path)?;
        db.with(|c| seed::init(c, seed_kind))??;
        Ok(db)
    })
    .await
    .map_err(|e| SandboxError::Internal(e.to_string()))??;

    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: opts.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: opts.listen,
        source,
    })?;
    let state = Arc::new(server::State {
        db: Arc::new(db),
        router: router::Router::from_catalog(),
        limiter: ratelimit::Limiter::new(opts.rate_limit),
        stats: faults::Stats::default(),
        tokens: auth::TokenCache::default(),
        latency: Duration::from_millis(opts.latency_ms),
        fail_rate: opts.fail_rate.clamp(0.0, 1.0),
        base_url: format!("http://{addr}"),
        oauth: oauth::OAuthStats::default(),
        oauth_access_ttl: opts.oauth_access_ttl,
        webhooks: opts.webhooks.is_some(),
    });
    let (stop, rx) = watch::channel(false);
    let webhook_task = opts
        .webhooks
        .map(|w| webhooks::spawn(state.db.clone(), w, rx.clone()));
    let task = tokio::spawn(server::accept_loop(listener, state, rx));
    Ok(Sandbox {
        addr,
        stop,
        task,
        webhook_task,
    })
}

/// Empty the database, then seed it again (`Seed::Empty` keeps only the
/// location and the default token).
pub fn reset(db: &Path, seed: Seed) -> Result<(), SandboxError> {
    let mut conn = store::open_conn(db)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    store::clear_all(&tx)?;
    tx.commit()?;
    seed::init(&mut conn, seed)?;
    Ok(())
}

/// Create a token bound to `location_id` (default: the demo location) with
/// `scopes` (`None`: all scopes), stored in the database.
pub fn mint_token(
    db: &Path,
    scopes: Option<Vec<String>>,
    location_id: Option<&str>,
) -> Result<String, SandboxError> {
    let conn = store::open_conn(db)?;
    let token = format!("pit-sandbox-{}", uuid::Uuid::new_v4());
    auth::insert(
        &conn,
        &token,
        location_id.unwrap_or(DEMO_LOCATION_ID),
        scopes.as_deref(),
    )?;
    Ok(token)
}

/// `$GHL_SANDBOX_DB`, else `<XDG data dir>/ghl/sandbox.db`.
pub fn default_db_path() -> PathBuf {
    if let Some(p) = std::env::var_os("GHL_SANDBOX_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match directories::ProjectDirs::from("", "", "ghl") {
        Some(d) => d.data_dir().join("sandbox.db"),
        None => PathBuf::from("ghl-sandbox.db"),
    }
}

/// Every scope any catalog operation names, sorted.
pub fn all_scopes() -> Vec<String> {
    let mut v: Vec<String> = ghl_catalog::operations()
        .iter()
        .flat_map(|op| op.security.iter().flat_map(|s| s.scopes.iter().cloned()))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Add `n` sub-accounts to the demo agency (`SbxAgencyLoc00000001`…), each
/// with `contacts` synthetic contacts; an agency token (the default token
/// with `--agency --company SbxDemoCompany0000001`) lists them and mints a
/// location token for each. Returns their ids.
pub fn add_agency_locations(
    db: &Path,
    n: usize,
    contacts: usize,
) -> Result<Vec<String>, SandboxError> {
    let mut conn = store::open_conn(db)?;
    Ok(routes::agency::add_locations(&mut conn, n, contacts)?)
}

/// Insert `n` synthetic contacts into the demo location with one bulk SQL
/// transaction (for benchmarks). Returns how many were inserted.
pub fn bulk_seed_contacts(db: &Path, n: usize) -> Result<usize, SandboxError> {
    let mut conn = store::open_conn(db)?;
    seed::bulk_contacts(&mut conn, DEMO_LOCATION_ID, n)?;
    Ok(n)
}

/// Insert `n` open opportunities into the demo location's first pipeline
/// with one bulk SQL transaction (for tests past the 10,000-record search
/// window, and benchmarks). Returns how many were inserted.
pub fn bulk_seed_opportunities(db: &Path, n: usize) -> Result<usize, SandboxError> {
    let mut conn = store::open_conn(db)?;
    seed::bulk_opportunities(&mut conn, DEMO_LOCATION_ID, n)?;
    Ok(n)
}

/// Insert `n` contacts into the demo location that were all added at
/// `added` (ISO-8601), as an import leaves them (for tests of walks cut
/// at dates). Returns how many were inserted.
pub fn bulk_seed_contacts_added_at(
    db: &Path,
    n: usize,
    added: &str,
) -> Result<usize, SandboxError> {
    let mut conn = store::open_conn(db)?;
    seed_added_at::contacts(&mut conn, DEMO_LOCATION_ID, n, added)?;
    Ok(n)
}

/// The public key the sandbox signs its webhooks with (SPKI DER, base64),
/// made on first use and kept in the database.
pub fn webhook_public_key(db: &Path) -> Result<String, SandboxError> {
    let conn = store::open_conn(db)?;
    Ok(webhooks::public_key_spki(&webhooks::signing_key(&conn)?))
}

/// The outbox: counts per state and the acknowledged `webhookId`s.
pub fn webhook_summary(db: &Path) -> Result<serde_json::Value, SandboxError> {
    let conn = store::open_conn(db)?;
    Ok(webhooks::summary(&conn)?)
}

/// The channel of a simulated inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

/// "A customer replied": an inbound message from a contact, through the
/// same handlers as the API, so the conversation updates and an
/// `InboundMessage` webhook is queued for a serving sandbox to deliver.
pub fn simulate_inbound(
    db: &Path,
    contact_id: &str,
    channel: Channel,
    text: &str,
) -> Result<serde_json::Value, SandboxError> {
    let mut conn = store::open_conn(db)?;
    webhooks::ensure_schema(&conn)?;
    let contact = contact_store::get(&conn, contact_id)?
        .ok_or_else(|| SandboxError::Invalid(format!("no contact {contact_id} in the sandbox")))?;
    let location = contact["locationId"]
        .as_str()
        .unwrap_or(DEMO_LOCATION_ID)
        .to_string();
    let ctx = |op: &str, body: serde_json::Value| -> Result<routes::Ctx, SandboxError> {
        let op = ghl_catalog::find(op)
            .ok_or_else(|| SandboxError::Internal(format!("catalog lacks {op}")))?;
        Ok(routes::Ctx {
            op,
            path: Default::default(),
            query: validate::Query::parse(None),
            body,
            location_id: location.clone(),
            base_url: String::new(),
            raw_path: op.path.clone(),
            webhooks: true,
        })
    };
    let create = ctx(
        "conversations.create-conversation",
        serde_json::json!({"locationId": location, "contactId": contact_id}),
    )?;
    let conversation_id = match routes::run(&mut conn, &create) {
        Ok((_, v)) => v["conversation"]["id"].as_str().map(str::to_string),
        Err(e) => e
            .extra
            .as_ref()
            .and_then(|x| x["conversationId"].as_str())
            .map(str::to_string),
    }
    .ok_or_else(|| SandboxError::Internal("could not open a conversation".into()))?;
    let kind = match channel {
        Channel::Sms => "SMS",
        Channel::Email => "Email",
    };
    let add = ctx(
        "conversations.add-an-inbound-message",
        serde_json::json!({"type": kind, "message": text, "html": text,
            "subject": "Re: your message", "conversationId": conversation_id}),
    )?;
    routes::run(&mut conn, &add)
        .map(|(_, v)| v)
        .map_err(|e| SandboxError::Invalid(e.body().to_string()))
}
