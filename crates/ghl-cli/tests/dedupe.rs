//! `ghl contacts dedupe --apply --yes`: duplicates merged through the API
//! against the sandbox, as a user runs it. HighLevel has no merge
//! operation: tags, missing fields and notes move to the oldest contact and
//! the duplicate is deleted; a duplicate with a deal is left alone.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

const LOC: &str = ghl_sandbox::DEMO_LOCATION_ID;

fn run(data: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(["--output", "json", "--base-url", url])
        .args(args)
        .env("GHL_DATA_DIR", data)
        .env("GHL_CONFIG", data.join("config.toml"))
        .env("HOME", data)
        .env("XDG_DATA_HOME", data.join("xdg"))
        .env("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", LOC)
        .env_remove("GHL_STORE_URL")
        .env_remove("GHL_BASE_URL")
        .output()
        .expect("run ghl")
}

fn ok(data: &Path, url: &str, args: &[&str]) -> Value {
    let out = run(data, url, args);
    assert!(
        out.status.success(),
        "ghl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn call(data: &Path, url: &str, op: &str, params: &[&str], body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let mut args = vec!["api", "call", op, "--yes"];
    args.extend_from_slice(params);
    if let Some(b) = &body {
        args.extend(["--body", b.as_str()]);
    }
    ok(data, url, &args)
}

fn create_contact(data: &Path, url: &str, body: Value) -> String {
    let c = call(data, url, "contacts.create-contact", &[], Some(body));
    c["contact"]["id"].as_str().unwrap().to_string()
}

fn allow_duplicates(data: &Path, url: &str, allow: bool) {
    call(
        data,
        url,
        "locations.put-location",
        &[&format!("locationId={LOC}")],
        Some(json!({
            "companyId": "SbxDemoCompany0000001",
            "settings": {"allowDuplicateContact": allow},
        })),
    );
}

fn contact(data: &Path, url: &str, id: &str) -> Option<Value> {
    let out = run(
        data,
        url,
        &[
            "api",
            "call",
            "contacts.get-contact",
            &format!("contactId={id}"),
        ],
    );
    out.status.success().then(|| {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["contact"].clone()
    })
}

fn note_bodies(data: &Path, url: &str, id: &str) -> Vec<String> {
    let v = call(
        data,
        url,
        "contacts.get-all-notes",
        &[&format!("contactId={id}")],
        None,
    );
    let mut b: Vec<String> = v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_string())
        .collect();
    b.sort();
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_merge_into_the_oldest_and_a_duplicate_with_a_deal_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut opts = ghl_sandbox::SandboxOptions::new(dir.path().join("sandbox.db"));
    opts.rate_limit = ghl_sandbox::RateLimit {
        max: 100_000,
        interval: Duration::from_secs(10),
        daily: 10_000_000,
    };
    let sb = ghl_sandbox::start(opts).await.unwrap();
    let url = sb.base_url();
    let (d, u) = (data.as_path(), url.as_str());

    // Duplicates exist where the location allows them (HighLevel's "Allow
    // Duplicate Contact" setting) or came in before it was turned off.
    allow_duplicates(d, u, true);
    let a = create_contact(
        d,
        u,
        json!({"firstName": "Jane", "lastName": "Roe", "email": "jane.roe@example.com", "tags": ["vip"]}),
    );
    let b = create_contact(
        d,
        u,
        json!({"firstName": "Jane", "email": "Jane.Roe@example.com", "phone": "+13125550199",
               "city": "Chicago", "tags": ["webinar", "vip"]}),
    );
    let c = create_contact(
        d,
        u,
        json!({"firstName": "J", "lastName": "Roe", "email": "jr@example.com", "phone": "+13125550199"}),
    );
    allow_duplicates(d, u, false);
    for (id, text) in [(&a, "called her"), (&b, "likes tuesdays")] {
        call(
            d,
            u,
            "contacts.create-note",
            &[&format!("contactId={id}")],
            Some(json!({"body": text})),
        );
    }
    let pipes = call(
        d,
        u,
        "opportunities.get-pipelines",
        &[&format!("locationId={LOC}")],
        None,
    );
    let pipe = &pipes["pipelines"][0];
    call(
        d,
        u,
        "opportunities.create-opportunity",
        &[],
        Some(
            json!({"pipelineId": pipe["id"], "pipelineStageId": pipe["stages"][0]["id"],
                    "locationId": LOC, "name": "C's deal", "status": "open", "contactId": c}),
        ),
    );
    ok(d, u, &["sync"]);

    // The plan links all three (A and B by email, B and C by phone).
    let plan = ok(d, u, &["contacts", "dedupe"]);
    assert_eq!(plan.as_array().unwrap().len(), 2, "{plan}");

    // Without --yes nothing happens.
    let refused = run(d, u, &["contacts", "dedupe", "--apply"]);
    assert_eq!(refused.status.code(), Some(7));
    assert!(contact(d, u, &b).is_some());

    let done = ok(d, u, &["contacts", "dedupe", "--apply", "--yes"]);
    let rows = done.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{done}");
    let row = |id: &str| rows.iter().find(|r| r["merge"] == id).unwrap();
    assert_eq!(row(&b)["keep"], a.as_str());
    assert_eq!(row(&b)["outcome"], "merged", "{done}");
    assert_eq!(row(&c)["outcome"], "skipped", "{done}");
    assert!(
        row(&c)["detail"]
            .as_str()
            .unwrap()
            .contains("1 opportunity"),
        "{done}"
    );
    // C still holds the phone and the location refuses it twice: the merge
    // stands and says so.
    assert!(
        row(&b)["detail"]
            .as_str()
            .unwrap()
            .contains("phone not copied"),
        "{done}"
    );

    assert!(contact(d, u, &b).is_none(), "the duplicate is deleted");
    assert!(contact(d, u, &c).is_some(), "the one with a deal stays");
    let kept = contact(d, u, &a).unwrap();
    let mut tags: Vec<&str> = kept["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["vip", "webinar"]);
    assert_eq!(kept["city"], "Chicago");
    assert_eq!(kept["lastName"], "Roe", "a field the kept one had stays");
    assert_eq!(note_bodies(d, u, &a), ["called her", "likes tuesdays"]);

    // The mirror followed without a sync.
    let mirrored = ok(
        d,
        u,
        &[
            "sql",
            &format!("SELECT id FROM contacts WHERE id IN ('{a}', '{b}')"),
        ],
    );
    assert_eq!(mirrored, json!([{"id": a}]));

    // Again: nothing is merged twice and no note is copied twice.
    let again = ok(d, u, &["contacts", "dedupe", "--apply", "--yes"]);
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"] != "merged"),
        "{again}"
    );
    assert_eq!(note_bodies(d, u, &a), ["called her", "likes tuesdays"]);
}
