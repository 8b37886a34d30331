//! Finds the spec's errors a program can find: every example that fails the
//! schema it illustrates, and every required request field that no example
//! shows. Each finding is a candidate for `crates/ghl-catalog/errata.toml`
//! (`cargo xtask spec-scan` lists them; `cargo xtask catalog` counts them).

use std::collections::HashSet;

use serde_json::Value;

use crate::catalog_gen::SpecFile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Request,
    Response,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub side: Side,
    /// `apps/x.json METHOD /path ...` or `apps/x.json #/components/...`.
    pub place: String,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub failing_examples: Vec<Finding>,
    pub unshown_required: Vec<Finding>,
}

impl Report {
    pub fn counts(&self) -> String {
        let req = |l: &[Finding]| l.iter().filter(|f| f.side == Side::Request).count();
        format!(
            "spec scan: {} examples fail their own schema ({} in requests, {} in responses); {} required request fields no example shows",
            self.failing_examples.len(),
            req(&self.failing_examples),
            self.failing_examples.len() - req(&self.failing_examples),
            self.unshown_required.len()
        )
    }

    pub fn listing(&self) -> String {
        let mut out = String::new();
        for (title, list) in [
            ("examples failing their own schema", &self.failing_examples),
            (
                "required request fields no example shows",
                &self.unshown_required,
            ),
        ] {
            out.push_str(&format!("## {title}: {}\n", list.len()));
            for f in list {
                let side = match f.side {
                    Side::Request => "request",
                    Side::Response => "response",
                };
                out.push_str(&format!("{side}\t{}\t{}\n", f.place, f.what));
            }
        }
        out.push_str(&self.counts());
        out.push('\n');
        out
    }
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const MAX_DEPTH: usize = 24;

pub fn scan(files: &[SpecFile]) -> Report {
    let mut report = Report::default();
    for f in files {
        let mut w = Walker {
            file: f,
            seen: HashSet::new(),
            report: &mut report,
        };
        w.file_ops();
    }
    report
}

struct Walker<'a> {
    file: &'a SpecFile,
    seen: HashSet<(String, Side)>,
    report: &'a mut Report,
}

