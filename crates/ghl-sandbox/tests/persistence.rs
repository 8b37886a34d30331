//! State survives restarts; two sandboxes on one database lose no writes.

mod common;

use common::{LOC, env};
use ghl_sandbox::{DEFAULT_TOKEN, SandboxOptions, Seed};
use serde_json::json;

async fn count_contacts(base: &str, http: &reqwest::Client) -> u64 {
    let r: serde_json::Value = http
        .post(format!("{base}/contacts/search"))
        .bearer_auth(DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": LOC, "pageLimit": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["total"].as_u64().unwrap()
}

#[tokio::test]
async fn restart_keeps_state_and_reset_empties() {
    let e = env().await;
    let r = e
        .op(
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"locationId": LOC, "firstName": "Persisted", "email": "p@example.org"})),
        )
        .await;
    let id = r.body["contact"]["id"].as_str().unwrap().to_string();
    let db = e.db();
    let dir = e.dir;
    e.sb.shutdown().await;
    let sb = ghl_sandbox::start(SandboxOptions::new(db.clone()))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let r: serde_json::Value = http
        .get(format!("{}/contacts/{id}", sb.base_url()))
        .bearer_auth(DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["contact"]["firstName"], "Persisted");
    assert_eq!(
        count_contacts(&sb.base_url(), &http).await,
        201,
        "not reseeded on restart"
    );
    sb.shutdown().await;
    ghl_sandbox::reset(&db, Seed::Empty).unwrap();
    let sb = ghl_sandbox::start(SandboxOptions::new(db.clone()))
        .await
        .unwrap();
    assert_eq!(count_contacts(&sb.base_url(), &http).await, 0);
    sb.shutdown().await;
    ghl_sandbox::reset(&db, Seed::Demo).unwrap();
    let sb = ghl_sandbox::start(SandboxOptions::new(db)).await.unwrap();
    assert_eq!(count_contacts(&sb.base_url(), &http).await, 200);
    sb.shutdown().await;
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let mut o1 = SandboxOptions::new(db.clone());
    o1.rate_limit.max = 100_000;
    let o2 = o1.clone();
    let (a, b) = tokio::join!(ghl_sandbox::start(o1), ghl_sandbox::start(o2));
    let (a, b) = (a.unwrap(), b.unwrap());
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for (k, base) in [a.base_url(), b.base_url()].into_iter().enumerate() {
        for i in 0..200 {
            let http = http.clone();
            let base = base.clone();
            tasks.push(tokio::spawn(async move {
                http.post(format!("{base}/contacts/"))
                    .bearer_auth(DEFAULT_TOKEN)
                    .header("Version", "2021-07-28")
                    .json(&json!({"locationId": LOC, "firstName": format!("Conc{k}"), "email": format!("conc{k}-{i}@example.org")}))
                    .send().await.unwrap().status().as_u16()
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    assert_eq!(count_contacts(&a.base_url(), &http).await, 600);
    assert_eq!(count_contacts(&b.base_url(), &http).await, 600);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_database_from_before_the_search_index_is_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let sb = ghl_sandbox::start(SandboxOptions::new(db.clone()))
        .await
        .unwrap();
    sb.shutdown().await;
    // Make it look like a version-1 database: rows, but no index entries.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "INSERT INTO contacts_fts(contacts_fts) VALUES ('delete-all');
         DELETE FROM meta WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(conn);
    let sb = ghl_sandbox::start(SandboxOptions::new(db)).await.unwrap();
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/contacts/search", sb.base_url()))
        .bearer_auth(DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": LOC, "pageLimit": 10, "query": "Cooper"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["total"].as_u64().unwrap() >= 1, "{r}");
    sb.shutdown().await;
}

/// `ghl sandbox webhook-key` may run while `ghl sandbox serve` makes its
/// signing key: whoever comes first makes it, and everyone gets that one
/// (a second key would have the receiver refuse every delivery).
#[test]
fn processes_asking_for_the_signing_key_at_once_all_get_one_key() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sandbox.db");
        // The database exists, as it does once the server has opened it.
        drop(ghl_sandbox::webhook_summary(&db).unwrap());
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let askers: Vec<_> = (0..8)
            .map(|_| {
                let (db, start) = (db.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    ghl_sandbox::webhook_public_key(&db).unwrap()
                })
            })
            .collect();
        let keys: std::collections::HashSet<String> =
            askers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(keys.len(), 1, "round {round}: {} keys made", keys.len());
        assert_eq!(
            ghl_sandbox::webhook_public_key(&db).unwrap(),
            *keys.iter().next().unwrap()
        );
    }
}
