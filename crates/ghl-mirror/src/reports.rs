//! Reports over the mirror, declared as SQL with named inputs. Each runs
//! read-only, like any `ghl sql` question.

use ghl_core::Error;
use ghl_store::{QueryLimits, QueryResult, Value};

use crate::Mirror;
use crate::names::{Directory, IdKind};

/// Inputs a report may take.
#[derive(Debug, Clone, Default)]
pub struct ReportArgs {
    /// A pipeline name or id (funnel).
    pub pipeline: Option<String>,
    /// Days in stage (stale).
    pub days: Option<i64>,
    /// Contacts added at or after this time (sources), epoch ms.
    pub since_ms: Option<i64>,
    /// Fields that make contacts duplicates (dedupe): email, phone.
    pub by: Vec<String>,
    pub now_ms: i64,
}

pub struct Report {
    pub name: &'static str,
    pub about: &'static str,
    sql: &'static str,
    params: fn(&Mirror, &ReportArgs) -> Result<Vec<Value>, Error>,
}

/// Every report, by name.
pub static REPORTS: &[Report] = &[
    Report {
        name: "funnel",
        about: "open deals and their value per stage, in pipeline order",
        sql: "SELECT p.name AS pipeline, s.name AS stage, COUNT(o.id) AS deals,
                COALESCE(SUM(o.monetary_value), 0) AS value
              FROM stages s JOIN pipelines p ON p.id = s.pipeline_id
              LEFT JOIN opportunities o ON o.stage_id = s.id AND o.status = 'open'
              WHERE ($1 = '' OR p.id = $1)
              GROUP BY p.id, p.name, s.id, s.name, s.position
              ORDER BY p.name, s.position, s.name",
        params: funnel_params,
    },
    Report {
        name: "stale",
        about: "open deals that have sat in their stage at least N days (default 30)",
        sql: "SELECT o.id, o.name, p.name AS pipeline, s.name AS stage, u.name AS owner,
                o.monetary_value AS value, ($1 - o.stage_entered_ms) / 86400000 AS days_in_stage
              FROM opportunities o
              LEFT JOIN pipelines p ON p.id = o.pipeline_id
              LEFT JOIN stages s ON s.id = o.stage_id
              LEFT JOIN users u ON u.id = o.assigned_to
              WHERE o.status = 'open' AND o.stage_entered_ms <= $1 - CAST($2 AS BIGINT) * 86400000
              ORDER BY o.stage_entered_ms, o.id",
        params: stale_params,
    },
    Report {
        name: "sources",
        about: "contacts per source since a date, with their deals and won value",
        sql: "SELECT s.source, s.contacts, COALESCE(d.deals, 0) AS deals,
                COALESCE(d.won_value, 0) AS won_value
              FROM (SELECT COALESCE(NULLIF(source, ''), '(none)') AS source, COUNT(*) AS contacts
                    FROM contacts WHERE date_added_ms >= $1 GROUP BY source) s
              LEFT JOIN (SELECT COALESCE(NULLIF(c.source, ''), '(none)') AS source,
                    SUM(od.deals) AS deals, SUM(od.won_value) AS won_value
                  FROM (SELECT contact_id, COUNT(*) AS deals,
                          SUM(CASE WHEN status = 'won' THEN monetary_value ELSE 0 END) AS won_value
                        FROM opportunities GROUP BY contact_id) od
                  JOIN contacts c ON c.id = od.contact_id
                  WHERE c.date_added_ms >= $1 GROUP BY c.source) d ON d.source = s.source
              ORDER BY s.contacts DESC, s.source",
        params: sources_params,
    },
    Report {
        name: "dedupe",
        about: "contacts sharing an email or phone: keep the oldest, merge the rest into it",
        // email_key and phone_key are normalised and indexed at write time.
        sql: "WITH members AS (
                SELECT 'email' AS field, c.email_key AS k, c.id, c.name, c.date_added_ms
                FROM contacts c JOIN (SELECT email_key FROM contacts WHERE $1 = 1 AND email_key IS NOT NULL
                    GROUP BY email_key HAVING COUNT(*) > 1) d ON c.email_key = d.email_key
                UNION ALL
                SELECT 'phone', c.phone_key, c.id, c.name, c.date_added_ms
                FROM contacts c JOIN (SELECT phone_key FROM contacts WHERE $2 = 1 AND phone_key IS NOT NULL
                    GROUP BY phone_key HAVING COUNT(*) > 1) d ON c.phone_key = d.phone_key),
              ranked AS (
                SELECT field, k, id, name, ROW_NUMBER() OVER (
                  PARTITION BY field, k ORDER BY date_added_ms, id) AS n FROM members)
              SELECT r.field, r.k AS value, keep.id AS keep, r.id AS merge, r.name AS merge_name
              FROM ranked r JOIN ranked keep ON keep.field = r.field AND keep.k = r.k AND keep.n = 1
              WHERE r.n > 1 ORDER BY r.field, r.k, r.n",
        params: dedupe_params,
    },
];

pub fn find(name: &str) -> Result<&'static Report, Error> {
    REPORTS.iter().find(|r| r.name == name).ok_or_else(|| {
        let names: Vec<&str> = REPORTS.iter().map(|r| r.name).collect();
        Error::validation(format!("no report named {name}"))
            .with_hint(format!("reports: {}", names.join(", ")))
    })
}

/// Run a report; at most `limits.max_rows` rows.
pub fn run(
    mirror: &Mirror,
    report: &Report,
    args: &ReportArgs,
    limits: QueryLimits,
) -> Result<QueryResult, Error> {
    let params = (report.params)(mirror, args)?;
    mirror.query_with(report.sql, &params, limits)
}

fn funnel_params(mirror: &Mirror, a: &ReportArgs) -> Result<Vec<Value>, Error> {
    let id = match a.pipeline.as_deref() {
        Some(p) => {
            Directory::from_mirror(mirror, IdKind::Pipeline)?.resolve(IdKind::Pipeline, p, None)?
        }
        None => String::new(),
    };
    Ok(vec![id.into()])
}

fn stale_params(_: &Mirror, a: &ReportArgs) -> Result<Vec<Value>, Error> {
    let days = a.days.unwrap_or(30);
    if !(0..=36_500).contains(&days) {
        return Err(Error::validation("--days takes 0 to 36500"));
    }
    Ok(vec![Value::Int(a.now_ms), Value::Int(days)])
}

fn sources_params(_: &Mirror, a: &ReportArgs) -> Result<Vec<Value>, Error> {
    Ok(vec![Value::Int(a.since_ms.unwrap_or(0))])
}

fn dedupe_params(_: &Mirror, a: &ReportArgs) -> Result<Vec<Value>, Error> {
    let by: Vec<String> = if a.by.is_empty() {
        vec!["email".into(), "phone".into()]
    } else {
        a.by.iter()
            .flat_map(|b| b.split(','))
            .map(|b| b.trim().to_ascii_lowercase())
            .filter(|b| !b.is_empty())
            .collect()
    };
    if let Some(bad) = by.iter().find(|b| *b != "email" && *b != "phone") {
        return Err(
            Error::validation(format!("cannot find duplicates by {bad}"))
                .with_hint("--by takes email, phone or both: --by email,phone"),
        );
    }
    let has = |f: &str| Value::Int(by.iter().any(|b| b == f) as i64);
    Ok(vec![has("email"), has("phone")])
}
