//! `ghl sync`, `ghl sql`, `ghl report` and names for ids, as a user runs
//! them: a real `ghl` process against a sandbox on loopback, killed with
//! SIGKILL in the middle of a sync and run again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ghl_store::{QueryLimits, Store, StoreUrl};
use serde_json::Value;

fn ghl(data: &Path, base_url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ghl"));
    c.args(["--output", "json", "--base-url", base_url])
        .args(args)
        .env("GHL_DATA_DIR", data)
        .env("GHL_CONFIG", data.join("config.toml"))
        .env("HOME", data)
        .env("XDG_DATA_HOME", data.join("xdg"))
        .env("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", ghl_sandbox::DEMO_LOCATION_ID)
        .env_remove("GHL_STORE_URL")
        .env_remove("GHL_BASE_URL");
    c
}

fn run(data: &Path, base_url: &str, args: &[&str]) -> Output {
    ghl(data, base_url, args).output().expect("run ghl")
}

fn json_ok(data: &Path, base_url: &str, args: &[&str]) -> Value {
    let out = run(data, base_url, args);
    assert!(
        out.status.success(),
        "ghl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The names of every pipeline stage, from HighLevel (the sandbox).
fn stages_named(data: &Path, base_url: &str) -> Vec<String> {
    let all = json_ok(data, base_url, &["pipelines", "list"]);
    all["pipelines"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["stages"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

fn mirror_path(data: &Path) -> PathBuf {
    data.join(format!(
        "mirror-default-{}.db",
        ghl_sandbox::DEMO_LOCATION_ID
    ))
}

fn count(data: &Path, sql: &str) -> i64 {
    let path = mirror_path(data);
    if !path.exists() {
        return 0;
    }
    let store = Store::open(&StoreUrl::Sqlite(path)).unwrap();
    match store.query_readonly(sql, &[], QueryLimits::default()) {
        Ok(r) => r.rows[0][0].as_i64().unwrap(),
        Err(_) => 0, // not migrated yet
    }
}

/// The sandbox's contact ids, read from its file through ghl-store's
/// read-only query.
fn sandbox_contact_ids(db: &Path) -> Vec<String> {
    let store = Store::open(&StoreUrl::Sqlite(db.to_path_buf())).unwrap();
    let r = store
        .query_readonly(
            "SELECT id FROM contacts ORDER BY id",
            &[],
            QueryLimits {
                max_rows: 1_000_000,
                ..QueryLimits::default()
            },
        )
        .unwrap();
    r.rows
        .into_iter()
        .map(|row| row[0].as_str().unwrap().to_string())
        .collect()
}

async fn sandbox(dir: &Path, contacts: usize, latency_ms: u64) -> ghl_sandbox::Sandbox {
    let db = dir.join("sandbox.db");
    let mut opts = ghl_sandbox::SandboxOptions::new(db.clone());
    opts.latency_ms = latency_ms;
    opts.rate_limit = ghl_sandbox::RateLimit {
        max: 100_000,
        interval: Duration::from_secs(10),
        daily: 10_000_000,
    };
    let s = ghl_sandbox::start(opts).await.unwrap();
    if contacts > 0 {
        ghl_sandbox::bulk_seed_contacts(&db, contacts).unwrap();
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_midway_then_rerun_leaves_no_duplicate_and_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // More than the 10,000 a numbered search reaches: the keyset cursor
    // (searchAfter) is what gets checkpointed and resumed.
    let sb = sandbox(dir.path(), 11_000, 60).await;
    let url = sb.base_url();
    let mut child = ghl(&data, &url, &["sync", "--groups", "contacts"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        if count(&data, "SELECT COUNT(*) FROM contacts") >= 2_000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "sync ended before the kill"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "sync made no progress"
        );
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = count(&data, "SELECT COUNT(*) FROM contacts");
    let want = sandbox_contact_ids(&dir.path().join("sandbox.db"));
    assert!(partial < want.len() as i64, "killed midway: {partial}");

    let reports = json_ok(&data, &url, &["sync", "--groups", "contacts"]);
    assert_eq!(reports[0]["mode"], "resumed", "{reports}");
    assert!(
        reports[0]["fetched"].as_i64().unwrap() >= want.len() as i64 - partial,
        "{reports}"
    );
    let ids = json_ok(
        &data,
        &url,
        &[
            "sql",
            "SELECT id FROM contacts ORDER BY id",
            "--max-rows",
            "100000",
        ],
    );
    let got: Vec<String> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got.len(), want.len(), "no duplicates, nothing missing");
    assert_eq!(got, want);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_reports_and_names_from_the_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sb = sandbox(dir.path(), 0, 0).await;
    let url = sb.base_url();

    // Before a sync: a clear way forward, not an empty answer.
    let out = run(&data, &url, &["report", "funnel"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ghl sync"));

    json_ok(&data, &url, &["sync", "--since", "2000-01-01"]);
    let funnel = json_ok(
        &data,
        &url,
        &["report", "funnel", "--pipeline", "sales pipeline"],
    );
    let stages: Vec<&str> = funnel
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "New Lead",
            "Contacted",
            "Proposal Sent",
            "Negotiation",
            "Closed"
        ]
    );

    // Every output format of a SQL answer.
    let q = "SELECT stage, COUNT(*) AS n FROM opportunities_view GROUP BY stage ORDER BY stage";
    let csv = run(&data, &url, &["sql", q, "-o", "csv"]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("stage,n\n"));
    let jsonl = run(&data, &url, &["sql", q, "-o", "jsonl"]);
    let lines = String::from_utf8_lossy(&jsonl.stdout).lines().count();
    assert_eq!(lines, 9);
    let table = run(&data, &url, &["sql", q, "-o", "table"]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("Proposal Sent"));
    // A table shows every column the query chose, in its order (not the
    // seven columns a record listing picks).
    let wide = "SELECT 1 AS h, 2 AS g, 3 AS f, 4 AS e, 5 AS d, 6 AS c, 7 AS b, 8 AS a, 'x' AS id";
    let table = run(&data, &url, &["sql", wide, "-o", "table"]);
    let header = String::from_utf8_lossy(&table.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(header, "H G F E D C B A ID");

    // Tables for people show names where records hold ids; JSON keeps ids.
    let table = run(
        &data,
        &url,
        &["opportunities", "search", "--all", "-o", "table"],
    );
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Sales Pipeline") && text.contains("Proposal Sent"),
        "{text}"
    );
    // The columns say what they now hold: a name, not an id.
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("STAGE") && header.contains("PIPELINE") && !header.contains(" ID "),
        "{header}"
    );
    let ids = json_ok(&data, &url, &["opportunities", "search", "--max", "1"]);
    assert_eq!(ids[0]["pipelineId"].as_str().unwrap().len(), 20, "{ids}");
    // One record, shown as a table of fields, names its ids too.
    let id = ids[0]["id"].as_str().unwrap();
    let one = run(&data, &url, &["opportunities", "get", id, "-o", "table"]);
    let text = String::from_utf8_lossy(&one.stdout);
    let field = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
    };
    let stage_name = field("stage").unwrap_or_else(|| panic!("no stage line: {text}"));
    assert!(
        stages_named(&data, &url).contains(&stage_name),
        "{stage_name} is not a stage's name: {text}"
    );
    assert!(field("pipelineStageId").is_none(), "{text}");

    // `contacts dedupe` is the dedupe report; merging needs --yes (tests/dedupe.rs).
    let plan = json_ok(&data, &url, &["contacts", "dedupe", "--by", "email"]);
    assert!(plan.is_array(), "{plan}");

    // Writes are refused with exit 6, and nothing changed.
    let before = count(&data, "SELECT COUNT(*) FROM contacts");
    for sql in [
        "DELETE FROM contacts",
        "DROP TABLE contacts",
        "PRAGMA journal_mode=DELETE",
    ] {
        let out = run(&data, &url, &["sql", sql]);
        assert_eq!(out.status.code(), Some(6), "{sql}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("only reading"));
    }
    assert_eq!(count(&data, "SELECT COUNT(*) FROM contacts"), before);

    // A stage by name; a wrong name is a did-you-mean before any request:
    // the server is gone, so a request would fail with a network error.
    let opp = json_ok(
        &data,
        &url,
        &[
            "sql",
            "SELECT o.id FROM opportunities o JOIN stages s ON s.id = o.stage_id JOIN pipelines p ON p.id = o.pipeline_id WHERE p.name = 'Sales Pipeline' AND s.name <> 'Proposal Sent' LIMIT 1",
        ],
    );
    let opp = opp[0]["id"].as_str().unwrap().to_string();
    let moved = json_ok(
        &data,
        &url,
        &["opportunities", "stage", &opp, "proposal sent"],
    );
    let want_stage = json_ok(
        &data,
        &url,
        &[
            "sql",
            "SELECT s.id FROM stages s JOIN pipelines p ON p.id = s.pipeline_id WHERE p.name = 'Sales Pipeline' AND s.name = 'Proposal Sent'",
        ],
    );
    assert_eq!(moved["opportunity"]["pipelineStageId"], want_stage[0]["id"]);
    sb.shutdown().await;

    let dead = "http://127.0.0.1:9";
    for (args, want) in [
        (
            vec!["opportunities", "stage", opp.as_str(), "Proposal Snet"],
            "did you mean \\\"Proposal Sent\\\"",
        ),
        (
            vec!["opportunities", "stage", opp.as_str(), "Kickoff"],
            "no stage named \\\"Kickoff\\\"",
        ),
        (
            vec!["opportunities", "search", "assigned_to=Morgn Sales"],
            "did you mean \\\"Morgan Sales\\\"",
        ),
    ] {
        let out = run(&data, dead, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconcile_schedule_is_checked_first_and_kept_for_later_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sb = sandbox(dir.path(), 0, 0).await;
    let url = sb.base_url();

    // A wrong duration fails before anything is opened or sent.
    let out = run(
        &data,
        &url,
        &["sync", "--groups", "contacts", "--reconcile-every", "2x"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reconcile-every"));
    assert!(!mirror_path(&data).exists());

    let mode = |v: &Value| {
        v.as_array().unwrap()[0]["mode"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The first sync sets the schedule and, with no scan yet, is one.
    let first = json_ok(
        &data,
        &url,
        &["sync", "--groups", "contacts", "--reconcile-every", "24h"],
    );
    assert_eq!(mode(&first), "whole, id scan");
    // A later plain sync keeps the schedule: inside the day, changes only.
    let later = json_ok(&data, &url, &["sync", "--groups", "contacts"]);
    assert_eq!(mode(&later), "changes");
    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM sync_settings WHERE key = 'reconcile_every_ms' AND value = '86400000'"
        ),
        1
    );
    // `off` removes it.
    json_ok(
        &data,
        &url,
        &["sync", "--groups", "contacts", "--reconcile-every", "off"],
    );
    assert_eq!(
        count(
            &data,
            "SELECT COUNT(*) FROM sync_settings WHERE key = 'reconcile_every_ms'"
        ),
        0
    );
    sb.shutdown().await;
}
