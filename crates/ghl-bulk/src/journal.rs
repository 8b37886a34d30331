//! The journal of a bulk job, in the store: every row with its state, so a
//! killed run resumes where it stopped. A row is `done` only once the
//! server acknowledged it; a row `sending` when the process died may or may
//! not have been applied, which the job's action decides how to treat.

use std::collections::BTreeMap;

use ghl_store::{Migration, Store, StoreUrl, Tx, Value};

pub const PLANE: &str = "bulk";

const SCHEMA: &str = "
CREATE TABLE bulk_jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    location_id TEXT NOT NULL,
    label TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE TABLE bulk_rows (
    job_id TEXT NOT NULL,
    row_no BIGINT NOT NULL,
    line BIGINT NOT NULL,
    match_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    code TEXT,
    message TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, row_no)
);
CREATE INDEX bulk_rows_state ON bulk_rows (job_id, state);
";

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: SCHEMA,
    postgres: SCHEMA,
}];

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    /// Handed to the server; no answer recorded yet.
    Sending,
    Done,
    /// A repeat of an earlier row of the same file.
    Skipped,
    /// Refused before sending (bad email, unknown custom field...).
    Refused,
    /// Sent and failed.
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Done => "done",
            State::Skipped => "skipped",
            State::Refused => "refused",
            State::Failed => "failed",
        }
    }
    fn parse(s: &str) -> State {
        match s {
            "sending" => State::Sending,
            "done" => State::Done,
            "skipped" => State::Skipped,
            "refused" => State::Refused,
            "failed" => State::Failed,
            _ => State::Pending,
        }
    }
}

/// A row as first written.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub row: u64,
    pub line: u64,
    pub match_key: String,
    pub payload: String,
    pub state: State,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// A row read back.
#[derive(Debug, Clone)]
pub struct JournalRow {
    pub row: u64,
    pub line: u64,
    pub match_key: String,
    pub payload: String,
    pub state: State,
    pub outcome: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub location_id: String,
    pub label: String,
    pub spec: String,
    pub finished: bool,
}

#[derive(Clone)]
pub struct Journal {
    store: Store,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn job_from(r: &ghl_store::Row) -> ghl_store::Result<Job> {
    Ok(Job {
        id: r.text("id")?,
        kind: r.text("kind")?,
        location_id: r.text("location_id")?,
        label: r.text("label")?,
        spec: r.text("spec")?,
        finished: r.get("finished_at").is_some_and(|v| !v.is_null()),
    })
}

impl Journal {
    /// The journal in the store `url` names (flag, `GHL_STORE_URL`, or
    /// `<data dir>/bulk.db`).
    pub fn open(url: Option<&str>) -> ghl_store::Result<Journal> {
        let store = Store::open(&StoreUrl::resolve(url, "bulk")?)?;
        Self::with_store(store)
    }

