//! Reads the official specs (v2 `apps/`, v3 `apps/v3/`), applies the errata
//! and writes `generated/catalog.json` (v2) and `generated/catalog-v3.json`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use ghl_catalog::errata::Errata;
use ghl_catalog::{
    Api, Body, BodyKind, Catalog, Group, LocationParam, Method, Operation, Param, ParamIn,
    Security, ValueType,
};
use serde_json::Value;

use crate::{rules, spec_scan};

pub struct Outputs<'a> {
    pub v2: &'a Path,
    pub v3: &'a Path,
    pub errata: &'a Path,
}

pub fn run(specs: &Path, out: &Outputs, check: bool) -> Result<String, String> {
    let built = build(specs, out.errata)?;
    let mut report = String::new();
    let mut stale = Vec::new();
    for (label, path, catalog) in [("v2", out.v2, &built.v2), ("v3", out.v3, &built.v3)] {
        let mut json = serde_json::to_string_pretty(catalog).map_err(|e| e.to_string())?;
        json.push('\n');
        let current = fs::read_to_string(path).unwrap_or_default();
        let diff = changes(&current, catalog);
        report.push_str(&format!(
            "{label}: {} operations in {} groups{}\n",
            catalog.operations.len(),
            catalog.groups.len(),
            if current == json {
                String::new()
            } else {
                format!("; {diff}")
            }
        ));
        if current != json {
            stale.push(path.display().to_string());
            if !check {
                fs::write(path, json).map_err(|e| format!("writing {}: {e}", path.display()))?;
            }
        }
    }
    report.push_str(&format!(
        "exact repeats of v2 left out of v3: {} (same method, path and Version); {} of them document the request differently in the v3 file, v2's entry kept\n",
        built.repeats, built.repeats_differing
    ));
    report.push_str(&format!("errata applied: {}\n", built.errata.join(", ")));
    report.push_str(&built.scan.counts());
    report.push_str(" (`cargo xtask spec-scan` lists them)\n");
    if check && !stale.is_empty() {
        return Err(format!(
            "{report}stale: {}: regenerating from {} changes it; run `cargo xtask catalog` and commit",
            stale.join(", "),
            specs.display()
        ));
    }
    Ok(report.trim_end().to_string())
}

/// `cargo xtask spec-scan`: every finding, one a line.
pub fn scan(specs: &Path, errata: &Path) -> Result<String, String> {
    let files = read_specs(specs, &read_errata(errata)?)?.0;
    Ok(spec_scan::scan(&files).listing().trim_end().to_string())
}

/// What changed between the committed catalog and the regenerated one, by
/// operation name.
fn changes(current: &str, new: &Catalog) -> String {
    let old: BTreeMap<String, Value> = serde_json::from_str::<Value>(current)
        .ok()
        .and_then(|v| v.get("operations").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|op| Some((op.get("name")?.as_str()?.to_string(), op)))
        .collect();
    let new: BTreeMap<String, Value> = new
        .operations
        .iter()
        .filter_map(|op| Some((op.name.clone(), serde_json::to_value(op).ok()?)))
        .collect();
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let changed: Vec<&String> = new
        .iter()
        .filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v))
        .map(|(k, _)| k)
        .collect();
    let list = |l: &[&String]| {
        let head: Vec<&str> = l.iter().take(5).map(|s| s.as_str()).collect();
        let more = l.len().saturating_sub(5);
        format!(
            "{}{}",
            head.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )
    };
    let mut parts = Vec::new();
    for (word, l) in [
        ("added", &added),
        ("removed", &removed),
        ("changed", &changed),
    ] {
        if !l.is_empty() {
            parts.push(format!("{} {word} ({})", l.len(), list(l)));
        }
    }
    if parts.is_empty() {
        "formatting changed".into()
    } else {
        parts.join("; ")
    }
}

struct Spec {
    doc: Value,
    common: Value,
}

