//! The contract test: every catalog operation, built from the official spec's
//! own examples, is sent through the real `ghl_core::Client` to Prism serving
//! that operation's spec file. Prism validates each request (path, query,
//! headers incl. the Version enum and the bearer header, body) and answers
//! 422 with an `sl-violations` header when something is off.
//!
//! Needs Prism: run `scripts/install-prism.sh` (or set `GHL_PRISM`).

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ghl_core::catalog::errata::Errata;
use ghl_core::catalog::{self, Operation};
use ghl_core::{CallArgs, Client, Defaults};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use support::{client_from, config, repo_root, spec_root};

/// Prism servers running at once (each takes ~3 s and a core to load).
const PARALLEL: usize = 3;

/// Operations that cannot pass because of defects in the spec itself, not in
/// ghl-core. Each entry: operation name and the reason.
const SPEC_DEFECTS: &[(&str, &str)] = &[
    // UploadFilesDto requires `attachmentUrls` (an array of strings) in a
    // multipart body and declares no `encoding` for it. Prism 5.14.2 parses
    // every multipart field as a string, so no request can pass: repeated
    // fields, `attachmentUrls[]`, indexed names and a JSON part were all
    // refused with "must be array" or "required" when tried by hand with curl.
    (
        "conversations.upload-file-attachments",
        "required array field in a multipart body: Prism cannot accept any array encoding",
    ),
    // The same upload, documented again in the v3 file with Version v3.
    (
        "conversations-v3.upload-file-attachments",
        "required array field in a multipart body: Prism cannot accept any array encoding",
    ),
];

fn prism_path() -> PathBuf {
    if let Ok(p) = std::env::var("GHL_PRISM") {
        return PathBuf::from(p);
    }
    repo_root().join(".tmp/prism/node_modules/.bin/prism")
}

// ---------------------------------------------------------------------------
// Spec documents and example values
// ---------------------------------------------------------------------------

struct Docs {
    app: Value,
    common: Value,
}

