//! Reading the user's file: CSV (with or without a BOM, quoted newlines,
//! ragged rows) or JSON Lines. Outside data: every problem with a record is
//! that record's refusal, never a panic, and the whole input is bounded.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

/// The largest input read (a 10,000-row export is a few MiB).
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;
/// The most records one run takes; the daily API budget is 200,000.
pub const MAX_RECORDS: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// From the file name; `-` (standard input) and unknown endings need `--format`.
    pub fn from_path(path: &str) -> Option<Format> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") || lower.ends_with(".txt") {
            Some(Format::Csv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(Format::Jsonl)
        } else {
            None
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// One record of the input, numbered from 1 (the first after a CSV header).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub row: u64,
    /// The line where the record starts (CSV records may span lines).
    pub line: u64,
    /// Column (or key) to value; CSV values are strings.
    pub fields: Result<Map<String, Value>, String>,
}

/// The whole input: CSV headers (empty for JSONL) and the records.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub headers: Vec<String>,
    pub records: Vec<Record>,
}

/// Read a path, or standard input for `-`, up to [`MAX_INPUT_BYTES`].
pub fn read_source(path: &str) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let limited = |r: &mut dyn Read, buf: &mut Vec<u8>| {
        r.take(MAX_INPUT_BYTES + 1)
            .read_to_end(buf)
            .map_err(|e| format!("cannot read {path}: {e}"))
    };
    if path == "-" {
        limited(&mut std::io::stdin().lock(), &mut buf)?;
    } else {
        let p = Path::new(path);
        let mut f = std::fs::File::open(p).map_err(|e| format!("cannot open {path}: {e}"))?;
        limited(&mut f, &mut buf)?;
    }
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(format!(
            "{path} is larger than {} MiB; split it into smaller files",
            MAX_INPUT_BYTES / 1024 / 1024
        ));
    }
    Ok(buf)
}

/// Parse bytes in `format`. Errors only for the input as a whole (UTF-16,
/// no header, too many records); a bad record is refused on its own.
pub fn parse(bytes: &[u8], format: Format) -> Result<Input, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err("the file is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel)".into());
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let input = match format {
        Format::Csv => csv_records(bytes)?,
        Format::Jsonl => jsonl_records(bytes),
    };
    if input.records.len() > MAX_RECORDS {
        return Err(format!(
            "{} records is more than one run takes ({MAX_RECORDS}); split the file",
            input.records.len()
        ));
    }
    Ok(input)
}

fn csv_records(bytes: &[u8]) -> Result<Input, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut iter = reader.byte_records();
    let headers = match iter.next() {
        Some(Ok(h)) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect::<Vec<_>>(),
        Some(Err(e)) => return Err(format!("cannot read the header row: {e}")),
        None => return Err("the file is empty: expected a header row".into()),
    };
    if headers.iter().all(String::is_empty) {
        return Err("the first row is empty: expected a header row".into());
    }
    let mut records = Vec::new();
    let mut row = 0u64;
    // Lines counted from byte offsets: a quoted field may span lines.
    let mut lines = LineCounter::default();
    for rec in iter {
        row += 1;
        let record = match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| lines.line_at(bytes, p.byte()));
                if r.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    row -= 1;
                    continue;
                }
                Record {
                    row,
                    line,
                    fields: csv_fields(&headers, &r),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(bytes, p.byte()));
                Record {
                    row,
                    line,
                    fields: Err(format!("unreadable CSV: {e}")),
                }
            }
        };
        records.push(record);
        if records.len() > MAX_RECORDS {
            break;
        }
    }
    Ok(Input { headers, records })
}

#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: u64,
}

impl LineCounter {
    /// The 1-based line of byte `at`; offsets only grow.
    fn line_at(&mut self, bytes: &[u8], at: u64) -> u64 {
        let mut at = (at as usize).min(bytes.len());
        // After a CRLF the reader may place the record at its `\n`.
        while at < bytes.len() && (bytes[at] == b'\n' || bytes[at] == b'\r') {
            at += 1;
        }
        if at > self.offset {
            self.newlines += bytes[self.offset..at]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = at;
        }
        self.newlines + 1
    }
}