impl Spec {
    /// Follow `$ref`s (local, or into `../common/common-schemas.json`) until a
    /// concrete schema is reached.
    fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                return v;
            };
            let (doc, pointer) = match r.split_once('#') {
                Some(("", p)) => (&self.doc, p),
                Some((_, p)) => (&self.common, p),
                None => return v,
            };
            match doc.pointer(pointer) {
                Some(next) => v = next,
                None => return v,
            }
        }
        v
    }

    /// Top-level properties of an object schema (allOf merged), with the
    /// names the schema requires.
    fn properties(&self, schema: &Value) -> (Vec<(String, Value)>, Vec<String>) {
        let s = self.resolve(schema);
        let mut props = Vec::new();
        let mut required: Vec<String> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for part in all {
                let (p, r) = self.properties(part);
                props.extend(p);
                required.extend(r);
            }
        }
        if let Some(map) = s.get("properties").and_then(Value::as_object) {
            for (k, v) in map {
                props.push((k.clone(), v.clone()));
            }
        }
        (props, required)
    }

    fn value_type(&self, schema: &Value) -> ValueType {
        let s = self.resolve(schema);
        match s.get("type").and_then(Value::as_str) {
            Some("string") => ValueType::String,
            Some("integer") => ValueType::Integer,
            Some("number") => ValueType::Number,
            Some("boolean") => ValueType::Boolean,
            Some("array") => ValueType::Array,
            Some("object") => ValueType::Object,
            _ if s.get("properties").is_some() || s.get("allOf").is_some() => ValueType::Object,
            _ => ValueType::Any,
        }
    }

    fn param_from_schema(
        &self,
        name: &str,
        location: ParamIn,
        required: bool,
        schema: &Value,
        example: Option<&Value>,
        description: Option<&str>,
    ) -> Param {
        let s = self.resolve(schema);
        let mut value_type = self.value_type(s);
        // Some fields say `object` yet show a string example (a contact's
        // `dateOfBirth`: "1990-09-25"); the type is then unknowable, so accept
        // any value. Where the evidence settles the type, errata.toml says so
        // (send-message-body makes `subType` a string).
        if value_type == ValueType::Object
            && s.get("properties").is_none()
            && s.get("example").is_some_and(Value::is_string)
        {
            value_type = ValueType::Any;
        }
        let items = (value_type == ValueType::Array)
            .then(|| s.get("items").map(|i| self.value_type(i)))
            .flatten();
        let enum_source = s.get("enum").or_else(|| {
            s.get("items")
                .map(|i| self.resolve(i))
                .and_then(|i| i.get("enum"))
        });
        let enum_values = enum_source
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| match x {
                        Value::String(s) => Some(s.clone()),
                        Value::Null => None,
                        other => Some(other.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let example = example
            .or_else(|| s.get("example"))
            .filter(|e| is_small(e))
            .cloned();
        let numeric = matches!(value_type, ValueType::Integer | ValueType::Number);
        let bound = |k: &str| s.get(k).and_then(Value::as_f64).filter(|_| numeric);
        Param {
            name: name.to_string(),
            location,
            value_type,
            items,
            required,
            enum_values,
            format: s.get("format").and_then(Value::as_str).map(String::from),
            example,
            minimum: bound("minimum"),
            // Caps stated in words are trusted for page sizes only, where
            // the unit is unambiguous (records).
            maximum: bound("maximum").or_else(|| {
                description
                    .filter(|_| numeric && rules::is_page_size(name))
                    .and_then(rules::stated_maximum)
            }),
            declared: true,
        }
    }
}

/// Examples are kept only when they are short scalars: sample ids, dates and
/// enums are facts; long sample documents are prose.
fn is_small(v: &Value) -> bool {
    match v {
        Value::String(s) => s.len() <= 80 && !s.contains('\n'),
        Value::Number(_) | Value::Bool(_) => true,
        Value::Array(a) => {
            a.len() <= 3
                && a.iter()
                    .all(|x| !x.is_array() && !x.is_object() && is_small(x))
        }
        _ => false,
    }
}

fn method_of(m: &str) -> Option<Method> {
    Some(match m {
        "get" => Method::Get,
        "post" => Method::Post,
        "put" => Method::Put,
        "patch" => Method::Patch,
        "delete" => Method::Delete,
        _ => return None,
    })
}

fn placeholders(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 1..start + end].to_string());
        rest = &rest[start + end + 1..];
    }
    out
}

