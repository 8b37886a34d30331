//! A contact search past HighLevel's 10,000-record page window, against the
//! real sandbox: the walk is cut into date ranges followed side by side,
//! and still hands over every record exactly once: with thousands of
//! records on the very date a range is cut at, and with contacts added
//! or deleted while it runs. The request count is the pages the records
//! fill, plus one probe and one empty range.

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ghl_core::{CallArgs, Client, PageOpts};
use serde_json::{Value, json};

const OP: &str = "contacts.search-contacts-advanced";
const LOC: &str = ghl_sandbox::DEMO_LOCATION_ID;

/// Three import dates, the middle one exactly halfway: a walk newest
/// first cuts the two days below its cursor into four, so one cut falls
/// on the middle date.
const DATES: [&str; 3] = [
    "2025-03-01T00:00:00.000Z",
    "2025-03-02T00:00:00.000Z",
    "2025-03-03T00:00:00.000Z",
];
const PER_DATE: usize = 3_500;

/// The seeded database, made once and copied for each test.
fn template() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("template.db");
        ghl_sandbox::reset(&db, ghl_sandbox::Seed::Empty).unwrap();
        for d in DATES {
            ghl_sandbox::bulk_seed_contacts_added_at(&db, PER_DATE, d).unwrap();
        }
        (dir, db)
    });
    db
}

async fn sandbox(dir: &Path, latency_ms: u64) -> ghl_sandbox::Sandbox {
    let db = dir.join("sandbox.db");
    let from = template().to_path_buf();
    let to = db.clone();
    tokio::task::spawn_blocking(move || std::fs::copy(from, to).unwrap())
        .await
        .unwrap();
    let mut opts = ghl_sandbox::SandboxOptions::new(db);
    opts.seed = ghl_sandbox::Seed::Empty;
    opts.latency_ms = latency_ms;
    ghl_sandbox::start(opts).await.unwrap()
}

fn client(base: &str) -> Client {
    support::sandbox_client(base)
}

async fn requests(base: &str) -> u64 {
    let v: Value = reqwest::get(format!("{base}/_sandbox/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["requests"].as_u64().unwrap()
}

fn all() -> PageOpts {
    PageOpts {
        all: true,
        page_size: Some(100),
        ..PageOpts::default()
    }
}

/// Walk the search, returning the ids in the order they came.
async fn walk(c: &Client, body: Value) -> (Vec<String>, ghl_core::Summary) {
    walk_seeing(c, body, |_| {}).await
}

/// The same, showing each page to `see` as it arrives.
async fn walk_seeing(
    c: &Client,
    body: Value,
    mut see: impl FnMut(&ghl_core::Page),
) -> (Vec<String>, ghl_core::Summary) {
    let mut ids = Vec::new();
    let summary = c
        .walk(OP, CallArgs::new().with_body(body), all(), |page| {
            see(&page);
            ids.extend(
                page.records
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_string()),
            );
            Ok(())
        })
        .await
        .unwrap();
    (ids, summary)
}

fn assert_once(ids: &[String], expected: usize) {
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "{} records came back more than once",
        ids.len() - unique.len()
    );
    assert_eq!(ids.len(), expected, "records missing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_once_with_thousands_on_the_cut_date() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), 0).await;
    let base = sb.base_url();
    let c = client(&base);
    let before = requests(&base).await;
    let (ids, summary) = walk(&c, json!({"locationId": LOC})).await;
    let sent = requests(&base).await - before;
    assert_once(&ids, 3 * PER_DATE);
    assert_eq!(summary.total, Some(3 * PER_DATE as u64));
    // 105 pages of records; one probe for the oldest date; the first page
    // holds the newest 100, so its range has 34 more; the range cut just
    // below the newest date holds nothing and says so in one request. Each
    // range holding records ends on a full page, so an empty one follows:
    // only a page short of full says a range is over.
    assert_eq!(summary.pages, 1 + (34 + 1) + (35 + 1) + (35 + 1) + 1);
    assert_eq!(sent, summary.pages as u64 + 1, "pages plus one probe");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oldest_first_and_a_filter_still_give_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), 0).await;
    let c = client(&sb.base_url());
    let (ids, _) = walk(
        &c,
        json!({
            "locationId": LOC,
            "sort": [{"field": "dateAdded", "direction": "asc"}],
            // The caller's own filter stays, beside the walk's ranges.
            "filters": [{"field": "dateAdded", "operator": "range", "value": {"gte": DATES[0]}}],
        }),
    )
    .await;
    assert_once(&ids, 3 * PER_DATE);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_added_during_the_walk_are_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    // Slow enough answers that the additions land mid-walk.
    let sb = sandbox(dir.path(), 20).await;
    let c = client(&sb.base_url());
    let (before, _) = walk(&c, json!({"locationId": LOC})).await;
    let writer = {
        let c = c.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let body = json!({"locationId": LOC, "firstName": "Late", "email": format!("late{i}@example.com")});
                c.call("contacts.create-contact", CallArgs::new().with_body(body))
                    .await
                    .unwrap();
            }
        })
    };
    let (during, _) = walk(&c, json!({"locationId": LOC})).await;
    writer.await.unwrap();
    let unique: HashSet<&String> = during.iter().collect();
    assert_eq!(unique.len(), during.len(), "a record came back twice");
    let missing = before.iter().filter(|id| !unique.contains(id)).count();
    assert_eq!(missing, 0, "records that existed all along are missing");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_deleted_during_the_walk_do_not_cut_short_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), 0).await;
    let c = client(&sb.base_url());
    let (before, _) = walk(&c, json!({"locationId": LOC})).await;
    // As the first page arrives, its records are deleted: the ranges' stated
    // totals then fall short of what the walk has counted, and only the
    // pages themselves can say where each range ends.
    let mut deleted = HashSet::new();
    let deleter = c.with_policy(support::granted());
    let (ids, _) = walk_seeing(&c, json!({"locationId": LOC}), |page| {
        if page.index > 0 {
            return;
        }
        for r in &page.records {
            let id = r["id"].as_str().unwrap().to_string();
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(deleter.call(
                    "contacts.delete-contact",
                    CallArgs::new().param("contactId", id.as_str()),
                ))
            })
            .unwrap();
            deleted.insert(id);
        }
    })
    .await;
    assert_eq!(deleted.len(), 100);
    let got: HashSet<&String> = ids.iter().collect();
    assert_eq!(got.len(), ids.len(), "a record came back twice");
    let missing = before
        .iter()
        .filter(|id| !deleted.contains(*id) && !got.contains(id))
        .count();
    assert_eq!(missing, 0, "records that existed all along are missing");
    sb.shutdown().await;
}