impl Docs {
    /// Follow `$ref`s until a schema without one; returns the schema and
    /// which document it lives in (`true` for common).
    fn resolve<'a>(&'a self, mut schema: &'a Value, mut in_common: bool) -> (&'a Value, bool) {
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let (doc, pointer) = match r.split_once('#') {
                Some(("", p)) => (if in_common { &self.common } else { &self.app }, p),
                Some((file, p)) if file.ends_with("common-schemas.json") => {
                    in_common = true;
                    (&self.common, p)
                }
                _ => panic!("unsupported $ref {r}"),
            };
            schema = doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
        }
        (schema, in_common)
    }

    /// An example value valid against `schema`: required properties
    /// recursively, the spec's examples where they fit, enums, formats.
    fn example(&self, schema: &Value, in_common: bool, depth: usize) -> Value {
        let (schema, in_common) = self.resolve(schema, in_common);
        if depth > 12 {
            return Value::Null;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            // Merge the parts into one object schema.
            let mut merged = schema.as_object().cloned().unwrap_or_default();
            merged.remove("allOf");
            let mut props = merged
                .get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let mut required: Vec<Value> = merged
                .get("required")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut single = None;
            for part in all {
                let (part, _) = self.resolve(part, in_common);
                if let Some(p) = part.get("properties").and_then(Value::as_object) {
                    props.extend(p.clone());
                }
                if let Some(r) = part.get("required").and_then(Value::as_array) {
                    required.extend(r.clone());
                }
                if part.get("properties").is_none() && all.len() == 1 {
                    single = Some(part.clone());
                }
            }
            if let Some(single) = single
                && props.is_empty()
            {
                let mut s = single.as_object().cloned().unwrap_or_default();
                for (k, v) in merged {
                    s.entry(k).or_insert(v);
                }
                return self.example(&Value::Object(s), in_common, depth + 1);
            }
            merged.insert("type".into(), json!("object"));
            merged.insert("properties".into(), Value::Object(props));
            merged.insert("required".into(), Value::Array(required));
            return self.example(&Value::Object(merged), in_common, depth + 1);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(first) = schema
                .get(key)
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                return self.example(first, in_common, depth + 1);
            }
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            if let Some(ex) = schema.get("example").filter(|x| e.contains(x)) {
                return ex.clone();
            }
            return e.first().cloned().unwrap_or(Value::Null);
        }
        let ty = schema
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_else(|| {
                if schema.get("properties").is_some() {
                    "object"
                } else if schema.get("items").is_some() {
                    "array"
                } else {
                    "string"
                }
            });
        let example = schema.get("example");
        match ty {
            "object" => {
                let mut out = Map::new();
                let props = schema.get("properties").and_then(Value::as_object);
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for name in required {
                    let v = props
                        .and_then(|p| p.get(name))
                        .map(|s| self.example(s, in_common, depth + 1))
                        .unwrap_or_else(|| json!("abc123"));
                    out.insert(name.to_string(), v);
                }
                if out.is_empty()
                    && props.is_none()
                    && let Some(Value::Object(ex)) = example
                {
                    return Value::Object(ex.clone());
                }
                Value::Object(out)
            }
            "array" => {
                let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
                if min == 0
                    && let Some(Value::Array(ex)) = example
                    && ex.iter().all(|x| !x.is_object() && !x.is_array())
                    && self.scalars_fit(schema.get("items"), ex, in_common)
                {
                    return Value::Array(ex.clone());
                }
                let items = schema.get("items").cloned().unwrap_or(json!({}));
                let n = min.max(1);
                Value::Array(
                    (0..n)
                        .map(|_| self.example(&items, in_common, depth + 1))
                        .collect(),
                )
            }
            "integer" => match example {
                Some(v) if v.is_i64() || v.is_u64() => v.clone(),
                _ => json!(bounded(schema, 1.0) as i64),
            },
            "number" => match example {
                Some(v) if v.is_number() => v.clone(),
                _ => json!(bounded(schema, 1.0) as i64),
            },
            "boolean" => match example {
                Some(v) if v.is_boolean() => v.clone(),
                _ => json!(true),
            },
            _ => {
                let format = schema.get("format").and_then(Value::as_str).unwrap_or("");
                let from_format = match format {
                    "date-time" => Some("2024-05-01T10:00:00.000Z"),
                    "date" => Some("2024-05-01"),
                    "email" => Some("jane@example.com"),
                    "uri" | "url" => Some("https://example.com/a"),
                    "uuid" => Some("550e8400-e29b-41d4-a716-446655440000"),
                    "binary" => Some("file"),
                    _ => None,
                };
                let text = match (example, from_format) {
                    (_, Some(f))
                        if format != "binary" && !example.is_some_and(Value::is_string) =>
                    {
                        f.to_string()
                    }
                    (Some(Value::String(s)), _) => s.clone(),
                    (_, Some(f)) => f.to_string(),
                    _ => "abc123".to_string(),
                };
                let min = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
                let max = schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .map(|m| m as usize)
                    .unwrap_or(usize::MAX);
                let mut text = text;
                while text.chars().count() < min {
                    text.push('x');
                }
                if text.chars().count() > max {
                    text = text.chars().take(max).collect();
                }
                Value::String(text)
            }
        }
    }

    fn scalars_fit(&self, items: Option<&Value>, ex: &[Value], in_common: bool) -> bool {
        let Some(items) = items else { return true };
        let (items, _) = self.resolve(items, in_common);
        let ty = items.get("type").and_then(Value::as_str).unwrap_or("");
        let enums = items.get("enum").and_then(Value::as_array);
        ex.iter().all(|x| {
            enums.is_none_or(|e| e.contains(x))
                && match ty {
                    "string" => x.is_string(),
                    "number" => x.is_number(),
                    "integer" => x.is_i64() || x.is_u64(),
                    "boolean" => x.is_boolean(),
                    _ => true,
                }
        })
    }
}

fn bounded(schema: &Value, default: f64) -> f64 {
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    let mut v = default;
    if let Some(m) = min {
        v = v.max(m);
    }
    if let Some(m) = max {
        v = v.min(m);
    }
    v
}

/// A value for a parameter, as text for a path or query string.
fn param_value(docs: &Docs, p: &Value) -> Value {
    let (schema, in_common) = docs.resolve(p.get("schema").unwrap_or(&Value::Null), false);
    let fits = |ex: &Value| {
        let enums = schema.get("enum").and_then(Value::as_array);
        if enums.is_some_and(|e| !e.contains(ex)) {
            return false;
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("string") => ex.is_string(),
            Some("number") => {
                ex.is_number() || ex.as_str().is_some_and(|s| s.parse::<f64>().is_ok())
            }
            Some("integer") => {
                ex.is_i64() || ex.is_u64() || ex.as_str().is_some_and(|s| s.parse::<i64>().is_ok())
            }
            Some("boolean") => {
                ex.is_boolean() || matches!(ex.as_str(), Some("true") | Some("false"))
            }
            Some("array") => true,
            _ => true,
        }
    };
    let value = example_for(docs, p, schema, in_common, fits);
    // One path example is prose ("custom_objects.pet or business.email
    // (for company's email)"): its first word is the example key.
    if p.get("in").and_then(Value::as_str) == Some("path")
        && let Some(word) = value.as_str().and_then(|t| t.split_whitespace().next())
    {
        return json!(word);
    }
    value
}

