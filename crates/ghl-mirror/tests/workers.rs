//! The worker loop on its own, on both backends: workers sharing a store
//! sync each location once among them; a location whose holder died (its
//! lease left to expire) is taken over; a held mirror is refused naming
//! its holder.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ghl_mirror::workers::{Claim, Coordinator, lease_name};
use ghl_store::{Backend, Store, StoreUrl};

fn store(backend: Backend, dir: &tempfile::TempDir) -> StoreUrl {
    match backend {
        Backend::Sqlite => StoreUrl::Sqlite(dir.path().join("sync.db")),
        Backend::Postgres => ghl_store::testing::postgres_database().unwrap(),
    }
}

fn coordinator(url: &StoreUrl, holder: &str, ttl_ms: u64) -> Coordinator {
    Coordinator::with_store(
        Store::open(url).unwrap(),
        holder.to_string(),
        Duration::from_millis(ttl_ms),
    )
    .unwrap()
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(ghl_store::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(ghl_store::Backend::Postgres).await
            }
        }
    };
}

on_both!(workers_sync_each_location_once_and_take_over_a_dead_ones);
async fn workers_sync_each_location_once_and_take_over_a_dead_ones(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = store(backend, &dir);
    let locations: Vec<String> = (1..=6).map(|i| format!("Loc{i}")).collect();

    // A worker that died holding Loc3: its lease is never renewed nor released.
    let dead = coordinator(&url, "gone/1/x", 400);
    let Claim::Held(stale) = dead.try_claim(&lease_name("p", "Loc3")).await.unwrap() else {
        panic!("a free lease is taken");
    };
    std::mem::forget(stale);

    let synced: Arc<Mutex<BTreeMap<String, Vec<String>>>> = Arc::default();
    let worker = |holder: &'static str| {
        let c = coordinator(&url, holder, 400);
        let synced = synced.clone();
        let locations = locations.clone();
        tokio::spawn(async move {
            let sync_one = |loc: String| {
                let synced = synced.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(60)).await;
                    synced
                        .lock()
                        .unwrap()
                        .entry(loc)
                        .or_default()
                        .push(holder.to_string());
                    Ok(1)
                }
            };
            c.run_locations("p", &locations, sync_one, |_| {})
                .await
                .unwrap()
        })
    };
    let (a, b) = (worker("a/1/1"), worker("b/2/2"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    let synced = synced.lock().unwrap().clone();
    assert_eq!(synced.len(), locations.len(), "{synced:?}");
    for (loc, by) in &synced {
        assert_eq!(by.len(), 1, "{loc} synced by {by:?}");
    }
    // Both reported every location, each with the one worker that did it.
    for outcomes in [&a, &b] {
        assert_eq!(outcomes.len(), locations.len());
        for o in outcomes.iter() {
            assert_eq!(o.outcome, "synced");
            assert_eq!(vec![o.holder.clone()], synced[&o.location], "{o:?}");
        }
    }
    // The dead worker's location went to a live one once its lease expired.
    assert!(synced["Loc3"][0] != "gone/1/x");
    // Both took part.
    assert!(a.iter().any(|o| o.mine) && b.iter().any(|o| o.mine));
}

on_both!(a_held_mirror_is_refused_with_its_holder_and_end);
async fn a_held_mirror_is_refused_with_its_holder_and_end(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = store(backend, &dir);
    let first = coordinator(&url, "host-a/10/aa", 30_000);
    let second = coordinator(&url, "host-b/20/bb", 30_000);
    let name = lease_name("p", "Loc1");
    let held = first
        .claim(&name, "the mirror of location Loc1", false)
        .await
        .unwrap();
    let e = second
        .claim(&name, "the mirror of location Loc1", false)
        .await
        .err()
        .unwrap();
    assert_eq!(e.code, ghl_core::ErrorCode::Conflict);
    assert!(
        e.message.contains("being synced by host-a/10/aa") && e.message.contains("until 20"),
        "{}",
        e.message
    );
    // Renewed while the work runs, free once released.
    let out = held
        .guard(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            7
        })
        .await
        .unwrap();
    assert_eq!(out, 7);
    held.release().await;
    assert!(matches!(
        second.try_claim(&name).await.unwrap(),
        Claim::Held(_)
    ));
}
