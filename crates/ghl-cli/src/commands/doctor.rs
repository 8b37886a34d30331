//! `ghl doctor`: check the setup end to end and say how to fix what fails.
//!
//! Local checks first (config file, profile, token, location), then one
//! cheap read per scope group. Those responses also give the API's latency,
//! the rate-limit headroom (`X-RateLimit-*`) and the server's clock (`Date`).
//! Any failed check makes the exit code non-zero.

use std::time::{Duration, Instant};

use clap::Args;
use ghl_core::config::Source;
use ghl_core::transport::Response;
use ghl_core::{CallArgs, Client, Error, ErrorCode};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::guide::WHERE_TO_ADD_SCOPES;
use crate::commands::session::{self, Mode, Session};
use crate::commands::setup::parse_location_input;
use crate::credentials;

#[derive(Args, Debug, Clone, Default)]
pub struct DoctorArgs {
    /// Check only these scope groups, comma-separated (e.g. contacts,conversations);
    /// a least-privilege token then passes. `--groups list` shows them all
    #[arg(long, value_delimiter = ',', value_name = "GROUPS")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
    /// The error code behind a failure, for the exit code.
    #[serde(skip)]
    code: Option<ErrorCode>,
}

fn check(name: &str, status: Status, detail: impl Into<String>) -> Check {
    Check {
        name: name.to_string(),
        status,
        detail: detail.into(),
        fix: None,
        code: None,
    }
}

impl Check {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
    fn code(mut self, code: ErrorCode) -> Self {
        self.code = Some(code);
        self
    }
}

/// A cheap read for one scope group: needs only the location id.
struct Probe {
    group: &'static str,
    op: &'static str,
    /// Extra query parameters (page size and the like).
    params: &'static [(&'static str, i64)],
}

const fn probe(
    group: &'static str,
    op: &'static str,
    params: &'static [(&'static str, i64)],
) -> Probe {
    Probe { group, op, params }
}

/// The first is also the reachability, token and location check.
const PROBES: &[Probe] = &[
    probe("locations", "locations.get-location", &[]),
    probe("contacts", "contacts.search-contacts-advanced", &[]),
    probe(
        "conversations",
        "conversations.search-conversation",
        &[("limit", 1)],
    ),
    probe("calendars", "calendars.get-calendars", &[]),
    probe("opportunities", "opportunities.get-pipelines", &[]),
    probe("workflows", "workflows.get-workflow", &[]),
    probe(
        "invoices",
        "invoices.list-invoices",
        &[("limit", 1), ("offset", 0)],
    ),
    probe("products", "products.list-invoices", &[("limit", 1)]),
    probe("payments", "payments.list-orders", &[("limit", 1)]),
    probe("custom-fields", "locations.get-custom-fields", &[]),
    probe("custom-values", "locations.get-custom-values", &[]),
    probe("tags", "locations.get-location-tags", &[]),
    probe("users", "users.get-user-by-location", &[]),
    probe("forms", "forms.get-forms", &[("limit", 1)]),
    probe("surveys", "surveys.get-surveys", &[("limit", 1)]),
    probe("campaigns", "campaigns.get-campaigns", &[]),
    probe("links", "links.get-links", &[]),
    probe("objects", "objects.get-object-by-location-id", &[]),
];

impl Probe {
    fn args(&self, location: &str) -> CallArgs {
        let mut args = CallArgs::new();
        for (k, v) in self.params {
            args.set(k, *v);
        }
        match self.op {
            "contacts.search-contacts-advanced" => {
                args.with_body(json!({"locationId": location, "pageLimit": 1, "page": 1}))
            }
            "payments.list-orders" => args.param("altId", location),
            "locations.get-location" => args.param("locationId", location),
            _ => args,
        }
    }

    fn scopes(&self) -> String {
        Client::operation(self.op)
            .map(|op| op.scopes.join(" or "))
            .unwrap_or_default()
    }
}

/// One probe's outcome.
struct Outcome {
    probe: &'static Probe,
    elapsed: Duration,
    result: Result<Response, Error>,
    /// Local time halfway through the request, to compare with `Date`.
    midpoint: time::OffsetDateTime,
}

async fn send(client: &Client, p: &'static Probe, location: &str) -> Outcome {
    let started = Instant::now();
    let start_wall = time::OffsetDateTime::now_utc();
    let result = match client.prepare(p.op, &p.args(location)) {
        Ok(req) => client.transport().send(&req).await,
        Err(e) => Err(e),
    };
    let elapsed = started.elapsed();
    Outcome {
        probe: p,
        elapsed,
        result,
        midpoint: start_wall + elapsed / 2,
    }
}