    pub fn with_store(store: Store) -> ghl_store::Result<Journal> {
        store.migrate(PLANE, MIGRATIONS)?;
        Ok(Journal { store })
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Write a new job and all its rows in one transaction: either the whole
    /// plan is on disk or none of it.
    pub fn create(
        &self,
        kind: &str,
        location_id: &str,
        label: &str,
        spec: &str,
        rows: &[NewRow],
    ) -> ghl_store::Result<String> {
        let id = new_id(kind);
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO bulk_jobs (id, kind, location_id, label, spec, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[id.as_str().into(), kind.into(), location_id.into(), label.into(), spec.into(), now().into()],
            )?;
            for r in rows {
                tx.execute(
                    "INSERT INTO bulk_rows (job_id, row_no, line, match_key, payload, state, code, message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        id.as_str().into(),
                        (r.row as i64).into(),
                        (r.line as i64).into(),
                        r.match_key.as_str().into(),
                        r.payload.as_str().into(),
                        r.state.as_str().into(),
                        r.code.clone().into(),
                        r.message.clone().into(),
                    ],
                )?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    pub fn job(&self, id: &str) -> ghl_store::Result<Option<Job>> {
        self.store.read(|tx| {
            tx.query_opt(
                "SELECT id, kind, location_id, label, spec, finished_at FROM bulk_jobs WHERE id = $1",
                &[id.into()],
            )?
            .as_ref()
            .map(job_from)
            .transpose()
        })
    }

    /// The newest job of `kind` that has not finished.
    pub fn latest_unfinished(&self, kind: &str) -> ghl_store::Result<Option<Job>> {
        self.store.read(|tx| {
            tx.query_opt(
                "SELECT id, kind, location_id, label, spec, finished_at FROM bulk_jobs
                 WHERE kind = $1 AND finished_at IS NULL ORDER BY created_at DESC, id DESC",
                &[kind.into()],
            )?
            .as_ref()
            .map(job_from)
            .transpose()
        })
    }

    pub fn rows(&self, job: &str) -> ghl_store::Result<Vec<JournalRow>> {
        self.store.read(|tx| {
            tx.query(
                "SELECT row_no, line, match_key, payload, state, outcome, code, message
                 FROM bulk_rows WHERE job_id = $1 ORDER BY row_no",
                &[job.into()],
            )?
            .iter()
            .map(|r| {
                Ok(JournalRow {
                    row: r.int("row_no")? as u64,
                    line: r.int("line")? as u64,
                    match_key: r.text("match_key")?,
                    payload: r.text("payload")?,
                    state: State::parse(&r.text("state")?),
                    outcome: r.opt_text("outcome"),
                    code: r.opt_text("code"),
                    message: r.opt_text("message"),
                })
            })
            .collect()
        })
    }

    /// Before the request goes out: from here on the row may be applied.
    pub async fn sending(&self, job: &str, row: u64) -> ghl_store::Result<()> {
        self.set(job, row, State::Sending, None, None, None).await
    }

    /// The server acknowledged the row.
    pub async fn done(&self, job: &str, row: u64, outcome: &str) -> ghl_store::Result<()> {
        self.set(job, row, State::Done, Some(outcome.to_string()), None, None)
            .await
    }

    pub async fn failed(
        &self,
        job: &str,
        row: u64,
        code: &str,
        message: &str,
    ) -> ghl_store::Result<()> {
        self.set(
            job,
            row,
            State::Failed,
            None,
            Some(code.to_string()),
            Some(message.to_string()),
        )
        .await
    }

    async fn set(
        &self,
        job: &str,
        row: u64,
        state: State,
        outcome: Option<String>,
        code: Option<String>,
        message: Option<String>,
    ) -> ghl_store::Result<()> {
        let job = job.to_string();
        self.store
            .write_async(move |tx: &mut dyn Tx| {
                tx.execute(
                    "UPDATE bulk_rows SET state = $1, outcome = $2, code = $3, message = $4,
                     attempts = attempts + (CASE WHEN $1 = 'sending' THEN 1 ELSE 0 END)
                     WHERE job_id = $5 AND row_no = $6",
                    &[
                        state.as_str().into(),
                        outcome.into(),
                        code.into(),
                        message.into(),
                        job.into(),
                        Value::Int(row as i64),
                    ],
                )
                .map(|_| ())
            })
            .await
    }

    pub fn finish(&self, job: &str) -> ghl_store::Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE bulk_jobs SET finished_at = $1 WHERE id = $2",
                &[now().into(), job.into()],
            )
            .map(|_| ())
        })
    }

    /// Rows by state, and done rows by outcome (`created`, `updated`...).
    pub fn counts(&self, job: &str) -> ghl_store::Result<BTreeMap<String, u64>> {
        self.store.read(|tx| {
            let mut out = BTreeMap::new();
            for r in tx.query(
                "SELECT state, outcome, COUNT(*) AS n FROM bulk_rows WHERE job_id = $1 GROUP BY state, outcome",
                &[job.into()],
            )? {
                let state = r.text("state")?;
                let key = match (state.as_str(), r.opt_text("outcome")) {
                    ("done", Some(o)) => o,
                    _ => state,
                };
                *out.entry(key).or_insert(0) += r.int("n")? as u64;
            }
            Ok(out)
        })
    }
}

fn new_id(kind: &str) -> String {
    let t = time::OffsetDateTime::now_utc();
    let nanos = t.unix_timestamp_nanos();
    format!(
        "{kind}-{:04}{:02}{:02}-{:02}{:02}{:02}-{:06x}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        ((nanos as u64) ^ (std::process::id() as u64).rotate_left(20)) & 0xFF_FFFF
    )
}
