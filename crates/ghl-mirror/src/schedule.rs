//! Deletions a sync of changes cannot see are found by an id scan: on
//! `--full`, and on a schedule the user sets (`ghl sync --reconcile-every
//! 24h`): the first sync after a group's last scan is that old scans it
//! again. The schedule and each group's last scan live in the mirror, so
//! every later `ghl sync` (a cron job, the MCP tool) follows them.

use ghl_core::Error;
use ghl_store::{Tx, Value};

use crate::{Mirror, store_error};

const EVERY_KEY: &str = "reconcile_every_ms";

/// The longest schedule accepted: a year.
const MAX_EVERY_MS: i64 = 366 * 86_400_000;

fn scanned_key(group: &str) -> String {
    format!("reconciled_ms.{group}")
}

/// `30m`, `24h`, `7d` (or `90s`) as milliseconds; `off` as `None`.
pub fn parse_every(s: &str) -> Result<Option<i64>, Error> {
    let s = s.trim().to_ascii_lowercase();
    if s == "off" || s == "never" {
        return Ok(None);
    }
    let bad = || {
        Error::validation(format!("--reconcile-every {s}: not a duration"))
            .with_hint("write a number and a unit: 30m, 24h or 7d (or `off`)")
    };
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    match n.checked_mul(unit_ms) {
        Some(ms) if ms > 0 && ms <= MAX_EVERY_MS => Ok(Some(ms)),
        _ => Err(Error::validation(format!(
            "--reconcile-every {s}: must be more than 0 and at most 366d"
        ))
        .with_hint("for example 24h; `off` removes the schedule")),
    }
}

/// The schedule set for this mirror, in milliseconds.
pub fn every(mirror: &Mirror) -> Result<Option<i64>, Error> {
    mirror
        .store()
        .read(|tx| get(tx, EVERY_KEY))
        .map_err(store_error)
}

/// Set (or with `None` remove) the schedule.
pub fn set_every(mirror: &Mirror, every_ms: Option<i64>) -> Result<(), Error> {
    mirror
        .store()
        .write(move |tx| match every_ms {
            Some(ms) => put(tx, EVERY_KEY, ms),
            None => tx
                .execute(
                    "DELETE FROM sync_settings WHERE key = $1",
                    &[EVERY_KEY.into()],
                )
                .map(|_| ()),
        })
        .map_err(store_error)
}

/// When `group` last completed an id scan.
pub fn last_scan(mirror: &Mirror, group: &str) -> Result<Option<i64>, Error> {
    let key = scanned_key(group);
    mirror
        .store()
        .read(move |tx| get(tx, &key))
        .map_err(store_error)
}

/// Record a completed id scan of `group`, inside the transaction that
/// applied its deletions.
pub(crate) fn record_scan(tx: &mut dyn Tx, group: &str, at_ms: i64) -> ghl_store::Result<()> {
    put(tx, &scanned_key(group), at_ms)
}

/// Whether a scheduled id scan is due: a schedule is set and the last scan
/// is older than it (or there was none).
pub fn due(every_ms: Option<i64>, last_ms: Option<i64>, now_ms: i64) -> bool {
    every_ms.is_some_and(|every| last_ms.is_none_or(|last| now_ms - last >= every))
}

fn get(tx: &mut dyn Tx, key: &str) -> ghl_store::Result<Option<i64>> {
    Ok(tx
        .query_opt(
            "SELECT value FROM sync_settings WHERE key = $1",
            &[key.into()],
        )?
        .and_then(|r| r.opt_text("value"))
        .and_then(|v| v.parse().ok()))
}

fn put(tx: &mut dyn Tx, key: &str, value: i64) -> ghl_store::Result<()> {
    tx.execute(
        "INSERT INTO sync_settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[key.into(), Value::Text(value.to_string())],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_their_unit() {
        assert_eq!(parse_every("24h").unwrap(), Some(86_400_000));
        assert_eq!(parse_every("30m").unwrap(), Some(1_800_000));
        assert_eq!(parse_every("7d").unwrap(), Some(7 * 86_400_000));
        assert_eq!(parse_every("off").unwrap(), None);
        for bad in [
            "",
            "24",
            "h",
            "0h",
            "-1h",
            "2y",
            "400d",
            "99999999999999999999d",
        ] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_scan_is_due_only_past_the_schedule() {
        assert!(!due(None, None, 1_000));
        assert!(due(Some(100), None, 1_000));
        assert!(!due(Some(100), Some(950), 1_000));
        assert!(due(Some(100), Some(900), 1_000));
    }
}
