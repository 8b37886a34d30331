//! `ghl-bulk`: bulk work at the rate ceiling — contact import, export, and
//! list-driven actions (tags, workflow enrolment) — journalled in the store
//! so a killed run resumes where it stopped and nothing is applied twice.
//!
//! Every request goes through [`ghl_core::Client`] (policy, per-location
//! rate limiter, retry rules); the journal lives in [`ghl_store`]. This
//! crate must never build an HTTP request itself, open a database file
//! itself, or mark a row done before the server acknowledged it.

pub mod action;
pub mod contact_row;
pub mod export;
pub mod import;
pub mod input;
pub mod journal;
pub mod list;
pub mod mapping;
pub mod normalize;
pub mod progress;
pub mod report;
pub mod runner;

use std::path::PathBuf;

use ghl_core::{Client, Error};

pub use action::Action;
pub use journal::{Job, Journal, NewRow, State};
pub use report::Summary;
pub use runner::RunOptions;

/// How a job runs and reports.
#[derive(Debug, Clone, Default)]
pub struct JobOptions {
    pub run: RunOptions,
    /// Draw a progress bar (only ever on a terminal's stderr).
    pub progress: bool,
    /// Where refused and failed rows go; nothing is written when none.
    pub failures: Option<PathBuf>,
}

fn store_err(e: ghl_store::Error) -> Error {
    Error::config(format!("the bulk journal failed: {e}"))
        .with_hint("check the disk, or point GHL_STORE_URL at a writable store")
}

/// Journal a new job (all rows in one transaction), then run it.
pub async fn start(
    client: &Client,
    journal: &Journal,
    action: &Action,
    location: &str,
    label: &str,
    rows: &[NewRow],
    opts: &JobOptions,
) -> Result<(Job, Summary), Error> {
    let spec = serde_json::to_string(action).map_err(|e| Error::validation(e.to_string()))?;
    let id = journal
        .create(action.kind(), location, label, &spec, rows)
        .map_err(store_err)?;
    let job = journal
        .job(&id)
        .map_err(store_err)?
        .ok_or_else(|| Error::config("the journal lost the job it just wrote"))?;
    let summary = run(client, journal, &job, opts).await?;
    Ok((job, summary))
}

/// The job `--resume` means: the one named, else the newest unfinished job
/// of this kind.
pub fn find_resumable(journal: &Journal, kind: &str, id: Option<&str>) -> Result<Job, Error> {
    let job = match id {
        Some(id) => journal.job(id).map_err(store_err)?,
        None => journal.latest_unfinished(kind).map_err(store_err)?,
    };
    let job = job.ok_or_else(|| {
        Error::new(
            ghl_core::ErrorCode::NotFound,
            format!(
                "no unfinished {kind} job to resume in {}",
                journal.describe()
            ),
        )
        .with_hint("start it again without --resume (upserts never duplicate a contact)")
    })?;
    if job.kind != kind {
        return Err(Error::validation(format!(
            "job {} is a {} job, not {kind}",
            job.id, job.kind
        )));
    }
    Ok(job)
}

/// Run what is left of a journalled job, then summarise it.
pub async fn run(
    client: &Client,
    journal: &Journal,
    job: &Job,
    opts: &JobOptions,
) -> Result<Summary, Error> {
    let action: Action = serde_json::from_str(&job.spec)
        .map_err(|e| Error::config(format!("job {} has an unreadable spec: {e}", job.id)))?;
    let before = Summary::from_journal(journal, &job.id).map_err(store_err)?;
    let bar = progress::bar(before.rows, action.kind(), opts.progress);
    let outcome = runner::run(client, journal, job, &action, &opts.run, &bar).await;
    bar.finish_and_clear();
    let report = outcome?;
    let mut summary = Summary::from_journal(journal, &job.id).map_err(store_err)?;
    summary.seconds = report.elapsed.as_secs_f64();
    summary.retryable = journal
        .rows(&job.id)
        .map_err(store_err)?
        .iter()
        .filter(|r| {
            r.state == State::Failed && r.code.as_deref().is_some_and(runner::retry_on_resume)
        })
        .count() as u64;
    if summary.pending == 0 && summary.retryable == 0 {
        journal.finish(&job.id).map_err(store_err)?;
    }
    if let Some(path) = &opts.failures
        && summary.refused + summary.failed > 0
    {
        report::write_failures(journal, &job.id, path).map_err(Error::validation)?;
        summary.failures_file = Some(path.display().to_string());
    }
    Ok(summary)
}