fn example_for(
    docs: &Docs,
    p: &Value,
    schema: &Value,
    in_common: bool,
    fits: impl Fn(&Value) -> bool,
) -> Value {
    if let Some(ex) = p.get("example").filter(|e| fits(e)) {
        return ex.clone();
    }
    if schema.get("type").and_then(Value::as_str) != Some("array")
        && let Some(ex) = schema.get("example").filter(|e| fits(e))
    {
        return ex.clone();
    }
    docs.example(schema, in_common, 0)
}

/// The arguments for one operation, from its spec entry.
/// With `optional`, every optional query and header parameter is set too.
fn build_call(docs: &Docs, op: &Operation, files: &Path, optional: bool) -> CallArgs {
    let spec_op = docs
        .app
        .get("paths")
        .and_then(|p| p.get(&op.path))
        .and_then(|p| p.get(op.method.as_str().to_ascii_lowercase()))
        .unwrap_or_else(|| {
            panic!(
                "{}: {} {} not in spec",
                op.name,
                op.method.as_str(),
                op.path
            )
        });
    let mut args = CallArgs::new();
    for p in spec_op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (p, _) = docs.resolve(p, false);
        let name = p["name"].as_str().unwrap_or_default();
        let place = p["in"].as_str().unwrap_or_default();
        let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
        if place == "header"
            && matches!(
                name.to_ascii_lowercase().as_str(),
                "authorization" | "version"
            )
        {
            continue;
        }
        if !required && place != "path" && !optional {
            continue;
        }
        args.set(name, param_value(docs, p));
    }
    // `{placeholders}` the spec uses without declaring them.
    for p in &op.params {
        if !p.declared && !args.params.contains_key(&p.name) {
            args.set(&p.name, "abc123");
        }
    }
    if let Some(body) = spec_op.get("requestBody") {
        let (body, in_common) = docs.resolve(body, false);
        let content = body.get("content").and_then(Value::as_object);
        let (ctype, media) = content
            .and_then(|c| c.iter().next())
            .expect("request body has content");
        let schema = media.get("schema").cloned().unwrap_or(json!({}));
        let mut value = docs.example(&schema, in_common, 0);
        if ctype.starts_with("multipart/") {
            // File fields become files; the rest stay form fields.
            let (resolved, _) = docs.resolve(&schema, in_common);
            let props = resolved.get("properties").and_then(Value::as_object);
            let file = files.join(format!("{}.txt", op.name));
            std::fs::write(&file, b"contract test upload\n").expect("temp file");
            let mut has_file = false;
            if let Some(props) = props {
                for (name, s) in props {
                    let (s, _) = docs.resolve(s, in_common);
                    let is_file = s.get("format").and_then(Value::as_str) == Some("binary")
                        || s.pointer("/items/format").and_then(Value::as_str) == Some("binary");
                    if is_file {
                        has_file = true;
                        args.files.push((name.clone(), file.clone()));
                        if let Some(m) = value.as_object_mut() {
                            m.remove(name);
                        }
                    }
                }
            }
            if !has_file {
                args.files.push(("file".to_string(), file));
            }
        }
        if value.is_object() || value.is_array() {
            args.body = Some(value);
        }
    }
    args
}

// ---------------------------------------------------------------------------
// Prism
// ---------------------------------------------------------------------------