pub async fn run(args: DoctorArgs, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let probes = select_probes(&args.groups)?;
    // The location read always runs (it checks token and location); its
    // scope is judged only when the locations group is wanted.
    let judge_first =
        args.groups.is_empty() || args.groups.iter().any(|g| g.trim() == PROBES[0].group);
    let checks = diagnose(global, &probes, judge_first).await;
    render(fmt, &checks)?;
    let failed: Vec<&Check> = checks.iter().filter(|c| c.status == Status::Fail).collect();
    if failed.is_empty() {
        return Ok(());
    }
    let code = failed
        .iter()
        .find_map(|c| c.code)
        .unwrap_or(ErrorCode::Config);
    let names: Vec<&str> = failed.iter().map(|c| c.name.as_str()).collect();
    Err(Error::new(
        code,
        format!("{} check(s) failed: {}", failed.len(), names.join(", ")),
    )
    .with_hint("apply each fix above, then run `ghl doctor` again"))
}

fn select_probes(groups: &[String]) -> Result<Vec<&'static Probe>, Error> {
    let all: Vec<&str> = PROBES.iter().map(|p| p.group).collect();
    if groups.iter().any(|g| g == "list") {
        return Err(Error::validation(format!(
            "scope groups: {}",
            all.join(", ")
        )));
    }
    let mut chosen = vec![&PROBES[0]];
    for g in groups {
        let g = g.trim();
        let Some(p) = PROBES.iter().find(|p| p.group == g) else {
            return Err(Error::validation(format!("no scope group named {g}"))
                .with_hint(format!("groups: {}", all.join(", "))));
        };
        if !chosen.iter().any(|c| c.group == p.group) {
            chosen.push(p);
        }
    }
    if groups.is_empty() {
        chosen = PROBES.iter().collect();
    }
    Ok(chosen)
}

async fn diagnose(global: &GlobalArgs, probes: &[&'static Probe], judge_first: bool) -> Vec<Check> {
    let mut checks = Vec::new();
    let token_in = if global.token_stdin {
        match session::read_stdin_token() {
            Ok(t) => Some(t),
            Err(e) => {
                checks.push(from_error("token", &e));
                return checks;
            }
        }
    } else {
        None
    };
    let mut session = match session::open(global, token_in, Mode::Lenient) {
        Ok(s) => s,
        Err(e) => {
            checks.push(config_file_check(&ghl_core::config::config_path(), None));
            checks.push(from_error("profile", &e));
            return checks;
        }
    };
    checks.push(config_file_check(
        &session.path,
        session.file_error.as_ref(),
    ));
    if let Err(e) = session.attach_sandbox(global).await {
        checks.push(from_error("sandbox", &e));
        return checks;
    }
    checks.push(profile_check(&session));
    let Some(token_check) = token_check(&session) else {
        return checks;
    };
    let token_ok = token_check.status != Status::Fail;
    checks.push(token_check);
    let location = match location_check(&session) {
        Ok((c, id)) => {
            checks.push(c);
            id
        }
        Err(c) => {
            checks.push(c);
            return checks;
        }
    };
    if !token_ok {
        return checks;
    }
    let client = match session.client(global) {
        Ok(c) => c,
        Err(e) => {
            checks.push(from_error("client", &e));
            return checks;
        }
    };
    network_checks(
        &client,
        &session,
        &location,
        probes,
        judge_first,
        &mut checks,
    )
    .await;
    checks
}

fn from_error(name: &str, e: &Error) -> Check {
    let mut c = check(name, Status::Fail, e.message.clone()).code(e.code);
    c.fix = e.hint.clone();
    c
}

fn config_file_check(path: &std::path::Path, error: Option<&Error>) -> Check {
    if let Some(e) = error {
        return from_error("config file", e);
    }
    match std::fs::metadata(path) {
        Err(_) => check(
            "config file",
            Status::Warn,
            format!("none at {}", path.display()),
        )
        .fix("run `ghl setup` to save a profile (not needed when HIGHLEVEL_TOKEN is set)"),
        Ok(meta) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return check(
                        "config file",
                        Status::Fail,
                        format!("{} can be read by others (mode {mode:o})", path.display()),
                    )
                    .fix(format!("run: chmod 600 {}", path.display()))
                    .code(ErrorCode::Config);
                }
                check(
                    "config file",
                    Status::Pass,
                    format!("{} (mode {mode:o})", path.display()),
                )
            }
            #[cfg(not(unix))]
            {
                let _ = meta;
                check("config file", Status::Pass, path.display().to_string())
            }
        }
    }
}

