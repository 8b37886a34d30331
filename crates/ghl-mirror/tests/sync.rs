//! `ghl_mirror::sync` against the embedded sandbox: every table matches the
//! sandbox's own database; a second sync fetches only what changed; a full
//! sync drops what was deleted; an interrupted sync resumes without
//! duplicates or gaps.

#[macro_use]
mod support;

use std::collections::BTreeSet;

use ghl_core::CallArgs;
use ghl_mirror::sync::{Quiet, SyncOptions};
use serde_json::{Value, json};

fn ids(docs: &[Value], key: &str) -> BTreeSet<String> {
    docs.iter()
        .filter_map(|d| d.get(key).and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

fn all_time() -> SyncOptions {
    SyncOptions {
        since_ms: Some(0),
        ..SyncOptions::default()
    }
}

/// Start `opts`'s sync and stop it once `table` holds `at_least` rows:
/// dropping the future at an await is what a kill does between two
/// committed pages. Returns the rows written by then.
async fn stop_midway(env: &support::Env, opts: &SyncOptions, table: &str, at_least: i64) -> i64 {
    let client = env.client.clone();
    let mirror = env.mirror.clone();
    let o = opts.clone();
    let task = tokio::spawn(async move { ghl_mirror::sync(&client, &mirror, &o, &Quiet).await });
    let count = format!("SELECT COUNT(*) FROM {table}");
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if env.count(&count) >= at_least {
            task.abort();
            break;
        }
        assert!(
            !task.is_finished(),
            "the sync finished before it could be interrupted"
        );
    }
    let _ = task.await;
    env.count(&count)
}

/// Run `opts`'s sync again: it resumes, leaves `table` holding exactly the
/// `expected` ids, and goes on from its checkpoint (fewer requests than
/// the `pages` of a whole walk).
async fn resume_completes(
    env: &support::Env,
    opts: &SyncOptions,
    table: &str,
    expected: BTreeSet<String>,
    pages: usize,
) {
    let before = env.requests();
    let reports = ghl_mirror::sync(&env.client, &env.mirror, opts, &Quiet)
        .await
        .unwrap();
    assert!(reports[0].resumed);
    assert_eq!(
        env.count(&format!("SELECT COUNT(*) FROM {table}")) as usize,
        expected.len()
    );
    assert_eq!(
        set(env.mirror_strings(&format!("SELECT id FROM {table}"))),
        expected
    );
    assert!(
        env.requests() - before < pages,
        "{} requests to resume a {pages}-page list",
        env.requests() - before
    );
}

/// The checkpoint a stopped sync left for `group`.
fn checkpoint(env: &support::Env, group: &str) -> Value {
    let c = env.mirror_strings(&format!(
        "SELECT cursor FROM sync_state WHERE grp = '{group}'"
    ));
    serde_json::from_str(&c[0]).unwrap()
}

on_both!(a_full_sync_matches_the_sandbox_table_by_table);
async fn a_full_sync_matches_the_sandbox_table_by_table() {
    let env = support::start(0).await;
    let reports = ghl_mirror::sync(&env.client, &env.mirror, &all_time(), &Quiet)
        .await
        .unwrap();
    assert_eq!(reports.len(), ghl_mirror::groups::GROUPS.len());

    // Contacts: same ids, same fields, tags and custom field values.
    let contacts = env.sandbox_contacts();
    assert!(contacts.len() > 100, "the demo seed has about 200 contacts");
    assert_eq!(
        set(env.mirror_strings("SELECT id FROM contacts")),
        ids(&contacts, "id")
    );
    for ct in &contacts {
        let id = ct["id"].as_str().unwrap();
        let row = env.mirror_strings(&format!(
            "SELECT COALESCE(email, '') || '|' || COALESCE(phone, '') || '|' || COALESCE(source, '') FROM contacts WHERE id = '{id}'"
        ));
        let want = format!(
            "{}|{}|{}",
            ct["email"].as_str().unwrap_or(""),
            ct["phone"].as_str().unwrap_or(""),
            ct["source"].as_str().unwrap_or("")
        );
        assert_eq!(row, vec![want], "contact {id}");
        let tags = set(env.mirror_strings(&format!(
            "SELECT tag FROM contact_tags WHERE contact_id = '{id}'"
        )));
        let want_tags: BTreeSet<String> = ct["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        assert_eq!(tags, want_tags, "tags of {id}");
        let fields = env.count(&format!(
            "SELECT COUNT(*) FROM contact_field_values WHERE contact_id = '{id}'"
        ));
        assert_eq!(
            fields as usize,
            ct["customFields"].as_array().unwrap().len()
        );
    }

    // Document collections: the raw record is the sandbox's record.
    for (coll, table, key) in [
        ("opportunities", "opportunities", "id"),
        ("pipelines", "pipelines", "id"),
        ("users", "users", "id"),
        ("calendars", "calendars", "id"),
        ("customFields", "custom_fields", "id"),
        ("tags", "tags", "id"),
        ("invoices", "invoices", "_id"),
        ("products", "products", "_id"),
        ("appointments", "appointments", "id"),
        ("conversations", "conversations", "id"),
    ] {
        let docs = env.sandbox_docs(coll);
        assert!(!docs.is_empty(), "the demo seed has {coll}");
        assert_eq!(
            set(env.mirror_strings(&format!("SELECT id FROM {table}"))),
            ids(&docs, key),
            "{table}"
        );
        for d in &docs {
            let id = d[key].as_str().unwrap();
            let raw = env.mirror_strings(&format!("SELECT raw FROM {table} WHERE id = '{id}'"));
            let mut got: Value = serde_json::from_str(&raw[0]).unwrap();
            got.as_object_mut().unwrap().remove("searchAfter");
            let mut want = d.clone();
            if table == "conversations" {
                // The API names the conversation type the sandbox stores as a number.
                assert!(got["type"].is_string());
                got.as_object_mut().unwrap().remove("type");
                want.as_object_mut().unwrap().remove("type");
            }
            assert_eq!(got, want, "{table} {id}");
        }
    }
    // Every message of every conversation.
    let messages = env.sandbox_docs("messages");
    assert!(!messages.is_empty());
    assert_eq!(
        set(env.mirror_strings("SELECT id FROM messages")),
        ids(&messages, "id")
    );

    // Stages by pipeline, in order, with names.
    for p in env.sandbox_docs("pipelines") {
        let pid = p["id"].as_str().unwrap();
        let names = env.mirror_strings(&format!(
            "SELECT name FROM stages WHERE pipeline_id = '{pid}' ORDER BY position"
        ));
        let want: Vec<String> = p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, want);
    }
    // Every opportunity entered its stage at a known time.
    assert_eq!(
        env.count("SELECT COUNT(*) FROM opportunities WHERE stage_entered_ms IS NULL"),
        0
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM stage_history"),
        env.count("SELECT COUNT(*) FROM opportunities")
    );
    // The people view names pipelines, stages and owners.
    assert_eq!(
        env.count(
            "SELECT COUNT(*) FROM opportunities_view WHERE pipeline IS NULL OR stage IS NULL"
        ),
        0
    );
    env.sandbox.shutdown().await;
}

on_both!(a_second_sync_fetches_exactly_the_changed_contacts);
async fn a_second_sync_fetches_exactly_the_changed_contacts() {
    let env = support::start(0).await;
    let contacts_only = SyncOptions {
        groups: vec!["contacts".into()],
        ..all_time()
    };
    let first = ghl_mirror::sync(&env.client, &env.mirror, &contacts_only, &Quiet)
        .await
        .unwrap();
    assert!(!first[0].incremental);
    let total = env.count("SELECT COUNT(*) FROM contacts");
    assert_eq!(first[0].fetched as i64, total);

    let changed: Vec<String> = env.mirror_strings("SELECT id FROM contacts ORDER BY id LIMIT 7");
    for (i, id) in changed.iter().enumerate() {
        env.client
            .call(
                "contacts.update-contact",
                CallArgs::new()
                    .param("contactId", id.as_str())
                    .with_body(json!({"companyName": format!("Changed {i}")})),
            )
            .await
            .unwrap();
    }
    let before = env.requests();
    let second = ghl_mirror::sync(&env.client, &env.mirror, &contacts_only, &Quiet)
        .await
        .unwrap();
    assert!(second[0].incremental);
    assert_eq!(second[0].fetched, 7, "only the changed contacts");
    assert_eq!(
        env.requests() - before,
        1,
        "one page of changes, one request"
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM contacts WHERE company_name LIKE 'Changed %'"),
        7
    );
    assert_eq!(env.count("SELECT COUNT(*) FROM contacts"), total);
    env.sandbox.shutdown().await;
}

on_both!(deleted_records_leave_the_mirror);
async fn deleted_records_leave_the_mirror() {
    let env = support::start(0).await;
    ghl_mirror::sync(&env.client, &env.mirror, &all_time(), &Quiet)
        .await
        .unwrap();
    let gone_contacts = env.mirror_strings(
        "SELECT id FROM contacts WHERE id NOT IN (SELECT contact_id FROM opportunities WHERE contact_id IS NOT NULL) ORDER BY id LIMIT 3",
    );
    for id in &gone_contacts {
        env.client
            .call(
                "contacts.delete-contact",
                CallArgs::new().param("contactId", id.as_str()),
            )
            .await
            .unwrap();
    }
    let gone_opp = env.mirror_strings("SELECT id FROM opportunities ORDER BY id LIMIT 1");
    env.client
        .call(
            "opportunities.delete-opportunity",
            CallArgs::new().param("id", gone_opp[0].as_str()),
        )
        .await
        .unwrap();

    // An incremental sync cannot see deletions of contacts; opportunities
    // are read whole every time, so theirs show at once.
    ghl_mirror::sync(&env.client, &env.mirror, &all_time(), &Quiet)
        .await
        .unwrap();
    let in_list = |ids: &[String]| {
        ids.iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM contacts WHERE id IN ({})",
            in_list(&gone_contacts)
        )),
        3
    );
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM opportunities WHERE id = '{}'",
            gone_opp[0]
        )),
        0
    );
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM stage_history WHERE opportunity_id = '{}'",
            gone_opp[0]
        )),
        0
    );

    let full = SyncOptions {
        full: true,
        ..all_time()
    };
    let reports = ghl_mirror::sync(&env.client, &env.mirror, &full, &Quiet)
        .await
        .unwrap();
    let contacts = reports.iter().find(|r| r.group == "contacts").unwrap();
    assert_eq!(contacts.deleted, 3);
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM contacts WHERE id IN ({})",
            in_list(&gone_contacts)
        )),
        0
    );
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM contact_tags WHERE contact_id IN ({})",
            in_list(&gone_contacts)
        )),
        0
    );
    assert_eq!(
        set(env.mirror_strings("SELECT id FROM contacts")),
        ids(&env.sandbox_contacts(), "id")
    );
    env.sandbox.shutdown().await;
}

