//! Delivery claims shared by several receivers, on SQLite and on a real
//! Postgres (`GHL_TEST_PG_URL`, started by scripts/pg-test-server.sh; the
//! Postgres test fails without it): each event stored once, claimed by one
//! holder at a time, renewed while held, taken over once lapsed and then
//! marked as a possible redelivery.

use ghl_events::event::{NewEvent, State};
use ghl_events::holder;
use ghl_events::spool::{Spool, Stored};
use ghl_events::verify::Proof;

fn ev(id: &str) -> NewEvent {
    let body = format!(r#"{{"type":"NoteCreate","webhookId":"{id}","locationId":"l1"}}"#);
    NewEvent::from_body(body.as_bytes(), Proof::Ed25519).unwrap()
}

fn claims_are_shared_and_taken_over(spool: Spool) {
    // A batch larger than one INSERT statement, with duplicates inside it
    // and against what is stored.
    let mut batch: Vec<_> = (0..150)
        .map(|i| (ev(&format!("w{i}")), State::Pending))
        .collect();
    batch.push((ev("w3"), State::Pending));
    let got = spool.insert_batch(&batch).unwrap();
    assert_eq!(got.iter().filter(|s| **s == Stored::New).count(), 150);
    assert_eq!(got[150], Stored::Duplicate);
    let again = spool.insert_batch(&[(ev("w7"), State::Pending), (ev("x"), State::Pending)]);
    assert_eq!(again.unwrap(), [Stored::Duplicate, Stored::New]);

    // Two holders split the work; nothing is claimed twice.
    let a = spool.claim("host/1/a", 100, 60_000).unwrap();
    let b = spool.claim("host/2/b", 100, 60_000).unwrap();
    assert_eq!((a.len(), b.len()), (100, 51));
    assert!(a.iter().chain(&b).all(|e| !e.redelivery));
    let mut seqs: Vec<i64> = a.iter().chain(&b).map(|e| e.seq).collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 151);
    assert!(spool.claim("host/3/c", 100, 60_000).unwrap().is_empty());

    // b settles half; a's claims lapse (a died) and c takes them over,
    // flagged as possibly delivered already.
    let half: Vec<i64> = b.iter().take(25).map(|e| e.seq).collect();
    spool.delivered_many(&half, "host/2/b").unwrap();
    assert!(spool.renew("host/2/b", 60_000).unwrap() >= 26);
    spool.expire("host/1/a").unwrap();
    let mut holders = spool.holders().unwrap();
    holders.sort();
    assert_eq!(holders, ["host/1/a", "host/2/b"]);
    let c = spool.claim("host/3/c", 500, 60_000).unwrap();
    assert_eq!(c.len(), 100);
    assert!(c.iter().all(|e| e.redelivery));
    // a, back from the dead, can settle nothing of what it lost.
    spool.delivered_many(&[a[0].seq], "host/1/a").unwrap();
    assert_eq!(
        spool.get(&a[0].webhook_id).unwrap().unwrap().state,
        State::Pending
    );
    // b still holds its unsettled half: renewed, not taken.
    assert!(spool.claim("host/3/c", 500, 60_000).unwrap().len() <= 100);
    let c2: Vec<_> = spool
        .claim("host/4/d", 500, 60_000)
        .unwrap()
        .into_iter()
        .map(|e| e.webhook_id)
        .collect();
    assert!(c2.is_empty(), "claimed while held: {c2:?}");
}

#[test]
fn on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        ghl_store::Store::open(&ghl_store::StoreUrl::Sqlite(dir.path().join("e.db"))).unwrap();
    claims_are_shared_and_taken_over(Spool::open(store).unwrap());
}

#[test]
fn on_postgres() {
    let url = ghl_store::testing::postgres_database().unwrap_or_else(|e| panic!("{e}"));
    let store = ghl_store::Store::open(&url).unwrap();
    claims_are_shared_and_taken_over(Spool::open(store.clone()).unwrap());
    // The store's own I/O runtime may not be dropped in async code; this
    // test is sync, so dropping here is fine.
    drop(store);
}

#[test]
fn holder_names_are_distinct_and_dead_local_ones_are_recognised() {
    let me = holder::unique();
    let other = holder::unique();
    assert_ne!(me, other);
    assert!(me.starts_with(&format!("{}/{}/", holder::host(), std::process::id())));
    // Another live process of this host (our parent) is not dead.
    let parent = std::os::unix::process::parent_id();
    assert!(!holder::is_dead_here(
        &format!("{}/{parent}/abc", holder::host()),
        &me
    ));
    // Ourselves: not dead. An earlier process with our pid: dead.
    assert!(!holder::is_dead_here(&me, &me));
    assert!(holder::is_dead_here(&other, &me));
    // A pid that cannot exist here; another host; an odd name.
    assert!(holder::is_dead_here(
        &format!("{}/4294967295/x", holder::host()),
        &me
    ));
    assert!(!holder::is_dead_here("some-other-host/4294967295/x", &me));
    assert!(!holder::is_dead_here("receiver", &me));
}
