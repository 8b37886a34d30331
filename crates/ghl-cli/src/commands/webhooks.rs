//! `ghl webhooks listen` (the receiver) and `ghl webhooks events
//! list|show|replay|dead` (the spool, inspected and re-run).

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use ghl_core::{Error, ErrorCode};
use ghl_events::{
    DeliveryOptions, EventFilter, EventHook, Filter, Receiver, ReceiverOptions, Sink, Spool, State,
    Verifier, keys,
};
use serde_json::{Value, json};

use crate::cli::OutputFormat;
use crate::output;
use crate::stop_signal::stop_signal;

#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// Receive HighLevel webhooks: verify, refuse replays, store durably, deliver to sinks
    Listen(ListenArgs),
    /// The stored events: list, show, replay, dead
    #[command(subcommand)]
    Events(EventsCommand),
}

#[derive(Args, Debug)]
pub struct ListenArgs {
    /// Address to listen on (port 0: any free port, printed on start)
    #[arg(long, default_value = "127.0.0.1:8790")]
    pub listen: std::net::SocketAddr,
    /// The one path that accepts webhooks
    #[arg(long, default_value = "/webhooks/ghl")]
    pub path: String,
    /// Run CMD for each event: JSON on stdin; GHL_EVENT_TYPE, GHL_EVENT_LOCATION,
    /// GHL_EVENT_ID, GHL_EVENT_CONTACT in the environment; exit 0 means delivered
    #[arg(long, value_name = "CMD")]
    pub exec: Vec<String>,
    /// POST each event's JSON on to URL; a 2xx means delivered
    #[arg(long, value_name = "URL")]
    pub forward: Vec<String>,
    /// Append each event as one JSON line to FILE (`-`: standard output)
    #[arg(long, value_name = "FILE")]
    pub jsonl: Vec<String>,
    /// Ed25519 key to verify X-GHL-Signature with (SPKI or raw, base64),
    /// instead of HighLevel's published key; repeat to accept several
    #[arg(long, value_name = "BASE64")]
    pub public_key: Vec<String>,
    /// Also accept posts signed only with the legacy RSA `x-wh-signature`
    /// (HighLevel's retired scheme); X-GHL-Signature is preferred when present
    #[arg(long)]
    pub allow_legacy_rsa: bool,
    /// PEM file of the RSA public key for `x-wh-signature`, instead of
    /// HighLevel's published one (needs --allow-legacy-rsa)
    #[arg(long, value_name = "PEM_FILE", requires = "allow_legacy_rsa")]
    pub legacy_rsa_key: Option<std::path::PathBuf>,
    /// Accept unsigned posts (workflow "custom webhook" actions) that carry
    /// this secret in an X-GHL-Secret or `Authorization: Bearer` header
    #[arg(long, env = "GHL_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Oldest `timestamp` accepted, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub window: u64,
    /// Clock difference tolerated with HighLevel, in seconds
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub skew: u64,
    /// Largest body accepted, in bytes
    #[arg(long, default_value_t = ghl_events::receiver::DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Deliver only events of these types (others are stored as skipped)
    #[arg(long = "type", value_name = "TYPE")]
    pub types: Vec<String>,
    /// Attempts before an event goes to the dead letters
    #[arg(long, default_value_t = 8)]
    pub max_attempts: i64,
    /// Apply each stored event to this location's local mirror (`ghl sync`
    /// builds it), so `ghl sql` and reports stay fresh between syncs
    #[arg(long)]
    pub mirror: bool,
    /// Wait after the first failed attempt, in ms; doubled after each further one
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub retry_base_ms: u64,
    /// Longest wait between attempts, in seconds
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub retry_max: u64,
    /// How long a delivery claim lasts unless renewed, in seconds: when
    /// several receivers share a store, a dead one's claims are taken over
    /// after this
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease: u64,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args, Debug, Clone)]
pub struct StoreArg {
    /// Where events are kept [default: $GHL_STORE_URL, else <data dir>/events.db]
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Recent events, newest first
    List(ListArgs),
    /// One event with its payload (by webhookId or number)
    Show {
        id: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Deliver an event again to every sink (a running listener picks it up)
    Replay {
        id: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Events that failed every attempt
    Dead {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[command(flatten)]
        store: StoreArg,
    },
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long = "type")]
    pub event_type: Option<String>,
    #[arg(long)]
    pub contact: Option<String>,
    /// pending, delivered, dead or skipped
    #[arg(long, value_parser = ["pending", "delivered", "dead", "skipped"])]
    pub state: Option<String>,
    /// Received in the last N seconds
    #[arg(long, value_name = "SECS")]
    pub since: Option<u64>,
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    #[command(flatten)]
    pub store: StoreArg,
}

