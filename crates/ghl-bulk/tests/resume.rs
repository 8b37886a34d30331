//! What `--resume` does with a row that was in flight when the process
//! died: an upsert is sent again (it lands on the same contact), a workflow
//! enrolment is not (it could start the workflow twice) and is reported.

use std::sync::Arc;

use ghl_bulk::{Action, JobOptions, Journal, NewRow, State};
use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, SandboxOptions};
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

#[tokio::test]
async fn in_flight_rows_resend_only_when_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let sb = ghl_sandbox::start(SandboxOptions::new(dir.path().join("sb.db")))
        .await
        .unwrap();
    let c = client(sb.base_url());
    let journal = Journal::open(Some(dir.path().join("bulk.db").to_str().unwrap())).unwrap();

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
