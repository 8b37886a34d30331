//! The end of a job: a summary for people and machines, and the failures
//! file (row number, code, message) a user fixes and feeds back in.

use std::path::Path;

use serde::Serialize;

use crate::journal::{Journal, State};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub job: String,
    pub rows: u64,
    /// Done rows by what happened: created, updated, tagged, enrolled...
    pub done: std::collections::BTreeMap<String, u64>,
    pub skipped: u64,
    pub refused: u64,
    pub failed: u64,
    /// Rows not yet sent (the run stopped early).
    pub pending: u64,
    /// Failed rows that `--resume` sends again (server, network, token...).
    pub retryable: u64,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures_file: Option<String>,
}

impl Summary {
    pub fn from_journal(journal: &Journal, job: &str) -> ghl_store::Result<Summary> {
        let counts = journal.counts(job)?;
        let mut s = Summary {
            job: job.to_string(),
            ..Summary::default()
        };
        for (k, n) in counts {
            s.rows += n;
            match k.as_str() {
                "skipped" => s.skipped += n,
                "refused" => s.refused += n,
                "failed" => s.failed += n,
                "pending" | "sending" => s.pending += n,
                "done" => *s.done.entry("done".into()).or_insert(0) += n,
                _ => *s.done.entry(k).or_insert(0) += n,
            }
        }
        Ok(s)
    }

    pub fn count(&self, outcome: &str) -> u64 {
        self.done.get(outcome).copied().unwrap_or(0)
    }

    /// One line for people.
    pub fn line(&self) -> String {
        let mut parts: Vec<String> = self.done.iter().map(|(k, n)| format!("{n} {k}")).collect();
        for (n, word) in [
            (self.skipped, "skipped (repeats in the file)"),
            (self.refused, "refused"),
            (self.failed, "failed"),
            (self.pending, "not sent yet"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        format!(
            "{} rows in {:.1} s: {}",
            self.rows,
            self.seconds,
            if parts.is_empty() {
                "nothing to do".into()
            } else {
                parts.join(", ")
            }
        )
    }
}

/// Write refused and failed rows to `path` as CSV: row, line, code,
/// message, and the email/phone or id the row was about. Returns how many.
pub fn write_failures(journal: &Journal, job: &str, path: &Path) -> Result<u64, String> {
    let rows = journal
        .rows(job)
        .map_err(|e| format!("cannot read the journal: {e}"))?;
    let bad: Vec<_> = rows
        .iter()
        .filter(|r| matches!(r.state, State::Refused | State::Failed))
        .collect();
    let mut w = csv::Writer::from_path(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let io = |e: csv::Error| format!("cannot write {}: {e}", path.display());
    w.write_record(["row", "line", "code", "message", "match"])
        .map_err(io)?;
    for r in &bad {
        w.write_record([
            r.row.to_string(),
            r.line.to_string(),
            r.code.clone().unwrap_or_default(),
            r.message.clone().unwrap_or_default(),
            r.match_key.clone(),
        ])
        .map_err(io)?;
    }
    w.flush()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(bad.len() as u64)
}
