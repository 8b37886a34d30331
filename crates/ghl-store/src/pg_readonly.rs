//! What user SQL may be on Postgres before it is sent: one statement that
//! starts as a query. The READ ONLY transaction it then runs in refuses any
//! write the statement still attempts (a data-changing function, say); this
//! check makes the plain cases (`DELETE …`, `SET …`, two statements) a
//! refusal that says so instead of a syntax error from the wrapping.

use crate::error::{Error, Result};

const QUERY_STARTS: &[&str] = &["select", "with", "values", "table"];

pub(crate) fn check(sql: &str) -> Result<()> {
    let (first, rest) = crate::readonly::split_first_statement(sql);
    if !strip_comments(rest).trim().is_empty() {
        return Err(Error::ReadOnly(
            "one statement at a time: the text goes on after `;`".into(),
        ));
    }
    let head = strip_comments(first);
    let word: String = head
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    if QUERY_STARTS.contains(&word.as_str()) {
        Ok(())
    } else {
        Err(Error::ReadOnly(format!(
            "`{}` is not a query: only SELECT, WITH, VALUES and TABLE run here, and they only read",
            word.to_ascii_uppercase()
        )))
    }
}

/// The text without `--` and `/* */` comments (quotes are left alone: only
/// the start and the end of the text matter here).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let t = rest.trim_start();
        if let Some(r) = t.strip_prefix("--") {
            rest = r.split_once('\n').map(|(_, r)| r).unwrap_or("");
        } else if let Some(r) = t.strip_prefix("/*") {
            rest = r.split_once("*/").map(|(_, r)| r).unwrap_or("");
        } else {
            out.push_str(t);
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn queries_pass_and_the_rest_is_refused() {
        for ok in [
            "SELECT 1",
            "  -- note\n with x AS (SELECT 1) SELECT * FROM x",
            "(SELECT 1)",
            "/* c */ VALUES (1)",
            "SELECT ';' AS semicolon",
            "SELECT 1;",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "DELETE FROM contacts",
            "SET search_path = other",
            "SELECT 1; DELETE FROM contacts",
            "COPY contacts TO '/tmp/x'",
            "",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
