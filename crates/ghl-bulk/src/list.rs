//! Lists for bulk actions: one contact per line, an id or an email, or a
//! CSV whose header names an id or email column. Checked before sending.

use std::collections::HashMap;

use crate::input::{self, Format};
use crate::journal::{NewRow, State};
use crate::mapping::squash;
use crate::normalize;

/// The rows of a list, refused or skipped where they must be.
pub fn plan(bytes: &[u8]) -> Result<Vec<NewRow>, String> {
    let items = items(bytes)?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::with_capacity(items.len());
    for (row, line, raw) in items {
        let checked = match raw {
            Err(why) => Err(("malformed_row", why)),
            Ok(item) if item.contains('@') => normalize::email(&item).map_err(|m| ("bad_email", m)),
            Ok(item)
                if !item.is_empty()
                    && item.len() <= 64
                    && item
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Ok(item)
            }
            Ok(item) => Err((
                "bad_id",
                format!("{item:?} is neither a contact id nor an email address"),
            )),
        };
        rows.push(match checked {
            Ok(key) => match seen.get(&key) {
                Some(first) => NewRow {
                    row,
                    line,
                    match_key: key.clone(),
                    payload: key,
                    state: State::Skipped,
                    code: Some("duplicate_in_file".into()),
                    message: Some(format!("same contact as row {first}")),
                },
                None => {
                    seen.insert(key.clone(), row);
                    NewRow {
                        row,
                        line,
                        match_key: key.clone(),
                        payload: key,
                        state: State::Pending,
                        code: None,
                        message: None,
                    }
                }
            },
            Err((code, message)) => NewRow {
                row,
                line,
                match_key: String::new(),
                payload: String::new(),
                state: State::Refused,
                code: Some(code.into()),
                message: Some(message),
            },
        });
    }
    Ok(rows)
}

type Item = (u64, u64, Result<String, String>);

fn items(bytes: &[u8]) -> Result<Vec<Item>, String> {
    let text_start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_line = text_start.split(|b| *b == b'\n').next().unwrap_or_default();
    let header = String::from_utf8_lossy(first_line);
    let columns: Vec<String> = header.split(',').map(squash).collect();
    let wanted = columns
        .iter()
        .position(|c| matches!(c.as_str(), "id" | "contactid" | "email" | "emailaddress"));
    if columns.len() > 1 || wanted.is_some() {
        let Some(col) = wanted else {
            return Err("the list's header has no id, contact id or email column".into());
        };
        let parsed = input::parse(bytes, Format::Csv)?;
        let name = parsed.headers.get(col).cloned().unwrap_or_default();
        return Ok(parsed
            .records
            .into_iter()
            .map(|r| {
                let v = r.fields.map(|f| {
                    f.get(&name)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                });
                (r.row, r.line, v)
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut row = 0;
    for (i, line) in text_start.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        row += 1;
        let v = std::str::from_utf8(line)
            .map(|s| s.trim().to_string())
            .map_err(|_| "not UTF-8 text".to_string());
        out.push((row, i as u64 + 1, v));
    }
    if out.len() > input::MAX_RECORDS {
        return Err(format!(
            "more than {} items; split the list",
            input::MAX_RECORDS
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lists_and_csv_lists() {
        let rows = plan(b"abc123\nJane@X.com\n\njane@x.com\nnot an id!\n").unwrap();
        let states: Vec<State> = rows.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            vec![
                State::Pending,
                State::Pending,
                State::Skipped,
                State::Refused
            ]
        );
        assert_eq!(rows[1].payload, "jane@x.com");
        let rows = plan(b"Name,Email\nJ,j@x.com\nK,k@\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].code.as_deref(), Some("bad_email"));
        assert!(plan(b"Name,Phone\nJ,1\n").is_err());
    }
}