/// The spec files as Prism loads them: `apps/` + `common/` (v2) and
/// `v3/apps/` + `v3/common/` (v3: its files point at
/// `../common/common-schemas.json`, meant to be `apps/v3/common/`, NOTES.md),
/// each with the errata applied and with refs to the common DTOs a file
/// lacks (links.json, social-planner-v3.json) pointed at the common file.
/// Returns the tree and the errata applied.
fn spec_tree() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let errata_path = repo_root().join("crates/ghl-catalog/errata.toml");
    let errata: Errata =
        toml::from_str(&std::fs::read_to_string(&errata_path).expect("errata.toml"))
            .expect("errata.toml parses");
    let mut applied = Vec::new();
    let mut seen = Vec::new();
    let mut patched_refs = Vec::new();
    for (from, rel, to) in [
        ("common", "common", "common"),
        ("apps/v3/common", "apps/v3/common", "v3/common"),
        ("apps", "apps", "apps"),
        ("apps/v3", "apps/v3", "v3/apps"),
    ] {
        let to = dir.path().join(to);
        std::fs::create_dir_all(&to).unwrap();
        let mut names: Vec<_> = std::fs::read_dir(spec_root().join(from))
            .expect("spec dir")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        for name in names {
            let text = std::fs::read_to_string(spec_root().join(from).join(&name)).unwrap();
            let mut doc: Value = serde_json::from_str(&text).unwrap();
            let file = format!("{rel}/{name}");
            for id in errata
                .apply(&file, &mut doc)
                .unwrap_or_else(|e| panic!("{e}"))
            {
                applied.push(format!("{id} ({file})"));
            }
            seen.push(file.clone());
            let mut out = serde_json::to_string(&doc).unwrap();
            for dto in ["BadRequestDTO", "UnauthorizedDTO", "UnprocessableDTO"] {
                let local = format!("\"#/components/schemas/{dto}\"");
                if out.contains(&local)
                    && doc.pointer(&format!("/components/schemas/{dto}")).is_none()
                {
                    out = out.replace(
                        &local,
                        &format!("\"../common/common-schemas.json#/components/schemas/{dto}\""),
                    );
                    patched_refs.push(file.clone());
                }
            }
            std::fs::write(to.join(&name), out).unwrap();
        }
    }
    let missing = errata.missing_files(&seen);
    assert!(missing.is_empty(), "{missing:?}");
    for file in ["apps/links.json", "apps/v3/social-planner-v3.json"] {
        assert!(
            patched_refs.iter().any(|f| f == file),
            "{file} no longer needs its dangling refs pointed at the common file?"
        );
    }
    (dir, applied)
}