impl<'a> Walker<'a> {
    /// Follow `$ref`s; returns the schema and the last ref followed.
    fn resolve(&self, mut v: &'a Value) -> (&'a Value, Option<String>) {
        let mut key = None;
        for _ in 0..16 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let (doc, pointer) = match r.split_once('#') {
                Some(("", p)) => (&self.file.doc, p),
                Some((_, p)) => (&self.file.common, p),
                None => break,
            };
            // Refs the spec leaves dangling locally live in the common file.
            match doc
                .pointer(pointer)
                .or_else(|| self.file.common.pointer(pointer))
            {
                Some(next) => {
                    key = Some(format!("#{pointer}"));
                    v = next;
                }
                None => break,
            }
        }
        (v, key)
    }

    fn fail(&mut self, side: Side, place: &str, what: String) {
        self.report.failing_examples.push(Finding {
            side,
            place: format!("{} {place}", self.file.rel),
            what,
        });
    }

    fn file_ops(&mut self) {
        let doc = &self.file.doc;
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            return;
        };
        for (path, item) in paths {
            for m in METHODS {
                let Some(op) = item.get(m) else { continue };
                let at = format!("{} {path}", m.to_ascii_uppercase());
                for p in op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    self.parameter(p, &at);
                }
                if let Some(rb) = op.get("requestBody") {
                    let (rb, _) = self.resolve(rb);
                    self.content(rb, Side::Request, &format!("{at} body"));
                }
                for (status, resp) in op
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    let (resp, _) = self.resolve(resp);
                    self.content(resp, Side::Response, &format!("{at} {status}"));
                }
            }
        }
    }

    fn parameter(&mut self, p: &'a Value, at: &str) {
        let (p, _) = self.resolve(p);
        let name = p.get("name").and_then(Value::as_str).unwrap_or("?");
        let Some(schema) = p.get("schema") else {
            return;
        };
        let place = format!("{at} parameter {name}");
        if let Some(ex) = p.get("example")
            && let Err(e) = self.check(ex, schema, "", 0)
        {
            self.fail(Side::Request, &place, e);
        }
        self.schema(schema, Side::Request, &place, &[], 0);
    }

    fn content(&mut self, holder: &'a Value, side: Side, at: &str) {
        let Some(content) = holder.get("content").and_then(Value::as_object) else {
            return;
        };
        for (ctype, media) in content {
            let Some(schema) = media.get("schema") else {
                continue;
            };
            let place = format!("{at} {ctype}");
            let mut examples: Vec<&Value> = media.get("example").into_iter().collect();
            for e in media
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(_, e)| e)
            {
                examples.extend(e.get("value"));
            }
            for ex in &examples {
                if let Err(e) = self.check(ex, schema, "", 0) {
                    self.fail(side, &place, e);
                }
            }
            self.schema(schema, side, &place, &examples, 0);
        }
    }

    /// Visit a schema once per side: check its own example, whether its
    /// required fields are shown, then its parts.
    fn schema(&mut self, schema: &'a Value, side: Side, at: &str, outer: &[&Value], depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (s, key) = self.resolve(schema);
        let place = match &key {
            Some(k) => {
                if !self.seen.insert((k.clone(), side)) && outer.is_empty() {
                    return;
                }
                k.clone()
            }
            None => at.to_string(),
        };
        if let Some(ex) = s.get("example")
            && let Err(e) = self.check(ex, s, "", 0)
        {
            self.fail(side, &place, e);
        }
        if side == Side::Request {
            let mut examples: Vec<&Value> = outer.to_vec();
            examples.extend(s.get("example"));
            self.required_shown(s, &place, &examples);
        }
        for (name, p) in s
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            self.schema(p, side, &format!("{place}.{name}"), &[], depth + 1);
        }
        if let Some(items) = s.get("items") {
            self.schema(items, side, &format!("{place}[]"), &[], depth + 1);
        }
        for k in ["allOf", "oneOf", "anyOf"] {
            for part in s.get(k).and_then(Value::as_array).into_iter().flatten() {
                self.schema(part, side, &place, &[], depth + 1);
            }
        }
    }

    /// A required field is shown when the object's examples carry it or,
    /// with no object example, when the field has an example, default or
    /// enum of its own (or is itself a described structure).
    fn required_shown(&mut self, s: &'a Value, place: &str, examples: &[&Value]) {
        let Some(required) = s.get("required").and_then(Value::as_array) else {
            return;
        };
        let objects: Vec<&serde_json::Map<String, Value>> =
            examples.iter().filter_map(|e| e.as_object()).collect();
        let props = s.get("properties").and_then(Value::as_object);
        for name in required.iter().filter_map(Value::as_str) {
            let shown = if objects.is_empty() {
                props.and_then(|p| p.get(name)).is_some_and(|p| {
                    let (p, key) = self.resolve(p);
                    key.is_some()
                        || [
                            "example",
                            "default",
                            "enum",
                            "properties",
                            "items",
                            "allOf",
                            "oneOf",
                            "anyOf",
                        ]
                        .iter()
                        .any(|k| p.get(k).is_some())
                })
            } else {
                objects.iter().any(|o| o.contains_key(name))
            };
            if !shown {
                let declared = props.is_some_and(|p| p.contains_key(name));
                self.report.unshown_required.push(Finding {
                    side: Side::Request,
                    place: format!("{} {place}", self.file.rel),
                    what: if declared {
                        format!("{name} is required but no example shows it")
                    } else {
                        format!("{name} is required but not declared")
                    },
                });
            }
        }
    }

    /// Whether `v` fits `schema` (types, enums, required members, items,
    /// allOf/oneOf/anyOf); the first mismatch, with where it is.
    fn check(&self, v: &Value, schema: &'a Value, at: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let (s, _) = self.resolve(schema);
        let here = if at.is_empty() { "example" } else { at };
        if v.is_null() {
            let typed = s.get("type").is_some();
            let nullable = s.get("nullable").and_then(Value::as_bool) == Some(true);
            return if typed && !nullable {
                Err(format!("{here} is null, the schema says {}", s["type"]))
            } else {
                Ok(())
            };
        }
        for part in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(v, part, at, depth + 1)?;
        }
        for k in ["oneOf", "anyOf"] {
            if let Some(alts) = s.get(k).and_then(Value::as_array)
                && !alts.is_empty()
                && !alts.iter().any(|a| self.check(v, a, at, depth + 1).is_ok())
            {
                return Err(format!("{here} matches none of its {k} alternatives"));
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array)
            && !e.contains(v)
        {
            return Err(format!(
                "{here} = {} is not one of {}",
                short(v),
                short(&Value::Array(e.clone()))
            ));
        }
        let ty = s.get("type").and_then(Value::as_str);
        let fits = match ty {
            Some("string") => v.is_string(),
            Some("integer") => v.as_f64().is_some_and(|n| n.fract() == 0.0),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            Some("array") => v.is_array(),
            Some("object") => v.is_object(),
            _ => true,
        };
        if !fits {
            return Err(format!(
                "{here} = {} is not {}",
                short(v),
                ty.unwrap_or("?")
            ));
        }
        if let Some(o) = v.as_object() {
            for name in s
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !o.contains_key(name) {
                    return Err(format!("{here} lacks required {name}"));
                }
            }
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, x) in o {
                    if let Some(ps) = props.get(k) {
                        self.check(
                            x,
                            ps,
                            &format!("{}.{k}", if at.is_empty() { "example" } else { at }),
                            depth + 1,
                        )?;
                    }
                }
            }
        }
        if let (Some(a), Some(items)) = (v.as_array(), s.get("items")) {
            for (i, x) in a.iter().enumerate() {
                self.check(x, items, &format!("{here}[{i}]"), depth + 1)?;
            }
        }
        Ok(())
    }
}

fn short(v: &Value) -> String {
    let t = v.to_string();
    if t.chars().count() > 60 {
        format!("{}…", t.chars().take(60).collect::<String>())
    } else {
        t
    }
}
