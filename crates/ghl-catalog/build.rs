//! Builds an index of the embedded catalogs at compile time: every
//! operation's name and where its JSON object lies in the file, sorted by
//! name. `find` then parses one operation's few hundred bytes on first use
//! instead of the whole megabyte at every start.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets the manifest dir"));
    let mut out = String::new();
    for (file, prefix) in [("catalog.json", "V2"), ("catalog-v3.json", "V3")] {
        let path = dir.join("generated").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let json = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut spans = operation_spans(&json);
        spans.sort_by(|a, b| a.name.cmp(&b.name));
        for pair in spans.windows(2) {
            assert!(
                pair[0].name != pair[1].name,
                "{file}: operation {} twice",
                pair[0].name
            );
        }
        writeln!(
            out,
            "pub(crate) const {prefix}_LEN: usize = {};",
            spans.len()
        )
        .unwrap();
        writeln!(
            out,
            "pub(crate) static {prefix}_INDEX: [Span; {prefix}_LEN] = ["
        )
        .unwrap();
        for op in &spans {
            writeln!(
                out,
                "    Span {{ name: {:?}, start: {}, end: {}, effect: Effect::{}, has_body: {}, paged: {} }},",
                op.name, op.start, op.end, op.effect, op.has_body, op.paged
            )
            .unwrap();
        }
        out.push_str("];\n");
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("catalog_index.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}

/// One operation's object in the file, and the two facts the command line
/// needs to declare its options without parsing it.
struct OpSpan {
    name: String,
    start: usize,
    end: usize,
    /// The `Effect` variant, e.g. `Read`.
    effect: String,
    has_body: bool,
    paged: bool,
}

/// Each object in the root's `operations` array. A small string-aware
/// scanner: the file is our own generator's output (absent fields are left
/// out, never `null`), and anything unexpected fails the build rather than
/// the program.
fn operation_spans(json: &str) -> Vec<OpSpan> {
    let b = json.as_bytes();
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut root_key = String::new();
    let mut in_ops = false;
    let mut op_start = 0usize;
    let mut op_name: Option<String> = None;
    let (mut has_body, mut paged) = (false, false);
    let mut effect: Option<String> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (s, end) = string_at(json, i);
                let colon = skip_ws(b, end);
                i = end;
                if b.get(colon) != Some(&b':') {
                    continue;
                }
                if depth == 1 {
                    root_key = s;
                } else if in_ops && depth == 3 && s == "body" {
                    has_body = true;
                } else if in_ops && depth == 3 && s == "pagination" {
                    paged = true;
                } else if in_ops && depth == 3 && s == "effect" {
                    let value = skip_ws(b, colon + 1);
                    assert_eq!(b[value], b'"', "an effect is a string");
                    let (word, end) = string_at(json, value);
                    let mut variant = word[..1].to_ascii_uppercase();
                    variant.push_str(&word[1..]);
                    effect = Some(variant);
                    i = end;
                } else if in_ops && depth == 3 && s == "name" && op_name.is_none() {
                    let value = skip_ws(b, colon + 1);
                    assert_eq!(b[value], b'"', "operation name is a string");
                    let (name, end) = string_at(json, value);
                    op_name = Some(name);
                    i = end;
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 2 && b[i] == b'[' && root_key == "operations" {
                    in_ops = true;
                } else if in_ops && depth == 3 && b[i] == b'{' {
                    op_start = i;
                    op_name = None;
                    (has_body, paged) = (false, false);
                    effect = None;
                }
            }
            b'}' | b']' => {
                if in_ops && depth == 3 && b[i] == b'}' {
                    let name = op_name.take().expect("every operation has a name");
                    spans.push(OpSpan {
                        name,
                        start: op_start,
                        end: i + 1,
                        effect: effect.take().expect("every operation has an effect"),
                        has_body,
                        paged,
                    });
                } else if in_ops && depth == 2 {
                    in_ops = false;
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    assert!(!spans.is_empty(), "no operations found in the catalog");
    spans
}

/// The string starting at the quote at `at` (escapes kept raw; names have
/// none) and the index just past its closing quote.
fn string_at(json: &str, at: usize) -> (String, usize) {
    let b = json.as_bytes();
    let mut i = at + 1;
    while b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (json[at + 1..i].to_string(), i + 1)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}