/// Where a group's spec sits in the tree from `spec_tree`.
fn spec_file(tree: &Path, group: &str) -> PathBuf {
    if group.ends_with(catalog::V3_GROUP_SUFFIX) {
        tree.join(format!("v3/apps/{group}.json"))
    } else {
        tree.join(format!("apps/{group}.json"))
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Prism {
    child: tokio::process::Child,
    base: String,
}

async fn start_prism(prism: &Path, spec: &Path, log: &Path) -> Result<Prism, String> {
    let port = free_port();
    let log_file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let mut child = tokio::process::Command::new(prism)
        .arg("mock")
        .arg(spec)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", prism.display()))?;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(Prism {
                child,
                base: format!("http://127.0.0.1:{port}"),
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!(
                "prism exited ({status}) loading {}:\n{out}",
                spec.display()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill().await;
            return Err(format!("prism did not start for {}", spec.display()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The violations that concern the request. Prism also checks the spec's own
/// response example against the response schema and reports mismatches
/// (`location: ["response", ...]`); those are defects of the spec's examples,
/// not of the request we sent, and are left out.
fn request_violations(v: &Value) -> Option<String> {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a
            .iter()
            .filter(|x| x.pointer("/location/0").and_then(Value::as_str) != Some("response"))
            .collect(),
        other => vec![other],
    };
    (!list.is_empty()).then(|| Value::Array(list.into_iter().cloned().collect()).to_string())
}

/// Whether `status` is one of the responses the spec documents for `op`,
/// and the spec documents no success.
fn documented(docs: &Docs, op: &Operation, status: u16) -> bool {
    let responses = docs
        .app
        .pointer(&format!(
            "/paths/{}/{}/responses",
            op.path.replace('~', "~0").replace('/', "~1"),
            op.method.as_str().to_ascii_lowercase()
        ))
        .and_then(Value::as_object);
    responses.is_some_and(|r| {
        !r.keys().any(|k| k.starts_with('2')) && r.contains_key(&status.to_string())
    })
}

/// Why Prism refused a request, or `None` when it accepted it.
async fn check(
    client: &Client,
    docs: &Docs,
    op: &'static Operation,
    files: &Path,
) -> Option<String> {
    // Once with the required parameters only, once with every parameter.
    for optional in [false, true] {
        if let Some(problem) = check_one(client, docs, op, files, optional).await {
            let which = if optional {
                "all parameters"
            } else {
                "required parameters"
            };
            return Some(format!("({which}) {problem}"));
        }
    }
    None
}

async fn check_one(
    client: &Client,
    docs: &Docs,
    op: &'static Operation,
    files: &Path,
    optional: bool,
) -> Option<String> {
    let args = build_call(docs, op, files, optional);
    let req = match client.prepare(&op.name, &args) {
        Ok(r) => r,
        Err(e) => {
            return Some(format!(
                "ghl-core refused the spec's own example: {e} (args {:?}, body {})",
                args.params,
                args.body.clone().unwrap_or_default()
            ));
        }
    };
    match client.transport().send(&req).await {
        Ok(resp) => resp
            .headers
            .iter()
            .find(|(k, _)| k == "sl-violations")
            .and_then(|(_, v)| request_violations(&serde_json::from_str(v).unwrap_or(json!(v))))
            .map(|v| format!("accepted with request violations: {v}")),
        Err(e) => {
            let violations = e
                .details
                .as_ref()
                .and_then(|d| d.get("sl-violations"))
                .and_then(request_violations);
            match (e.status, violations) {
                (_, Some(v)) => Some(format!("{} {}: {v}", e.status.unwrap_or(0), e.code)),
                (Some(422), None) => Some(format!("422 without details: {e}")),
                // An operation documenting no 2xx answer gets one of its
                // documented responses for a valid request; any other status
                // (401 for a missing bearer, 404 for a path that matched no
                // route) is a refusal.
                (Some(s), None) if documented(docs, op, s) => None,
                _ => Some(format!("{e}")),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_is_accepted_by_prism() {
    let started = Instant::now();
    let prism = prism_path();
    assert!(
        prism.exists(),
        "Prism is not installed at {}: run scripts/install-prism.sh (or set GHL_PRISM)",
        prism.display()
    );
    let (tree, errata) = spec_tree();
    let tree = Arc::new(tree);
    let common_of = |dir: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(tree.path().join(dir).join("common-schemas.json")).unwrap(),
        )
        .unwrap()
    };
    let (common_v2, common_v3) = (common_of("common"), common_of("v3/common"));
    let mut groups: BTreeMap<String, Vec<&'static Operation>> = BTreeMap::new();
    for op in catalog::operations() {
        groups.entry(op.group.clone()).or_default().push(op);
    }
    let total: usize = groups.values().map(Vec::len).sum();
    assert_eq!(
        total,
        576 + 510,
        "the catalog has every operation, v2 and v3"
    );

    let slots = Arc::new(Semaphore::new(PARALLEL));
    let mut tasks = Vec::new();
    for (group, ops) in groups {
        let slots = slots.clone();
        let tree = tree.clone();
        let prism = prism.clone();
        let common = if group.ends_with(catalog::V3_GROUP_SUFFIX) {
            common_v3.clone()
        } else {
            common_v2.clone()
        };
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            let spec = spec_file(tree.path(), &group);
            let app: Value = serde_json::from_str(&std::fs::read_to_string(&spec).unwrap())
                .unwrap_or_else(|e| panic!("{group}.json: {e}"));
            let docs = Docs { app, common };
            let log = tree.path().join(format!("{group}.prism.log"));
            let files = tree.path().join(format!("files-{group}"));
            std::fs::create_dir_all(&files).unwrap();
            let mut server = match start_prism(&prism, &spec, &log).await {
                Ok(s) => s,
                Err(e) => {
                    return ops
                        .iter()
                        .map(|op| (op.name.clone(), Some(e.clone())))
                        .collect::<Vec<_>>();
                }
            };
            let client = client_from(config(&server.base), Defaults::default());
            let mut out = Vec::new();
            for op in ops {
                out.push((op.name.clone(), check(&client, &docs, op, &files).await));
            }
            let _ = server.child.kill().await;
            out
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.extend(t.await.expect("group task"));
    }

    let mut failures = Vec::new();
    let mut excused = Vec::new();
    for (name, problem) in &results {
        let Some(problem) = problem else { continue };
        if let Some((_, why)) = SPEC_DEFECTS.iter().find(|(n, _)| n == name) {
            excused.push(format!("{name}: {why}"));
        } else {
            failures.push(format!("{name}: {problem}"));
        }
    }
    let accepted = results.iter().filter(|(_, p)| p.is_none()).count();
    println!(
        "contract: {accepted}/{} operations accepted by Prism ({:.0} s)",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    for e in &errata {
        println!("  erratum applied: {e}");
    }
    for e in &excused {
        println!("  known spec defect: {e}");
    }
    for f in &failures {
        println!("  FAILED {f}");
    }
    // An exception that now passes should leave the list.
    for (name, _) in SPEC_DEFECTS {
        assert!(
            results.iter().any(|(n, p)| n == name && p.is_some()),
            "{name} is listed as a spec defect but passes now"
        );
    }
    assert!(
        failures.is_empty(),
        "{} operations refused by Prism:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