/// One spec file, errata applied, with the common schemas its refs point at.
pub struct SpecFile {
    /// Path relative to the specs' root, as errata.toml names it.
    pub rel: String,
    pub group: String,
    pub api: Api,
    pub doc: Value,
    pub common: Value,
}

pub struct Built {
    pub v2: Catalog,
    pub v3: Catalog,
    pub repeats: usize,
    pub repeats_differing: usize,
    pub errata: Vec<String>,
    pub scan: spec_scan::Report,
}

pub fn read_errata(path: &Path) -> Result<Errata, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

fn json_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Every spec file of both APIs with the errata applied; also the ids of
/// the errata applied.
pub fn read_specs(specs: &Path, errata: &Errata) -> Result<(Vec<SpecFile>, Vec<String>), String> {
    // v3 files point at `../common/common-schemas.json`; the intended file
    // is `apps/v3/common/` (NOTES.md), which adds two DTOs to v2's.
    let sets = [
        (Api::V2, "apps", "common/common-schemas.json"),
        (Api::V3, "apps/v3", "apps/v3/common/common-schemas.json"),
    ];
    let mut out = Vec::new();
    let mut applied = Vec::new();
    let mut seen = Vec::new();
    for (api, dir, common) in sets {
        let common: Value = read_json(&specs.join(common))?;
        for file in json_files(&specs.join(dir))? {
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .ok_or("bad spec file name")?
                .to_string();
            let rel = format!("{dir}/{stem}.json");
            let mut doc = read_json(&file)?;
            for id in errata.apply(&rel, &mut doc)? {
                if !applied.contains(&id) {
                    applied.push(id);
                }
            }
            seen.push(rel.clone());
            out.push(SpecFile {
                rel,
                group: stem,
                api,
                doc,
                common: common.clone(),
            });
        }
    }
    let missing = errata.missing_files(&seen);
    if !missing.is_empty() {
        return Err(missing.join("; "));
    }
    Ok((out, applied))
}

pub fn build(specs: &Path, errata: &Path) -> Result<Built, String> {
    let (files, applied) = read_specs(specs, &read_errata(errata)?)?;
    let scan = spec_scan::scan(&files);
    let mut parts: [(Vec<Group>, Vec<Operation>); 2] = Default::default();
    for file in &files {
        if !file.group.ends_with(ghl_catalog::V3_GROUP_SUFFIX) && file.api == Api::V3 {
            return Err(format!(
                "{}: a v3 spec file must be named <group>-v3.json",
                file.rel
            ));
        }
        let spec = Spec {
            doc: file.doc.clone(),
            common: file.common.clone(),
        };
        let title = spec
            .doc
            .pointer("/info/title")
            .and_then(Value::as_str)
            .unwrap_or(&file.group)
            .to_string();
        let mut group_ops = operations_of(&spec, &file.group)?;
        for op in &mut group_ops {
            op.api = file.api;
        }
        let (groups, ops) = &mut parts[(file.api == Api::V3) as usize];
        groups.push(Group {
            name: file.group.clone(),
            title,
            operations: group_ops.len(),
        });
        ops.append(&mut group_ops);
    }
    let [(groups2, mut ops2), (mut groups3, ops3)] = parts;
    let (ops3, repeats, repeats_differing) = without_repeats(&ops2, ops3);
    for g in &mut groups3 {
        g.operations = ops3.iter().filter(|o| o.group == g.name).count();
    }
    ops2.sort_by(|a, b| a.name.cmp(&b.name));
    let mut ops3 = ops3;
    ops3.sort_by(|a, b| a.name.cmp(&b.name));
    let source = "GoHighLevel/highlevel-api-docs (shared/ghl-openapi)".to_string();
    Ok(Built {
        v2: Catalog {
            source: source.clone(),
            groups: groups2,
            operations: ops2,
        },
        v3: Catalog {
            source,
            groups: groups3,
            operations: ops3,
        },
        repeats,
        repeats_differing,
        errata: applied,
        scan,
    })
}

