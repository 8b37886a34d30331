//! Rendering: JSON for machines, tables for people, JSON Lines and CSV for
//! pipelines; errors on stderr in the same spirit.

use std::io::{IsTerminal, Write};

use ghl_core::Error;
use serde_json::Value;

use crate::cli::OutputFormat;

/// The format in force: the flag, else table on a terminal, json otherwise.
pub fn format(flag: Option<OutputFormat>) -> OutputFormat {
    flag.unwrap_or_else(|| {
        if std::io::stdout().is_terminal() {
            OutputFormat::Table
        } else {
            OutputFormat::Json
        }
    })
}

/// Print a whole response body (one object).
pub fn body(fmt: OutputFormat, body: &Value) -> std::io::Result<()> {
    match fmt {
        OutputFormat::Json => json(body),
        OutputFormat::Jsonl => line(body),
        OutputFormat::Table | OutputFormat::Csv => {
            // A single resource wrapped in one key: `{contact: {...}}`.
            if let Value::Object(map) = body
                && map.len() == 1
                && let Some(inner @ Value::Object(_)) = map.values().next()
            {
                return match fmt {
                    OutputFormat::Csv => self::records(fmt, std::slice::from_ref(inner)),
                    _ => key_values(inner),
                };
            }
            let (records, key) = ghl_core::pager::records(body);
            // Only a top-level list is the answer; arrays deeper inside a
            // record (custom fields, stages) are details of that record.
            if !records.is_empty() && key.as_deref().is_none_or(|k| !k.contains('.')) {
                return self::records(fmt, &records);
            }
            match fmt {
                OutputFormat::Csv => self::records(fmt, std::slice::from_ref(body)),
                _ => key_values(body),
            }
        }
    }
}

/// Print a list of records.
pub fn records(fmt: OutputFormat, records: &[Value]) -> std::io::Result<()> {
    match fmt {
        OutputFormat::Json => json(&Value::Array(records.to_vec())),
        OutputFormat::Jsonl => {
            let out = std::io::stdout();
            let mut w = std::io::BufWriter::new(out.lock());
            for r in records {
                serde_json::to_writer(&mut w, r)?;
                w.write_all(b"\n")?;
            }
            w.flush()
        }
        OutputFormat::Csv => csv_out(records),
        OutputFormat::Table => table(records),
    }
}

/// Rows whose columns someone chose (SQL): a table shows all of them, in
/// their order, instead of the columns people usually look for.
pub fn chosen_columns(
    fmt: OutputFormat,
    columns: &[String],
    records: &[Value],
) -> std::io::Result<()> {
    match fmt {
        OutputFormat::Table => table_of(records, Some(columns)),
        _ => self::records(fmt, records),
    }
}

pub fn json(v: &Value) -> std::io::Result<()> {
    // Buffered: stdout alone writes a pretty document a line at a time.
    let out = std::io::stdout();
    let mut w = std::io::BufWriter::new(out.lock());
    serde_json::to_writer_pretty(&mut w, v)?;
    w.write_all(b"\n")?;
    w.flush()
}

fn line(v: &Value) -> std::io::Result<()> {
    let out = std::io::stdout();
    let mut w = std::io::BufWriter::new(out.lock());
    serde_json::to_writer(&mut w, v)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// Columns people look for first, in this order.
const PREFERRED: &[&str] = &[
    "id",
    "_id",
    "name",
    "contactName",
    "firstName",
    "lastName",
    "email",
    "phone",
    "title",
    "status",
    "type",
    "companyName",
    "monetaryValue",
    "pipelineStageId",
    "stage",
    "pipeline",
    "startTime",
    "endTime",
    "fieldKey",
    "dataType",
    "value",
    "total",
    "amount",
    "currency",
    "dateAdded",
    "tags",
];
const MAX_COLUMNS: usize = 7;
const MAX_CELL: usize = 40;

fn columns(records: &[Value]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for r in records.iter().take(50) {
        if let Value::Object(m) = r {
            for (k, v) in m {
                if !seen.contains(k) && (is_scalar(v) || k == "tags") {
                    seen.push(k.clone());
                }
            }
        }
    }
    // A full name makes its parts (and its duplicates) redundant.
    let has_name = seen.iter().any(|s| s == "name");
    seen.retain(|k| {
        let lowered = k.ends_with("LowerCase");
        let part_of_name =
            has_name && matches!(k.as_str(), "contactName" | "firstName" | "lastName");
        !lowered && !part_of_name
    });
    let mut cols: Vec<String> = PREFERRED
        .iter()
        .filter(|p| seen.iter().any(|s| s == *p))
        .map(|s| s.to_string())
        .collect();
    for s in &seen {
        if cols.len() >= MAX_COLUMNS {
            break;
        }
        if !cols.contains(s) {
            cols.push(s.clone());
        }
    }
    cols.truncate(MAX_COLUMNS);
    cols
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

fn clip(s: &str, n: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s
    }
}

fn table(records: &[Value]) -> std::io::Result<()> {
    table_of(records, None)
}

fn table_of(records: &[Value], chosen: Option<&[String]>) -> std::io::Result<()> {
    let out = std::io::stdout();
    let mut w = out.lock();
    if records.is_empty() {
        return writeln!(w, "(no records)");
    }
    if !records.iter().all(Value::is_object) {
        for r in records {
            writeln!(w, "{}", cell(Some(r)))?;
        }
        return Ok(());
    }
    let cols = match chosen {
        Some(c) => c.to_vec(),
        None => columns(records),
    };
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| clip(&cell(r.get(c)), MAX_CELL))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(c.len())
        })
        .collect();
    let render = |cells: &[String]| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let header: Vec<String> = cols.iter().map(|c| upper_words(c)).collect();
    writeln!(w, "{}", render(&header))?;
    for r in rows {
        writeln!(w, "{}", render(&r))?;
    }
    Ok(())
}

