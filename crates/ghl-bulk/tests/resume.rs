//! What `--resume` does with a row that was in flight when the process
//! died: an upsert is sent again (it lands on the same contact), a workflow
//! enrolment is not (it could start the workflow twice) and is reported.

use std::sync::Arc;

use ghl_bulk::{Action, JobOptions, Journal, NewRow, State};
use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, SandboxOptions};
use ghl_store::Backend;
use serde_json::json;

fn client(base: String) -> Client {
    let t = Transport::new(TransportConfig::new(base, Secret::new(DEFAULT_TOKEN))).unwrap();
    Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some(DEMO_LOCATION_ID.into()),
            company_id: None,
        },
    )
}

fn row(n: u64, payload: &str, state: State) -> NewRow {
    NewRow {
        row: n,
        line: n + 1,
        match_key: String::new(),
        payload: payload.into(),
        state,
        code: None,
        message: None,
    }
}

/// The journal on the backend a test names: a file, or a fresh database on
/// the test Postgres (`GHL_TEST_PG_URL`; without it the test fails so).
fn journal(backend: Backend, dir: &tempfile::TempDir) -> Journal {
    let url = match backend {
        Backend::Sqlite => dir.path().join("bulk.db").to_str().unwrap().to_string(),
        Backend::Postgres => match ghl_store::testing::postgres_database().unwrap() {
            ghl_store::StoreUrl::Postgres(u) => u,
            other => panic!("not a Postgres URL: {other:?}"),
        },
    };
    let j = Journal::open(Some(&url)).unwrap();
    assert_eq!(
        j.describe().starts_with("postgres"),
        backend == Backend::Postgres,
        "{}",
        j.describe()
    );
    j
}

/// Each journal test, once per backend.
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(ghl_store::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(ghl_store::Backend::Postgres).await
            }
        }
    };
}

on_both!(in_flight_rows_resend_only_when_repeatable);
async fn in_flight_rows_resend_only_when_repeatable(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let sb = ghl_sandbox::start(SandboxOptions::new(dir.path().join("sb.db")))
        .await
        .unwrap();
    let c = client(sb.base_url());
    let journal = journal(backend, &dir);

    // An import killed with row 1 in flight and row 2 acknowledged.
    let body = json!({"email": "inflight@example.com", "firstName": "In"}).to_string();
    let rows = [row(1, &body, State::Sending), row(2, "{}", State::Done)];
    let spec = serde_json::to_string(&Action::Upsert).unwrap();
    let id = journal
        .create("import", DEMO_LOCATION_ID, "t.csv", &spec, &rows)
        .unwrap();
    let job = ghl_bulk::find_resumable(&journal, "import", None).unwrap();
    assert_eq!(job.id, id);
    let s = ghl_bulk::run(&c, &journal, &job, &JobOptions::default())
        .await
        .unwrap();
    assert_eq!(s.count("created"), 1, "{s:?}");
    assert!(journal.job(&id).unwrap().unwrap().finished);
    assert!(ghl_bulk::find_resumable(&journal, "import", None).is_err());

    // An enrolment killed in flight: not sent again, reported uncertain.
    let action = Action::Enroll {
        workflow_id: "wf-none".into(),
    };
    let spec = serde_json::to_string(&action).unwrap();
    let rows = [row(1, "someContactId", State::Sending)];
    let id = journal
        .create("enroll", DEMO_LOCATION_ID, "l.txt", &spec, &rows)
        .unwrap();
    let job = journal.job(&id).unwrap().unwrap();
    let s = ghl_bulk::run(&c, &journal, &job, &JobOptions::default())
        .await
        .unwrap();
    assert_eq!(s.failed, 1);
    let r = &journal.rows(&id).unwrap()[0];
    // Had it been sent, the sandbox would have answered not_found.
    assert_eq!(r.code.as_deref(), Some("uncertain"), "{r:?}");
    sb.shutdown().await;
}