on_both!(an_interrupted_sync_resumes_without_duplicates_or_gaps);
async fn an_interrupted_sync_resumes_without_duplicates_or_gaps() {
    let env = support::start(3_000).await;
    let opts = SyncOptions {
        groups: vec!["contacts".into()],
        concurrency: 2,
        ..all_time()
    };
    let partial = stop_midway(&env, &opts, "contacts", 1_000).await;
    let total = env.sandbox_contacts().len() as i64;
    assert!(partial < total, "interrupted midway: {partial} of {total}");
    let pages = (total as usize).div_ceil(500);
    let expected = ids(&env.sandbox_contacts(), "id");
    resume_completes(&env, &opts, "contacts", expected, pages).await;
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_reconcile_schedule_finds_deletions_once_the_last_scan_is_old_enough() {
    let env = support::start(0).await;
    let every = std::time::Duration::from_secs(5);
    ghl_mirror::schedule::set_every(&env.mirror, Some(every.as_millis() as i64)).unwrap();
    let contacts_only = SyncOptions {
        groups: vec!["contacts".into()],
        ..all_time()
    };
    // With no scan yet, the first sync is one.
    let first = ghl_mirror::sync(&env.client, &env.mirror, &contacts_only, &Quiet)
        .await
        .unwrap();
    assert!(first[0].reconciled);
    let scanned_at = std::time::Instant::now();

    let gone = env.mirror_strings("SELECT id FROM contacts ORDER BY id LIMIT 2");
    for id in &gone {
        env.client
            .call(
                "contacts.delete-contact",
                CallArgs::new().param("contactId", id.as_str()),
            )
            .await
            .unwrap();
    }
    let still_there = || {
        env.count(&format!(
            "SELECT COUNT(*) FROM contacts WHERE id IN ('{}', '{}')",
            gone[0], gone[1]
        ))
    };

    // Before the interval: a normal sync reads changes only, and cannot
    // see the deletions.
    let early = ghl_mirror::sync(&env.client, &env.mirror, &contacts_only, &Quiet)
        .await
        .unwrap();
    assert!(
        scanned_at.elapsed() < every,
        "the early sync ran inside the interval"
    );
    assert!(early[0].incremental);
    assert!(!early[0].reconciled);
    assert_eq!(early[0].deleted, 0);
    assert_eq!(still_there(), 2);

    // Past it: the same normal sync scans the ids and drops them.
    tokio::time::sleep(
        every.saturating_sub(scanned_at.elapsed()) + std::time::Duration::from_millis(50),
    )
    .await;
    let due = ghl_mirror::sync(&env.client, &env.mirror, &contacts_only, &Quiet)
        .await
        .unwrap();
    assert!(due[0].reconciled);
    assert!(!due[0].incremental);
    assert_eq!(due[0].deleted, 2);
    assert_eq!(still_there(), 0);
    assert_eq!(
        set(env.mirror_strings("SELECT id FROM contacts")),
        ids(&env.sandbox_contacts(), "id")
    );

    // The scan reset the clock: the next sync reads changes again.
    let next = ghl_mirror::sync(&env.client, &env.mirror, &contacts_only, &Quiet)
        .await
        .unwrap();
    assert!(next[0].incremental);
    assert!(!next[0].reconciled);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn opportunities_pages_fetched_ahead_leave_no_duplicate_and_no_gap() {
    let env = support::start(0).await;
    let pipelines = env
        .client
        .call("opportunities.get-pipelines", CallArgs::new())
        .await
        .unwrap();
    let pipeline = &pipelines["pipelines"][0];
    let stage = pipeline["stages"][0]["id"].as_str().unwrap().to_string();
    let contacts = env.sandbox_contacts();
    // Enough deals for several pages of 100.
    let made = 250;
    for i in 0..made {
        env.client
            .call(
                "opportunities.create-opportunity",
                CallArgs::new().with_body(json!({
                    "name": format!("Deal {i}"), "pipelineId": pipeline["id"],
                    "pipelineStageId": stage, "status": "open",
                    "contactId": contacts[i % contacts.len()]["id"],
                })),
            )
            .await
            .unwrap();
    }
    let total = env.sandbox_docs("opportunities").len();
    assert!(total >= made);

    let before = env.requests();
    let opportunities_only = SyncOptions {
        groups: vec!["opportunities".into()],
        ..all_time()
    };
    let r = ghl_mirror::sync(&env.client, &env.mirror, &opportunities_only, &Quiet)
        .await
        .unwrap();
    assert_eq!(r[0].fetched as usize, total, "each deal fetched once");
    assert_eq!(
        env.requests() - before,
        total.div_ceil(100),
        "one request per page of 100"
    );
    assert_eq!(
        set(env.mirror_strings("SELECT id FROM opportunities")),
        ids(&env.sandbox_docs("opportunities"), "id")
    );
    env.sandbox.shutdown().await;
}

/// Past the 10,000-record page window the contacts are walked as date
/// ranges side by side; the ranges left are the checkpoint, so a run
/// stopped midway goes on from each range's cursor, and every contact is
/// mirrored once.
#[tokio::test]
async fn a_list_past_the_page_window_is_walked_in_ranges_and_resumes() {
    let env = support::start(12_000).await;
    let total = env.sandbox_contacts().len() as i64;
    assert!(total > 10_000);
    let opts = SyncOptions {
        groups: vec!["contacts".into()],
        concurrency: 2,
        ..all_time()
    };
    let partial = stop_midway(&env, &opts, "contacts", 4_000).await;
    assert!(partial < total, "interrupted midway: {partial} of {total}");
    let checkpoint = checkpoint(&env, "contacts");
    let lanes = checkpoint["lanes"]["left"].as_array().expect("lanes");
    assert!(
        lanes.len() > 1 && lanes.iter().all(|l| l["lane"] == "range"),
        "{checkpoint}"
    );
    let pages = (total as usize).div_ceil(500);
    let expected = ids(&env.sandbox_contacts(), "id");
    resume_completes(&env, &opts, "contacts", expected, pages).await;

    // A whole run: the pages the contacts fill, one probe, and at most one
    // short page more per range.
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = support::open_mirror(&fresh_dir);
    let before = env.requests();
    let r = ghl_mirror::sync(&env.client, &fresh, &opts, &Quiet)
        .await
        .unwrap();
    assert_eq!(r[0].fetched as i64, total, "each contact fetched once");
    let made = env.requests() - before;
    assert!(made <= pages + 1 + 4, "{made} requests for {pages} pages");
    env.sandbox.shutdown().await;
}

/// Dates far from even: a year of contacts, then thousands added within
/// minutes, some sharing one date. The ranges that end early leave their
/// place to pieces cut from the crowded one; no contact is fetched twice
/// or missed, ties on a cut's date included.
#[tokio::test]
async fn ranges_recut_over_crowded_dates_fetch_each_contact_once() {
    let env = support::start(10_000).await;
    let now = ghl_mirror::now_ms();
    for k in 0..8i64 {
        let at = ghl_mirror::iso(now - 30 * 60_000 + k * 7_000);
        // One batch of ties big enough to span pages.
        let n = if k == 3 { 1_200 } else { 400 };
        ghl_sandbox::bulk_seed_contacts_added_at(&env.sandbox_db(), n, &at).unwrap();
    }
    let total = env.sandbox_contacts().len();
    let opts = SyncOptions {
        groups: vec!["contacts".into()],
        concurrency: 2,
        ..all_time()
    };
    let before = env.requests();
    let r = ghl_mirror::sync(&env.client, &env.mirror, &opts, &Quiet)
        .await
        .unwrap();
    assert_eq!(r[0].fetched as usize, total, "each contact fetched once");
    assert_eq!(
        set(env.mirror_strings("SELECT id FROM contacts")),
        ids(&env.sandbox_contacts(), "id")
    );
    // The pages the contacts fill, one probe, and a short page at the end
    // of each range, first cut or recut.
    let pages = total.div_ceil(500);
    let made = env.requests() - before;
    assert!(made <= pages + 1 + 12, "{made} requests for {pages} pages");
    env.sandbox.shutdown().await;
}

/// Opportunities past the window (their search takes no date filter): the
/// numbered pages inside it and the `searchAfter` chain from its last page
/// are lanes walked side by side, checkpointed, resumed; each deal once.
#[tokio::test]
async fn opportunities_past_the_window_walk_in_lanes_and_resume() {
    let env = support::start(0).await;
    // 2,000 past the window: a chain of 20 pages.
    ghl_sandbox::bulk_seed_opportunities(&env.sandbox_db(), 12_000).unwrap();
    let total = env.sandbox_docs("opportunities").len() as i64;
    assert!(total > 10_000);
    let opts = SyncOptions {
        groups: vec!["opportunities".into()],
        ..all_time()
    };
    let partial = stop_midway(&env, &opts, "opportunities", 1_000).await;
    assert!(partial < total, "interrupted midway: {partial} of {total}");
    let checkpoint = checkpoint(&env, "opportunities");
    let lanes = checkpoint["lanes"]["left"].as_array().expect("lanes");
    assert!(
        lanes.iter().any(|l| l["lane"] == "keyset") && lanes.iter().any(|l| l["lane"] == "page"),
        "{checkpoint}"
    );
    let pages = (total as usize).div_ceil(100);
    let expected = ids(&env.sandbox_docs("opportunities"), "id");
    resume_completes(&env, &opts, "opportunities", expected, pages).await;
    env.sandbox.shutdown().await;
}

/// Deletes, part way through a sync, every contact the mirror already
/// holds: the ranges they were read from now state smaller totals.
struct DeleteWhatWasRead<'a> {
    env: &'a support::Env,
    pages: std::sync::atomic::AtomicUsize,
    deleted: std::sync::atomic::AtomicUsize,
}

impl ghl_mirror::sync::Progress for DeleteWhatWasRead<'_> {
    fn advance(&self, _records: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        if self.pages.fetch_add(1, SeqCst) + 1 != 10 {
            return;
        }
        tokio::task::block_in_place(|| {
            let read = self.env.mirror_strings("SELECT id FROM contacts");
            let handle = tokio::runtime::Handle::current();
            for id in read {
                handle
                    .block_on(self.env.client.call(
                        "contacts.delete-contact",
                        CallArgs::new().param("contactId", id.as_str()),
                    ))
                    .unwrap();
                self.deleted.fetch_add(1, SeqCst);
            }
        });
    }
}

/// Contacts deleted behind the ranges' cursors while a sync runs: each
/// range still ends on its pages, not on the smaller total it now states,
/// so every contact that stayed is mirrored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_deleted_behind_the_ranges_do_not_end_them_early() {
    let env = support::start(12_000).await;
    let opts = SyncOptions {
        groups: vec!["contacts".into()],
        concurrency: 2,
        ..all_time()
    };
    let progress = DeleteWhatWasRead {
        env: &env,
        pages: Default::default(),
        deleted: Default::default(),
    };
    ghl_mirror::sync(&env.client, &env.mirror, &opts, &progress)
        .await
        .unwrap();
    let deleted = progress.deleted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(deleted >= 1_000, "deleted {deleted} midway");
    let stayed = ids(&env.sandbox_contacts(), "id");
    let mirrored = set(env.mirror_strings("SELECT id FROM contacts"));
    let missing = stayed.difference(&mirrored).count();
    assert_eq!(missing, 0, "contacts that stayed are not mirrored");
    env.sandbox.shutdown().await;
}
