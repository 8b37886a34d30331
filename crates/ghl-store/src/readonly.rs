//! Arbitrary SQL from a person or an assistant, guaranteed not to change
//! anything: a fresh connection opened read-only at the file level, an
//! authorizer that admits only reading (no ATTACH, PRAGMA, writes, schema
//! changes, transactions or extension loading), a single statement, and
//! bounds on rows and running time.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::value::Value;

/// Bounds on one read-only query.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Rows returned at most; the query stops reading after one more.
    pub max_rows: usize,
    /// Rows skipped first (a continuation of an earlier, capped answer).
    pub offset: usize,
    /// Wall time after which the query is interrupted.
    pub timeout: Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_rows: 1000,
            offset: 0,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a read-only query returned.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// More rows existed beyond `max_rows`.
    pub truncated: bool,
}

/// Functions that read or write outside the database, or load code.
const REFUSED_FUNCTIONS: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
];

fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => {
            Authorization::Allow
        }
        AuthAction::Function { function_name } => {
            if REFUSED_FUNCTIONS
                .iter()
                .any(|f| f.eq_ignore_ascii_case(function_name))
            {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        _ => Authorization::Deny,
    }
}

pub(crate) fn run(
    path: &Path,
    sql: &str,
    params: &[Value],
    limits: QueryLimits,
) -> Result<crate::QueryResult> {
    let sql = sql.trim();
    if sql.is_empty() {
        return Err(Error::ReadOnly("the query is empty".into()));
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Set before the authorizer, which refuses every PRAGMA after it.
    conn.pragma_update(None, "query_only", "ON")?;
    conn.authorizer(Some(authorize))?;
    let deadline = Instant::now() + limits.timeout;
    conn.progress_handler(10_000, Some(move || Instant::now() > deadline))?;

    let (stmt_sql, tail) = split_first_statement(sql);
    if !tail.trim().is_empty() {
        return Err(Error::ReadOnly(
            "one statement at a time: remove everything after the first `;`".into(),
        ));
    }
    let mut stmt = conn.prepare(stmt_sql).map_err(refusal)?;
    if !stmt.readonly() {
        return Err(Error::ReadOnly(
            "only statements that read are allowed".into(),
        ));
    }
    for (i, v) in params.iter().enumerate() {
        let name = format!("${}", i + 1);
        let idx = stmt
            .parameter_index(&name)?
            .ok_or_else(|| Error::Backend(format!("the query has no parameter {name}")))?;
        stmt.raw_bind_parameter(idx, v)?;
    }
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let width = columns.len();
    let mut rows_out = Vec::new();
    let mut truncated = false;
    let mut rows = stmt.raw_query();
    let mut seen = 0usize;
    while let Some(r) = rows.next().map_err(interrupted)? {
        seen += 1;
        if seen <= limits.offset {
            continue;
        }
        if rows_out.len() >= limits.max_rows {
            truncated = true;
            break;
        }
        let mut values = Vec::with_capacity(width);
        for i in 0..width {
            values.push(crate::sqlite::from_ref(r.get_ref(i)?));
        }
        rows_out.push(values);
    }
    Ok(QueryResult {
        columns,
        rows: rows_out,
        truncated,
    })
}

/// The first statement and whatever follows it. A `;` inside quotes or
/// comments does not end a statement.
pub(crate) fn split_first_statement(sql: &str) -> (&str, &str) {
    let b = sql.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => return (&sql[..i], &sql[i + 1..]),
            _ => {}
        }
        i += 1;
    }
    (sql, "")
}

fn refusal(e: rusqlite::Error) -> Error {
    let text = e.to_string();
    if text.contains("not authorized") {
        Error::ReadOnly(
            "only reading is allowed here (no INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, PRAGMA or load_extension)"
                .into(),
        )
    } else {
        Error::Backend(text)
    }
}

fn interrupted(e: rusqlite::Error) -> Error {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
        Error::Busy("the query ran past its time limit; narrow it (WHERE, LIMIT)".into())
    } else {
        e.into()
    }
}

#[cfg(test)]
mod tests {
    use super::split_first_statement;

    #[test]
    fn semicolons_in_strings_and_comments_do_not_split() {
        assert_eq!(split_first_statement("SELECT ';'").1, "");
        assert_eq!(split_first_statement("SELECT 1 -- ;\n").1, "");
        assert_eq!(
            split_first_statement("SELECT 1; DROP TABLE x").1,
            " DROP TABLE x"
        );
        assert_eq!(split_first_statement("SELECT /* ; */ 1").1, "");
    }
}