/// v3 operations that are not exact repeats of a v2 one. An exact repeat
/// sends the same method, path and Version header as a v2 operation: the
/// server cannot tell the two apart, so it is the same operation, documented
/// twice (NOTES.md: 117 such). A v3 operation on a v2 path with another
/// Version is a different operation; it takes its v2 twin's judgement of
/// what it does (effect, retry safety), since it acts on the same resource.
/// Returns the kept operations, the number of repeats, and how many repeats
/// the v3 file documents differently.
fn without_repeats(v2: &[Operation], v3: Vec<Operation>) -> (Vec<Operation>, usize, usize) {
    let key = |o: &Operation| (o.method, o.path.clone(), o.version.clone());
    let by_triple: HashMap<_, &Operation> = v2.iter().map(|o| (key(o), o)).collect();
    let by_pair: HashMap<_, &Operation> =
        v2.iter().map(|o| ((o.method, o.path.clone()), o)).collect();
    // What a caller can send, as the catalog records it.
    let request = |o: &Operation| serde_json::to_value((&o.params, &o.body, &o.scopes)).ok();
    let mut kept = Vec::new();
    let (mut repeats, mut differing) = (0, 0);
    for mut op in v3 {
        if let Some(twin) = by_triple.get(&key(&op)) {
            repeats += 1;
            if request(&op) != request(twin) {
                differing += 1;
            }
            continue;
        }
        if let Some(twin) = by_pair.get(&(op.method, op.path.clone())) {
            op.effect = twin.effect;
            op.idempotent = twin.idempotent;
        }
        kept.push(op);
    }
    (kept, repeats, differing)
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

fn operations_of(spec: &Spec, group: &str) -> Result<Vec<Operation>, String> {
    let paths = spec
        .doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{group}: no paths"))?;
    let mut ops = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (m, raw) in item {
            let Some(method) = method_of(m) else { continue };
            let op = operation(spec, group, path, method, raw);
            *seen.entry(op.action.clone()).or_default() += 1;
            ops.push(op);
        }
    }
    // Actions must be unique within a group; the specs reuse a few
    // operationIds, so those get their method (and path, if need be) appended.
    for op in &mut ops {
        if seen.get(&op.action).copied().unwrap_or(0) > 1 {
            op.action = format!("{}-{}", op.action, op.method.as_str().to_ascii_lowercase());
        }
    }
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for op in &ops {
        *names.entry(op.action.clone()).or_default() += 1;
    }
    for op in &mut ops {
        if names[&op.action] > 1 {
            let tail = rules::kebab(&op.path.replace(['{', '}'], ""));
            op.action = format!("{}-{}", op.action, tail);
        }
        op.name = format!("{group}.{}", op.action);
    }
    Ok(ops)
}

