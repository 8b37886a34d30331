//! Runs a journalled job: every row still to do, several at once, each
//! through the client (whose per-location limiter spaces them to the rate
//! ceiling), each result written to the journal before it counts.

use std::time::{Duration, Instant};

use futures::StreamExt;
use ghl_core::{Client, Error, ErrorCode};
use indicatif::ProgressBar;

use crate::action::Action;
use crate::journal::{Job, Journal, State};

/// Codes worth another try on a later run (`--resume`): the server or the
/// network failed, or something about the whole job (token, scope, policy)
/// that the user can fix before resuming.
pub fn retry_on_resume(code: &str) -> bool {
    matches!(
        code,
        "server"
            | "network"
            | "timeout"
            | "rate_limited"
            | "invalid_token"
            | "missing_scope"
            | "location_forbidden"
            | "policy"
            | "config"
            | "confirmation_required"
    )
}

/// Failures that every other row would meet too: stop rather than send
/// thousands of requests that cannot succeed.
fn stops_the_job(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::InvalidToken
            | ErrorCode::MissingScope
            | ErrorCode::LocationForbidden
            | ErrorCode::Policy
            | ErrorCode::Config
            | ErrorCode::ConfirmationRequired
    )
}

/// Tries of one repeatable row inside a run, beyond the client's own
/// retries (which never resend a POST like add-tags after a 5xx).
const ROW_TRIES: u32 = 3;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Rows in flight at once. The limiter, not this, sets the pace; but
    /// each window opens with a burst of 100 slots, and the sooner they are
    /// used the sooner the next window opens, so a row of two requests at
    /// 150 ms wants a dozen or more in flight.
    pub concurrency: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { concurrency: 16 }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub sent: u64,
    pub elapsed: Duration,
    /// Rows whose earlier send may or may not have been applied and that
    /// this run did not resend (only for actions that are not repeatable).
    pub uncertain: u64,
}

fn store_err(e: ghl_store::Error) -> Error {
    Error::config(format!("the bulk journal failed: {e}"))
        .with_hint("check the disk and GHL_STORE_URL; re-run with --resume once fixed")
}

/// Run what is left of `job`.
pub async fn run(
    client: &Client,
    journal: &Journal,
    job: &Job,
    action: &Action,
    opts: &RunOptions,
    progress: &ProgressBar,
) -> Result<RunReport, Error> {
    let started = Instant::now();
    let rows = journal.rows(&job.id).map_err(store_err)?;
    let mut report = RunReport::default();
    let mut todo = Vec::new();
    for r in rows {
        match r.state {
            State::Pending => todo.push(r),
            State::Sending if action.repeatable() => todo.push(r),
            State::Sending => {
                journal
                    .failed(
                        &job.id,
                        r.row,
                        "uncertain",
                        "was being sent when an earlier run stopped; it may have been applied, so it is not sent again: check this contact",
                    )
                    .await
                    .map_err(store_err)?;
                report.uncertain += 1;
            }
            State::Failed if r.code.as_deref().is_some_and(retry_on_resume) => todo.push(r),
            _ => {}
        }
    }
    let total = progress.length().unwrap_or(0);
    progress.set_position(total.saturating_sub(todo.len() as u64));

    let results = futures::stream::iter(todo.into_iter().map(|r| {
        let client = client.clone();
        let journal = journal.clone();
        let job_id = job.id.clone();
        let location = job.location_id.clone();
        let action = action.clone();
        async move {
            if !action.repeatable() {
                journal.sending(&job_id, r.row).await.map_err(store_err)?;
            }
            let mut tries = 0;
            let outcome = loop {
                tries += 1;
                match action.apply(&client, &location, &r.payload).await {
                    Err(e)
                        if action.repeatable()
                            && tries < ROW_TRIES
                            && e.is_transient()
                            && e.code != ErrorCode::RateLimited =>
                    {
                        tokio::time::sleep(Duration::from_millis(250 * u64::from(tries))).await;
                    }
                    other => break other,
                }
            };
            match outcome {
                Ok(word) => journal.done(&job_id, r.row, &word).await.map_err(store_err),
                Err(e) => {
                    let msg = match &e.hint {
                        Some(h) => format!("{} ({h})", e.message),
                        None => e.message.clone(),
                    };
                    journal
                        .failed(&job_id, r.row, e.code.as_str(), &msg)
                        .await
                        .map_err(store_err)?;
                    if stops_the_job(e.code) {
                        return Err(
                            e.with_hint("fix this, then `--resume` continues with the rows left")
                        );
                    }
                    Ok(())
                }
            }
        }
    }))
    .buffer_unordered(opts.concurrency.max(1));
    futures::pin_mut!(results);
    while let Some(r) = results.next().await {
        r?;
        report.sent += 1;
        progress.inc(1);
    }
    report.elapsed = started.elapsed();
    Ok(report)
}