/// `firstName` -> `FIRST NAME`.
fn upper_words(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

fn key_values(v: &Value) -> std::io::Result<()> {
    let out = std::io::stdout();
    let mut w = out.lock();
    let Value::Object(map) = v else {
        return writeln!(w, "{}", cell(Some(v)));
    };
    let width = map.keys().map(|k| k.len()).max().unwrap_or(0);
    for (k, v) in map {
        let text = match v {
            Value::Object(_) | Value::Array(_) if !matches!(v, Value::Array(a) if a.iter().all(is_scalar)) => {
                clip(&v.to_string(), 100)
            }
            other => cell(Some(other)),
        };
        writeln!(w, "{k:<width$}  {text}")?;
    }
    Ok(())
}

fn csv_out(records: &[Value]) -> std::io::Result<()> {
    let mut cols: Vec<String> = Vec::new();
    for r in records {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let out = std::io::stdout();
    let mut w = csv::Writer::from_writer(out.lock());
    let io = |e: csv::Error| std::io::Error::other(e.to_string());
    w.write_record(&cols).map_err(io)?;
    for r in records {
        let row: Vec<String> = cols
            .iter()
            .map(|c| match r.get(c) {
                Some(v @ (Value::Object(_) | Value::Array(_))) => v.to_string(),
                v => cell(v),
            })
            .collect();
        w.write_record(&row).map_err(io)?;
    }
    w.flush()
}

/// Errors go to stderr: a JSON object under `--output json|jsonl`, else text.
pub fn error(fmt: OutputFormat, e: &Error) {
    let mut err = std::io::stderr().lock();
    if matches!(fmt, OutputFormat::Json | OutputFormat::Jsonl) {
        let _ = serde_json::to_writer(&mut err, &e.to_json());
        let _ = writeln!(err);
    } else {
        let _ = writeln!(err, "error: {}", e.message);
        if !e.scopes.is_empty() {
            let _ = writeln!(err, "  needs scope: {}", e.scopes.join(" or "));
        }
        if let Some(h) = &e.hint {
            let _ = writeln!(err, "  hint: {h}");
        }
    }
}

/// A note for people (truncation, totals) that never pollutes stdout.
pub fn note(fmt: OutputFormat, text: &str) {
    if fmt == OutputFormat::Table || std::io::stderr().is_terminal() {
        eprintln!("{text}");
    }
}

/// Ask on the terminal before a destructive or outbound operation.
pub fn ask_confirmation(op: &ghl_catalog::Operation, preview: &Value) -> bool {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} is {}:",
        op.name,
        ghl_core::policy::effect_word(op.effect)
    );
    let _ = writeln!(
        err,
        "  {} {}",
        preview.get("method").and_then(Value::as_str).unwrap_or(""),
        preview.get("url").and_then(Value::as_str).unwrap_or("")
    );
    if let Some(b) = preview.get("body").filter(|b| !b.is_null()) {
        let _ = writeln!(err, "  body: {}", clip(&b.to_string(), 300));
    }
    if let Some(tags) = preview.get("removesTags") {
        let _ = writeln!(err, "  removes the tags: {}", cell(Some(tags)));
    }
    let _ = write!(err, "Proceed? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