fn operation(spec: &Spec, group: &str, path: &str, method: Method, raw: &Value) -> Operation {
    let operation_id = raw
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let action = if operation_id.is_empty() {
        rules::kebab(&format!("{} {}", method.as_str(), path))
    } else {
        rules::kebab(&operation_id)
    };
    let mut version = None;
    let mut params = Vec::new();
    for p in raw
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = spec.resolve(p);
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let location = match p.get("in").and_then(Value::as_str) {
            Some("path") => ParamIn::Path,
            Some("query") => ParamIn::Query,
            Some("header") => ParamIn::Header,
            _ => continue,
        };
        let schema = p.get("schema").cloned().unwrap_or(Value::Null);
        if location == ParamIn::Header && name.eq_ignore_ascii_case("version") {
            let s = spec.resolve(&schema);
            version = s
                .get("enum")
                .and_then(|e| e.get(0))
                .or_else(|| s.get("default"))
                .or_else(|| p.get("example"))
                .or_else(|| s.get("example"))
                .and_then(Value::as_str)
                .map(String::from);
            continue;
        }
        if location == ParamIn::Header && name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        let required = location == ParamIn::Path
            || p.get("required").and_then(Value::as_bool).unwrap_or(false);
        if params
            .iter()
            .any(|x: &Param| x.name == name && x.location == location)
        {
            continue;
        }
        params.push(spec.param_from_schema(
            name,
            location,
            required,
            &schema,
            p.get("example"),
            p.get("description").and_then(Value::as_str),
        ));
    }
    for ph in placeholders(path) {
        if !params
            .iter()
            .any(|p| p.location == ParamIn::Path && p.name == ph)
        {
            params.push(Param {
                name: ph,
                location: ParamIn::Path,
                value_type: ValueType::String,
                items: None,
                required: true,
                enum_values: Vec::new(),
                format: None,
                example: None,
                minimum: None,
                maximum: None,
                declared: false,
            });
        }
    }

    let body = raw.get("requestBody").map(|rb| {
        let rb = spec.resolve(rb);
        let content = rb.get("content").and_then(Value::as_object);
        let (kind, schema) = match content {
            Some(c) if c.contains_key("multipart/form-data") => {
                (BodyKind::Multipart, c.get("multipart/form-data"))
            }
            Some(c) if c.contains_key("application/x-www-form-urlencoded") => {
                (BodyKind::Form, c.get("application/x-www-form-urlencoded"))
            }
            Some(c) => (
                BodyKind::Json,
                c.get("application/json").or_else(|| c.values().next()),
            ),
            None => (BodyKind::Json, None),
        };
        let fields = schema
            .and_then(|s| s.get("schema"))
            .map(|s| {
                let (props, required) = spec.properties(s);
                props
                    .iter()
                    .map(|(name, ps)| {
                        spec.param_from_schema(
                            name,
                            ParamIn::Body,
                            required.contains(name),
                            ps,
                            None,
                            spec.resolve(ps).get("description").and_then(Value::as_str),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Body {
            kind,
            required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
            fields,
        }
    });

    let mut security = Vec::new();
    let mut scopes: Vec<String> = Vec::new();
    for alt in raw
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(obj) = alt.as_object() else { continue };
        for (scheme, list) in obj {
            let s: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(String::from))
                .collect();
            for x in &s {
                if !scopes.contains(x) {
                    scopes.push(x.clone());
                }
            }
            security.push(Security {
                scheme: scheme.clone(),
                scopes: s,
            });
        }
    }

    let effect = rules::effect(group, &operation_id, method);
    let body_fields: &[Param] = body.as_ref().map(|b| b.fields.as_slice()).unwrap_or(&[]);
    let pagination = rules::pagination(group, &operation_id, path, &params, body_fields);
    let location_param = location_param(&params, body_fields).or_else(|| {
        rules::undeclared_body_location(group, &operation_id).then(|| LocationParam {
            name: "locationId".into(),
            location: ParamIn::Body,
            alt: false,
        })
    });

    Operation {
        location_param,
        name: String::new(),
        api: Api::V2,
        group: group.to_string(),
        action,
        idempotent: rules::idempotent(group, &operation_id, method, effect),
        operation_id,
        method,
        path: path.to_string(),
        version,
        title: raw
            .get("summary")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        tags: raw
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        params,
        body,
        security,
        scopes,
        pagination,
        deprecated: raw
            .get("deprecated")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        effect,
    }
}

fn location_param(params: &[Param], body: &[Param]) -> Option<LocationParam> {
    for p in params {
        if matches!(p.name.as_str(), "locationId" | "location_id")
            && matches!(p.location, ParamIn::Path | ParamIn::Query)
        {
            return Some(LocationParam {
                name: p.name.clone(),
                location: p.location,
                alt: false,
            });
        }
    }
    if params.iter().any(|p| p.name == "altId") && params.iter().any(|p| p.name == "altType") {
        return Some(LocationParam {
            name: "altId".into(),
            location: ParamIn::Query,
            alt: true,
        });
    }
    if body.iter().any(|p| p.name == "altId") && body.iter().any(|p| p.name == "altType") {
        return Some(LocationParam {
            name: "altId".into(),
            location: ParamIn::Body,
            alt: true,
        });
    }
    if body.iter().any(|p| p.name == "locationId") {
        return Some(LocationParam {
            name: "locationId".into(),
            location: ParamIn::Body,
            alt: false,
        });
    }
    None
}