fn csv_fields(headers: &[String], r: &csv::ByteRecord) -> Result<Map<String, Value>, String> {
    if r.len() != headers.len() {
        // A trailing empty cell or two is what spreadsheets write; more or
        // fewer real values means the columns no longer line up.
        let extra_empty =
            r.len() > headers.len() && r.iter().skip(headers.len()).all(<[u8]>::is_empty);
        if !extra_empty {
            return Err(format!(
                "has {} fields where the header has {}; check for an unquoted comma",
                r.len(),
                headers.len()
            ));
        }
    }
    let mut map = Map::new();
    for (i, (h, f)) in headers.iter().zip(r.iter()).enumerate() {
        let text = std::str::from_utf8(f).map_err(|_| {
            format!(
                "column {} ({h}) is not UTF-8 text; save the file as UTF-8",
                i + 1
            )
        })?;
        if !h.is_empty() {
            map.insert(h.clone(), Value::String(text.trim().to_string()));
        }
    }
    Ok(map)
}

fn jsonl_records(bytes: &[u8]) -> Input {
    let mut records = Vec::new();
    let mut row = 0u64;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        row += 1;
        let fields = match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err("is not a JSON object".to_string()),
            Err(e) => Err(format!("is not valid JSON: {e}")),
        };
        records.push(Record {
            row,
            line: i as u64 + 1,
            fields,
        });
        if records.len() > MAX_RECORDS {
            break;
        }
    }
    Input {
        headers: Vec::new(),
        records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &[u8]) -> Input {
        parse(text, Format::Csv).unwrap()
    }

    #[test]
    fn bom_quoted_newlines_and_crlf() {
        let i = csv(b"\xEF\xBB\xBFEmail,Note\r\na@x.com,\"two\nlines\"\r\nb@x.com,plain\r\n");
        assert_eq!(i.headers, vec!["Email", "Note"]);
        assert_eq!(i.records.len(), 2);
        let first = i.records[0].fields.as_ref().unwrap();
        assert_eq!(first["Note"], "two\nlines");
        assert_eq!(i.records[1].row, 2);
        assert_eq!(i.records[1].line, 4);
    }

    #[test]
    fn ragged_and_non_utf8_rows_are_refused_alone() {
        let i = csv(
            b"Email,Name\na@x.com,A\nb@x.com\nc@x.com,C,extra\nd@x.com,\xE9t\xE9\ne@x.com,E,,\n\n",
        );
        let ok: Vec<bool> = i.records.iter().map(|r| r.fields.is_ok()).collect();
        assert_eq!(ok, vec![true, false, false, false, true]);
        assert!(i.records[3].fields.as_ref().unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn whole_file_problems() {
        assert!(parse(b"", Format::Csv).is_err());
        assert!(parse(b"\xFF\xFEE\x00", Format::Csv).is_err());
        let i = parse(
            b"{\"email\":\"a@x.com\"}\n[1]\nnot json\n\n{\"email\":\"b@x.com\"}\n",
            Format::Jsonl,
        )
        .unwrap();
        let ok: Vec<bool> = i.records.iter().map(|r| r.fields.is_ok()).collect();
        assert_eq!(ok, vec![true, false, false, true]);
        assert_eq!(i.records[3].line, 5);
    }

    #[test]
    fn unterminated_quote_is_a_row_not_a_panic() {
        let i = csv(b"Email,Name\na@x.com,\"open\nb@x.com,B\n");
        // The quote runs to the end of the file, as spreadsheets read it too:
        // one record whose Name holds the rest.
        assert_eq!(i.records.len(), 1);
        let f = i.records[0].fields.as_ref().unwrap();
        assert!(f["Name"].as_str().unwrap().starts_with("open\nb@x.com"));
    }
}