fn source_of(session: &Session, key: &str) -> String {
    session
        .resolved
        .sources
        .get(key)
        .map(|s| match s {
            Source::Default if key == "token" || key == "location_id" => {
                "sandbox default".to_string()
            }
            Source::Default if key == "profile" => "default_profile in the config file".to_string(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| "unset".into())
}

fn profile_check(session: &Session) -> Check {
    match &session.resolved.profile {
        Some(p) => check(
            "profile",
            Status::Pass,
            format!("{p} (from {})", source_of(session, "profile")),
        ),
        None => check(
            "profile",
            Status::Warn,
            "no profile in use: settings come from flags and the environment",
        )
        .fix("run `ghl setup` to save one, or pass --profile NAME"),
    }
}

/// `None` stops the doctor (no token to test).
fn token_check(session: &Session) -> Option<Check> {
    let r = &session.resolved;
    match &r.token {
        Some(t) => {
            let mut where_ = source_of(session, "token");
            if let (Some(name), Some(file)) = (&r.profile, &session.file)
                && matches!(
                    r.sources.get("token"),
                    Some(Source::Profile(_) | Source::Keyring(_))
                )
                && let Some(p) = file.profiles.get(name)
            {
                where_ = credentials::where_stored(p, &session.path);
            }
            Some(check(
                "token present",
                Status::Pass,
                format!("{} from {where_}", t.redacted()),
            ))
        }
        None => {
            let keyring_hint = r
                .profile
                .as_ref()
                .and_then(|n| session.file.as_ref()?.profiles.get(n))
                .filter(|p| p.in_keyring())
                .map(|_| " (the profile's token should be in the OS keyring, which has none)")
                .unwrap_or("");
            Some(
                check(
                    "token present",
                    Status::Fail,
                    format!("no token found{keyring_hint}"),
                )
                .fix(
                    "run `ghl setup` (or `ghl auth rotate`), set HIGHLEVEL_TOKEN, or add --sandbox",
                )
                .code(ErrorCode::Config),
            )
        }
    }
}

fn location_check(session: &Session) -> Result<(Check, String), Check> {
    let fix = "pass --location ID, set HIGHLEVEL_LOCATION_ID, or run `ghl setup`";
    let Some(raw) = &session.resolved.location_id else {
        return Err(check("location", Status::Fail, "no location id is set")
            .fix(fix)
            .code(ErrorCode::Config));
    };
    match parse_location_input(raw) {
        Ok(id) => Ok((
            check(
                "location",
                Status::Pass,
                format!("{id} (from {})", source_of(session, "location_id")),
            ),
            id,
        )),
        Err(e) => Err(check("location", Status::Fail, e.message.clone())
            .fix(fix)
            .code(ErrorCode::Validation)),
    }
}

async fn network_checks(
    client: &Client,
    session: &Session,
    location: &str,
    probes: &[&'static Probe],
    judge_first: bool,
    checks: &mut Vec<Check>,
) {
    let base = &session.resolved.base_url;
    let first = send(client, probes[0], location).await;
    // Reachability.
    match &first.result {
        Err(e) if matches!(e.code, ErrorCode::Network | ErrorCode::Timeout) => {
            checks.push(
                check(
                    "api reachable",
                    Status::Fail,
                    format!("{base}: {}", e.message),
                )
                .fix("check the network, a proxy, or --base-url / GHL_BASE_URL")
                .code(e.code),
            );
            return;
        }
        _ => {
            let ms = first.elapsed.as_millis();
            let status = if ms > 3000 {
                Status::Warn
            } else {
                Status::Pass
            };
            let mut c = check(
                "api reachable",
                status,
                format!("{base} answered in {ms} ms"),
            );
            if status == Status::Warn {
                c = c.fix("a slow network or proxy; commands still work, only slower");
            }
            checks.push(c);
        }
    }
    // Token and location, from the first (location) read.
    match &first.result {
        Err(e) if e.code == ErrorCode::InvalidToken => {
            checks.push(
                check("token valid", Status::Fail, e.message.clone())
                    .fix("the token is mistyped, revoked or expired: `ghl auth rotate` with a fresh one from Settings > Private Integrations")
                    .code(e.code),
            );
            return;
        }
        Err(e) if e.code == ErrorCode::LocationForbidden => {
            checks.push(check("token valid", Status::Pass, "accepted by the API"));
            checks.push(
                check(
                    "location access",
                    Status::Fail,
                    format!("the token has no access to location {location} (403)"),
                )
                .fix("use the location the token was created in (--location ID), or create a Private Integration in that sub-account")
                .code(e.code),
            );
            return;
        }
        Err(e) if e.code == ErrorCode::NotFound => {
            checks.push(check("token valid", Status::Pass, "accepted by the API"));
            checks.push(
                check(
                    "location access",
                    Status::Fail,
                    format!("no location {location} (404)"),
                )
                .fix("check the Location ID (Settings > Business Profile)")
                .code(e.code),
            );
            return;
        }
        _ => checks.push(check("token valid", Status::Pass, "accepted by the API")),
    }

    let mut outcomes = vec![first];
    for p in &probes[1..] {
        outcomes.push(send(client, p, location).await);
    }
    checks.push(location_access(&outcomes, location));
    for (i, o) in outcomes.iter().enumerate() {
        if i > 0 || judge_first {
            checks.push(scope_check(o));
        }
    }
    checks.push(rate_check(&outcomes));
    checks.push(clock_check(&outcomes));
}

fn location_access(outcomes: &[Outcome], location: &str) -> Check {
    if let Some(body) = outcomes[0].result.as_ref().ok().map(|r| &r.body) {
        let name = body
            .get("location")
            .unwrap_or(body)
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)");
        return check(
            "location access",
            Status::Pass,
            format!("{name} ({location})"),
        );
    }
    if let Some(e) = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err())
        .find(|e| e.code == ErrorCode::LocationForbidden)
    {
        return check(
            "location access",
            Status::Fail,
            format!(
                "the token has no access to location {location}: {}",
                e.message
            ),
        )
        .fix("use the location the token was created in (--location ID)")
        .code(e.code);
    }
    if outcomes.iter().skip(1).any(|o| o.result.is_ok()) {
        return check(
            "location access",
            Status::Pass,
            format!("{location} (its details need locations.readonly)"),
        );
    }
    check(
        "location access",
        Status::Warn,
        format!("unconfirmed: no read on {location} is allowed by the token's scopes"),
    )
    .fix(format!("add locations.readonly in {WHERE_TO_ADD_SCOPES}"))
}

fn scope_check(o: &Outcome) -> Check {
    let name = format!("scope {}", o.probe.group);
    match &o.result {
        Ok(_) => check(&name, Status::Pass, format!("{} works", o.probe.scopes())),
        Err(e) if e.code == ErrorCode::MissingScope => {
            let scopes = if e.scopes.is_empty() {
                o.probe.scopes()
            } else {
                e.scopes.join(" or ")
            };
            check(
                &name,
                Status::Fail,
                format!("missing scope {scopes} ({} was refused)", o.probe.op),
            )
            .fix(format!(
                "add {scopes} to the integration ({WHERE_TO_ADD_SCOPES}), or leave the group out with --groups"
            ))
            .code(ErrorCode::MissingScope)
        }
        Err(e) => check(
            &name,
            Status::Warn,
            format!("could not check {}: {}", o.probe.op, e.message),
        )
        .fix(e.hint.clone().unwrap_or_else(|| "try again later".into())),
    }
}

fn rate_check(outcomes: &[Outcome]) -> Check {
    let last = outcomes
        .iter()
        .rev()
        .filter_map(|o| o.result.as_ref().ok())
        .find_map(|r| r.rate);
    let Some(info) = last else {
        return check(
            "rate limit",
            Status::Warn,
            "no X-RateLimit-* headers in the responses",
        )
        .fix("nothing to do unless requests get 429; the client paces itself at 100 per 10 s");
    };
    let mut parts = Vec::new();
    let mut status = Status::Pass;
    if let (Some(rem), Some(max)) = (info.remaining, info.max) {
        let window = info
            .interval_ms
            .map(|ms| format!(" per {} s", ms as f64 / 1000.0))
            .unwrap_or_default();
        parts.push(format!("{rem} of {max}{window} left"));
        if (rem as u64) * 5 < max as u64 {
            status = Status::Warn;
        }
    }
    if let (Some(rem), Some(lim)) = (info.daily_remaining, info.daily_limit) {
        parts.push(format!("{rem} of {lim} left today"));
        if rem * 20 < lim {
            status = Status::Warn;
        }
    }
    if parts.is_empty() {
        parts.push("headers present but partial".into());
    }
    let mut c = check("rate limit", status, parts.join("; "));
    if status == Status::Warn {
        c = c.fix("another app or script is using this location's budget; slow it down or wait for the window to reset");
    }
    c
}

fn clock_check(outcomes: &[Outcome]) -> Check {
    let found = outcomes.iter().find_map(|o| {
        let r = o.result.as_ref().ok()?;
        let date = r
            .headers
            .iter()
            .find(|(k, _)| k == "date")
            .map(|(_, v)| v)?;
        Some((parse_http_date(date)?, o.midpoint))
    });
    let Some((server, local)) = found else {
        return check(
            "clock",
            Status::Warn,
            "no Date header in the responses to compare with",
        )
        .fix("make sure the system clock is synchronised (NTP)");
    };
    let skew = (local - server).whole_seconds();
    let detail = match skew {
        0 => "in step with the server (within 1 s)".to_string(),
        s if s > 0 => format!("{s} s ahead of the server"),
        s => format!("{} s behind the server", -s),
    };
    let fix = "synchronise the clock: `timedatectl set-ntp true` (Linux) or automatic date & time";
    match skew.abs() {
        0..=30 => check("clock", Status::Pass, detail),
        31..=299 => check("clock", Status::Warn, detail).fix(fix),
        _ => check(
            "clock",
            Status::Fail,
            format!("{detail}: webhook timestamps will be rejected (5-minute window)"),
        )
        .fix(fix)
        .code(ErrorCode::Config),
    }
}

/// `Tue, 24 Nov 2026 12:28:18 GMT` (RFC 9110 IMF-fixdate).
fn parse_http_date(s: &str) -> Option<time::OffsetDateTime> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(s.trim(), fmt)
        .ok()
        .map(|t| t.assume_utc())
}

