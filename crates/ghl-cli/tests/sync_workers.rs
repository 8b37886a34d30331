//! One sync per mirror, and sync workers sharing locations, as real `ghl`
//! processes: a second sync of a mirror is refused while the first holds
//! its lease; a SIGKILLed sync's lease expires (or, on this machine, is
//! freed once its process is gone) and the next sync resumes; two workers
//! on one Postgres split five sandbox locations, one is SIGKILLed, and the
//! other finishes every location, the killed one's included.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ghl_store::{QueryLimits, Store, StoreUrl};
use serde_json::Value;

fn ghl(data: &Path, base_url: &str, host: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ghl"));
    c.args(["--output", "json", "--base-url", base_url])
        .args(args)
        .env("GHL_DATA_DIR", data)
        .env("GHL_CONFIG", data.join("config.toml"))
        .env("HOME", data)
        .env("XDG_DATA_HOME", data.join("xdg"))
        .env("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", ghl_sandbox::DEMO_LOCATION_ID)
        .env("GHL_WORKER_HOST", host)
        .env_remove("GHL_STORE_URL")
        .env_remove("GHL_BASE_URL");
    c
}

fn finish(child: Child) -> Output {
    child.wait_with_output().expect("wait for ghl")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn rows(store: &Store, sql: &str) -> Vec<Vec<ghl_store::Value>> {
    match store.query_readonly(sql, &[], QueryLimits::default()) {
        Ok(r) => r.rows,
        Err(_) => Vec::new(), // not created yet
    }
}

async fn sandbox(dir: &Path, latency_ms: u64) -> ghl_sandbox::Sandbox {
    let mut opts = ghl_sandbox::SandboxOptions::new(dir.join("sandbox.db"));
    opts.latency_ms = latency_ms;
    opts.rate_limit = ghl_sandbox::RateLimit {
        max: 100_000,
        interval: Duration::from_secs(10),
        daily: 10_000_000,
    };
    ghl_sandbox::start(opts).await.unwrap()
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < limit, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mirror_file(data: &Path) -> PathBuf {
    data.join(format!(
        "mirror-default-{}.db",
        ghl_sandbox::DEMO_LOCATION_ID
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_is_refused_and_a_killed_syncs_lease_expires() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sb = sandbox(dir.path(), 60).await;
    ghl_sandbox::bulk_seed_contacts(&dir.path().join("sandbox.db"), 6_000).unwrap();
    let url = sb.base_url();
    let sync = ["sync", "--groups", "contacts", "--lease-ttl", "3"];

    let first = ghl(&data, &url, "machine-a", &sync)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    let contacts = || {
        let p = mirror_file(&data);
        if !p.exists() {
            return 0;
        }
        let s = Store::open(&StoreUrl::Sqlite(p)).unwrap();
        rows(&s, "SELECT COUNT(*) FROM contacts")
            .first()
            .and_then(|r| r[0].as_i64())
            .unwrap_or(0)
    };
    wait_until(
        "the first sync's first pages",
        Duration::from_secs(60),
        || contacts() >= 500,
    );

    // A second sync of the same mirror, from another machine: refused,
    // saying who holds it and until when.
    let second = finish(
        ghl(&data, &url, "machine-b", &sync)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(!second.status.success(), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(
        err.contains(&format!("being synced by machine-a/{first_pid}/")) && err.contains("until"),
        "{err}"
    );

    // SIGKILL the first midway: its lease is not released; from another
    // machine it is waited out, then the sync resumes from the checkpoint.
    let mut first = first;
    assert!(first.try_wait().unwrap().is_none(), "ended before the kill");
    first.kill().unwrap();
    first.wait().unwrap();
    let partial = contacts();
    let total = 6_000 + {
        let s = Store::open(&StoreUrl::Sqlite(dir.path().join("sandbox.db"))).unwrap();
        rows(
            &s,
            &format!(
                "SELECT COUNT(*) FROM contacts WHERE location_id = '{}'",
                ghl_sandbox::DEMO_LOCATION_ID
            ),
        )[0][0]
            .as_i64()
            .unwrap()
            - 6_000
    };
    assert!(partial < total, "killed midway: {partial} of {total}");
    let refused = finish(
        ghl(&data, &url, "machine-b", &sync)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(
        !refused.status.success(),
        "the lease outlives its holder a while"
    );
    let waited = finish(
        ghl(&data, &url, "machine-b", &[&sync[..], &["--wait"]].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(waited.status.success(), "{}", stderr(&waited));
    let reports: Value = serde_json::from_slice(&waited.stdout).unwrap();
    assert_eq!(reports[0]["mode"], "resumed", "{reports}");
    assert_eq!(contacts(), total);

    // On the same machine, a killed holder's lease need not be waited out:
    // its process is gone, so the next sync takes over at once.
    let mut third = ghl(
        &data,
        &url,
        "machine-a",
        &["sync", "--full", "--groups", "contacts"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let leases = Store::open(&StoreUrl::Sqlite(data.join("sync.db"))).unwrap();
    let third_pid = third.id();
    wait_until("the third sync's lease", Duration::from_secs(30), || {
        rows(&leases, "SELECT holder FROM ghl_leases")
            .iter()
            .any(|r| {
                r[0].as_str()
                    .unwrap_or("")
                    .starts_with(&format!("machine-a/{third_pid}/"))
            })
    });
    third.kill().unwrap();
    third.wait().unwrap();
    let next = finish(
        ghl(&data, &url, "machine-a", &["sync", "--groups", "contacts"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert!(next.status.success(), "{}", stderr(&next));
    assert_eq!(contacts(), total);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_split_five_locations_and_one_finishes_the_killed_ones() {
    let pg = match ghl_store::testing::postgres_database().unwrap() {
        StoreUrl::Postgres(u) => u,
        other => panic!("not Postgres: {other:?}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let sb = sandbox(dir.path(), 80).await;
    let db = dir.path().join("sandbox.db");
    let subs = ghl_sandbox::add_agency_locations(&db, 4, 1_500).unwrap();
    let mut all: BTreeSet<String> = subs.iter().cloned().collect();
    all.insert(ghl_sandbox::DEMO_LOCATION_ID.to_string());
    let url = sb.base_url();
    let worker = |host: &str| {
        ghl(
            &data,
            &url,
            host,
            &[
                "--agency",
                "--company",
                ghl_sandbox::DEMO_COMPANY_ID,
                "sync",
                "--locations",
                "all",
                "--lease-ttl",
                "2",
            ],
        )
        .env("GHL_STORE_URL", &pg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
    };
    let mut a = worker("machine-a");
    let b = worker("machine-b");

    // Kill A while it holds a location's lease and B works too.
    let store = Store::open(&StoreUrl::Postgres(pg.clone())).unwrap();
    let held_by = |prefix: &str| -> Option<String> {
        rows(&store, "SELECT name, holder FROM ghl_leases")
            .iter()
            .find(|r| r[1].as_str().unwrap_or("").starts_with(prefix))
            .map(|r| r[0].as_str().unwrap_or("").to_string())
    };
    let mut killed_at = None;
    wait_until(
        "both workers holding a location",
        Duration::from_secs(60),
        || {
            if let (Some(la), Some(_)) = (held_by("machine-a/"), held_by("machine-b/")) {
                killed_at = Some(la);
                true
            } else {
                false
            }
        },
    );
    assert!(a.try_wait().unwrap().is_none(), "A ended before the kill");
    a.kill().unwrap();
    a.wait().unwrap();
    let killed_location = killed_at.unwrap().rsplit('/').next().unwrap().to_string();

    let b = finish(b);
    assert!(b.status.success(), "{}", stderr(&b));
    let outcomes: Value = serde_json::from_slice(&b.stdout).unwrap();
    let outcomes = outcomes.as_array().unwrap();
    let listed: Vec<&str> = outcomes
        .iter()
        .map(|o| o["location"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), all.len(), "each location once: {outcomes:?}");
    assert_eq!(
        listed
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        all
    );
    for o in outcomes {
        assert_eq!(o["outcome"], "synced", "{o}");
        let worker = o["worker"].as_str().unwrap();
        if o["this_worker"] == true {
            assert!(worker.starts_with("machine-b/"), "{o}");
        } else {
            // Finished by A before it was killed.
            assert!(worker.starts_with("machine-a/"), "{o}");
        }
    }
    let taken_over = outcomes
        .iter()
        .find(|o| o["location"] == killed_location.as_str())
        .unwrap();
    assert_eq!(taken_over["this_worker"], true, "{taken_over}");
    assert!(
        outcomes.iter().any(|o| o["this_worker"] == true) && outcomes.len() >= 2,
        "{outcomes:?}"
    );

    // Every location's mirror is whole, each in its own schema of the one
    // Postgres, read with `ghl sql` as a user would.
    for loc in &subs {
        let out = ghl(
            &data,
            &url,
            "machine-c",
            &[
                "--location",
                loc,
                "sql",
                "SELECT COUNT(*) AS n FROM contacts",
            ],
        )
        .env("GHL_STORE_URL", &pg)
        .output()
        .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v[0]["n"], 1_500, "{loc}: {v}");
    }
    sb.shutdown().await;
}

#[test]
fn bad_locations_are_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Nothing listens there: any request would fail differently.
    let url = "http://127.0.0.1:9";
    let out = ghl(&data, url, "m", &["sync", "--locations", "Loc1,bad id!"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a location id"),
        "{}",
        stderr(&out)
    );
    // Another location with a location token: refused, saying what is needed.
    let out = ghl(
        &data,
        url,
        "m",
        &["sync", "--locations", "SomeOtherLoc00000001"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("needs an agency token"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("127.0.0.1:9"), "{}", stderr(&out));
}