fn store_err(e: ghl_store::Error) -> Error {
    Error::config(format!("event store: {e}")).with_hint(
        "check --store / GHL_STORE_URL and that the file is yours and not readable by others",
    )
}

fn open_store(arg: &StoreArg) -> Result<ghl_store::Store, Error> {
    let url = ghl_store::StoreUrl::resolve(arg.store.as_deref(), "events").map_err(store_err)?;
    ghl_store::Store::open(&url).map_err(store_err)
}

/// Hooks the CLI runs for some event types, like sinks (retried with
/// backoff, so each must be idempotent).
pub fn hooks() -> Vec<(&'static str, Arc<dyn EventHook>)> {
    vec![("app-uninstall", Arc::new(AppUninstall))]
}

/// `AppUninstall`: the app lost its access to the location (or company), so
/// the tokens ghl keeps for it are removed.
struct AppUninstall;

impl EventHook for AppUninstall {
    fn wants(&self, event_type: &str) -> bool {
        event_type == "AppUninstall"
    }

    fn handle(&self, event: &ghl_events::Event) -> Result<(), String> {
        let body: serde_json::Value =
            serde_json::from_str(&event.body).map_err(|e| format!("not JSON: {e}"))?;
        let field = |k: &str| {
            body.get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let (location, company) = (field("locationId"), field("companyId"));
        if location.is_none() && company.is_none() {
            // Nothing names whose tokens to remove: nothing to do, and
            // retrying would not change that.
            return Ok(());
        }
        crate::oauth_store::remove_app_tokens(location, company, field("appId"))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// `location`: the global `--location`, which narrows `listen` (deliver
/// only that location's events) and `events list`.
pub async fn run(
    cmd: WebhooksCommand,
    global: &crate::cli::GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let location = global.location.clone();
    match cmd {
        WebhooksCommand::Listen(args) => {
            let mirror = match args.mirror {
                true => Some(mirror_hook(global)?),
                false => None,
            };
            listen(args, location, mirror).await
        }
        // Off the async workers: a Postgres store's own I/O runtime may not
        // be dropped inside async code.
        WebhooksCommand::Events(c) => tokio::task::spawn_blocking(move || events(c, location, fmt))
            .await
            .map_err(|e| Error::config(format!("event store task failed: {e}")))?,
    }
}

/// The mirror that `--mirror` keeps fresh: this profile's and location's.
fn mirror_hook(global: &crate::cli::GlobalArgs) -> Result<Arc<dyn EventHook>, Error> {
    let (profile, location) = crate::commands::mirror::mirror_key(global)?;
    let mirror = ghl_mirror::Mirror::open_for(None, &profile, &location)?;
    Ok(Arc::new(MirrorHook { mirror, location }))
}

/// Applies every stored event of its location to the mirror (events of
/// other locations belong to other mirrors). Applying is an upsert by id,
/// so a redelivered event changes nothing.
struct MirrorHook {
    mirror: ghl_mirror::Mirror,
    location: String,
}

impl EventHook for MirrorHook {
    fn wants(&self, _: &str) -> bool {
        true
    }

    fn handle(&self, event: &ghl_events::Event) -> Result<(), String> {
        if event
            .location_id
            .as_deref()
            .is_some_and(|l| l != self.location)
        {
            return Ok(());
        }
        let body: serde_json::Value =
            serde_json::from_str(&event.body).map_err(|e| format!("not JSON: {e}"))?;
        ghl_mirror::apply_event(&self.mirror, &body)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

async fn listen(
    a: ListenArgs,
    location: Option<String>,
    mirror: Option<Arc<dyn EventHook>>,
) -> Result<(), Error> {
    if !a.path.starts_with('/') {
        return Err(Error::validation("--path must start with /"));
    }
    ignore_sigpipe();
    if a.max_attempts < 1 {
        return Err(Error::validation("--max-attempts must be at least 1"));
    }
    let mut sinks = Vec::new();
    for c in &a.exec {
        sinks.push(Sink::exec(c));
    }
    for u in &a.forward {
        sinks.push(Sink::forward(u).map_err(Error::validation)?);
    }
    for f in &a.jsonl {
        sinks.push(Sink::jsonl(f).map_err(Error::config)?);
    }
    if sinks.is_empty() {
        return Err(
            Error::validation("no sink: events would be stored but go nowhere").with_hint(
                "add --exec CMD, --forward URL or --jsonl FILE (or --jsonl - for standard output)",
            ),
        );
    }
    for (name, hook) in hooks() {
        sinks.push(Sink::hook(name, hook));
    }
    if let Some(hook) = mirror {
        sinks.push(Sink::hook("mirror", hook));
    }
    let keys = if a.public_key.is_empty() {
        vec![keys::highlevel_key()]
    } else {
        a.public_key
            .iter()
            .map(|k| {
                keys::parse_public_key(k)
                    .map_err(|e| Error::validation(format!("--public-key: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let legacy_rsa = match (a.allow_legacy_rsa, &a.legacy_rsa_key) {
        (false, _) => None,
        (true, None) => Some(Arc::new(keys::highlevel_rsa_key())),
        (true, Some(path)) => {
            let pem = read_small_text(path, 64 * 1024).map_err(|e| {
                Error::validation(format!("--legacy-rsa-key {}: {e}", path.display()))
            })?;
            let key = keys::parse_rsa_public_key(&pem).map_err(|e| {
                Error::validation(format!("--legacy-rsa-key {}: {e}", path.display()))
            })?;
            Some(Arc::new(key))
        }
    };
    if a.secret.as_deref().is_some_and(|s| s.len() < 16) {
        return Err(Error::validation("--secret is too short to guess-proof")
            .with_hint("use at least 16 random characters, e.g. `openssl rand -hex 24`"));
    }
    let store = open_store(&a.store)?;
    let spool = Spool::open(store.clone()).map_err(store_err)?;
    let opts = ReceiverOptions {
        listen: a.listen,
        path: a.path.clone(),
        verifier: Verifier {
            keys,
            secret: a.secret.clone(),
            legacy_rsa,
            window_ms: a.window as i64 * 1000,
            skew_ms: a.skew as i64 * 1000,
        },
        max_body: a.max_body,
        filter: EventFilter {
            types: a.types.clone(),
            locations: location.into_iter().collect(),
        },
        sinks,
        delivery: DeliveryOptions {
            max_attempts: a.max_attempts,
            retry_base: Duration::from_millis(a.retry_base_ms),
            retry_max: Duration::from_secs(a.retry_max),
            lease: Duration::from_secs(a.lease),
            ..DeliveryOptions::default()
        },
    };
    let holder = opts.delivery.holder.clone();
    let receiver = Receiver::start(opts, spool).await.map_err(|e| {
        Error::config(format!("cannot listen on {}: {e}", a.listen))
            .with_hint("pick another port with --listen 127.0.0.1:PORT")
    })?;
    eprintln!(
        "ghl webhooks listening on http://{}{} (events stored in {})",
        receiver.addr(),
        a.path,
        store.describe()
    );
    eprintln!("health and counters: http://{}/healthz", receiver.addr());
    eprintln!("delivery claims held as {holder}");
    stop_signal().await;
    eprintln!("stopping: finishing what is in flight");
    receiver.shutdown().await;
    // The last handle on the store, dropped where blocking is allowed (a
    // Postgres store stops its own I/O runtime).
    let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    Ok(())
}

/// A server must not die when a sink's pipe closes (an `--exec` command
/// that exits without reading its input, `--jsonl -` into a finished
/// reader): the write fails and the delivery is retried. `ghl` otherwise
/// lets SIGPIPE end it quietly, for `ghl … | head`.
fn ignore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: SIG_IGN is a valid disposition for SIGPIPE; setting it is
    // process-wide and safe while other threads run.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// A key file, read only up to `max` bytes (a public key is small).
fn read_small_text(path: &std::path::Path, max: u64) -> Result<String, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = String::new();
    f.take(max + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > max {
        return Err(format!("larger than {max} bytes: not a public key"));
    }
    Ok(text)
}

fn row(e: &ghl_events::Event) -> Value {
    json!({
        "id": e.seq,
        "webhookId": e.webhook_id,
        "type": e.event_type,
        "locationId": e.location_id,
        "contactId": e.contact_id,
        "state": e.state,
        "attempts": e.attempts,
        "received": iso(e.received_at_ms),
        "lastError": e.last_error,
    })
}

fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn print_rows(fmt: OutputFormat, evs: &[ghl_events::Event]) -> Result<(), Error> {
    let rows: Vec<Value> = evs.iter().map(row).collect();
    output::records(fmt, &rows).map_err(|e| Error::config(format!("writing output: {e}")))
}

fn not_found(id: &str) -> Error {
    Error::new(ErrorCode::NotFound, format!("no stored event {id}"))
        .with_hint("`ghl webhooks events list` shows the stored events and their ids")
}

fn events(cmd: EventsCommand, location: Option<String>, fmt: OutputFormat) -> Result<(), Error> {
    match cmd {
        EventsCommand::List(a) => {
            let spool = Spool::reader(open_store(&a.store)?);
            let f = Filter {
                event_type: a.event_type,
                location_id: location,
                contact_id: a.contact,
                state: a.state.as_deref().and_then(State::parse),
                since_ms: a
                    .since
                    .map(|s| ghl_events::verify::now_ms() - s as i64 * 1000),
                limit: a.limit,
            };
            print_rows(fmt, &spool.list(&f).map_err(store_err)?)
        }
        EventsCommand::Dead { limit, store } => {
            let spool = Spool::reader(open_store(&store)?);
            let f = Filter {
                state: Some(State::Dead),
                limit,
                ..Filter::default()
            };
            print_rows(fmt, &spool.list(&f).map_err(store_err)?)
        }
        EventsCommand::Show { id, store } => {
            let spool = Spool::reader(open_store(&store)?);
            let ev = spool
                .get(&id)
                .map_err(store_err)?
                .ok_or_else(|| not_found(&id))?;
            let mut v = row(&ev);
            v["payload"] = ev.payload();
            output::json(&v).map_err(|e| Error::config(format!("writing output: {e}")))
        }
        EventsCommand::Replay { id, store } => {
            let spool = Spool::open(open_store(&store)?).map_err(store_err)?;
            let ev = spool
                .replay(&id)
                .map_err(store_err)?
                .ok_or_else(|| not_found(&id))?;
            output::note(
                fmt,
                &format!(
                    "event {} ({}) queued for delivery again; a running `ghl webhooks listen` on this store delivers it",
                    ev.webhook_id, ev.event_type
                ),
            );
            output::json(&row(&ev)).map_err(|e| Error::config(format!("writing output: {e}")))
        }
    }
}