fn render(fmt: OutputFormat, checks: &[Check]) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::config(format!("cannot write output: {e}"));
    match fmt {
        OutputFormat::Json => {
            crate::output::json(&serde_json::to_value(checks).unwrap_or(Value::Null)).map_err(io)
        }
        OutputFormat::Jsonl | OutputFormat::Csv => {
            let rows: Vec<Value> = checks
                .iter()
                .filter_map(|c| serde_json::to_value(c).ok())
                .collect();
            crate::output::records(fmt, &rows).map_err(io)
        }
        OutputFormat::Table => {
            use std::io::Write;
            let out = std::io::stdout();
            let mut w = out.lock();
            let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
            for c in checks {
                let tag = match c.status {
                    Status::Pass => "PASS",
                    Status::Warn => "WARN",
                    Status::Fail => "FAIL",
                };
                writeln!(w, "{tag}  {:<width$}  {}", c.name, c.detail).map_err(io)?;
                if let Some(f) = c.fix.as_ref().filter(|_| c.status != Status::Pass) {
                    writeln!(w, "      {:<width$}  fix: {f}", "").map_err(io)?;
                }
            }
            let (p, wn, f) = checks
                .iter()
                .fold((0, 0, 0), |(p, w, f), c| match c.status {
                    Status::Pass => (p + 1, w, f),
                    Status::Warn => (p, w + 1, f),
                    Status::Fail => (p, w, f + 1),
                });
            writeln!(w, "\n{p} passed, {wn} warnings, {f} failed").map_err(io)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_is_a_read_in_the_catalog() {
        for p in PROBES {
            let op = Client::operation(p.op).expect(p.op);
            assert_eq!(op.effect, ghl_catalog::Effect::Read, "{}", p.op);
            assert!(!op.scopes.is_empty(), "{} names no scope", p.op);
        }
    }

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Tue, 24 Nov 2026 12:28:18 GMT").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_523_298);
        assert!(parse_http_date("yesterday").is_none());
    }

    #[test]
    fn groups_are_checked_by_name() {
        assert_eq!(select_probes(&[]).unwrap().len(), PROBES.len());
        let only = select_probes(&["contacts".into()]).unwrap();
        assert_eq!(
            only.iter().map(|p| p.group).collect::<Vec<_>>(),
            ["locations", "contacts"]
        );
        assert!(select_probes(&["nope".into()]).is_err());
    }
}
