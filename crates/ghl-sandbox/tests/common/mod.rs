//! Shared test helpers: a sandbox on loopback with a temp database, and calls
//! made by operation name (path and Version header come from the catalog).

#![allow(dead_code)]

use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, Sandbox, SandboxOptions, Seed};
use serde_json::Value;

pub const LOC: &str = DEMO_LOCATION_ID;

pub struct Env {
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

pub async fn env() -> Env {
    env_with(|_| {}).await
}

pub async fn env_with(f: impl FnOnce(&mut SandboxOptions)) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = SandboxOptions::new(dir.path().join("sandbox.db"));
    opts.rate_limit.max = 100_000;
    f(&mut opts);
    let sb = ghl_sandbox::start(opts).await.expect("start sandbox");
    let base = sb.base_url();
    Env {
        sb,
        dir,
        http: reqwest::Client::new(),
        base,
        token: DEFAULT_TOKEN.to_string(),
    }
}

pub async fn empty_env() -> Env {
    env_with(|o| o.seed = Seed::Empty).await
}

impl Env {
    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("sandbox.db")
    }

    /// Call operation `name`, filling `{placeholders}` from `path`.
    pub async fn op(
        &self,
        name: &str,
        path: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        self.op_as(&self.token, name, path, query, body).await
    }

    pub async fn op_as(
        &self,
        token: &str,
        name: &str,
        path: &[(&str, &str)],
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let op = ghl_catalog::find(name).unwrap_or_else(|| panic!("no op {name}"));
        let mut p = op.path.clone();
        for (k, v) in path {
            p = p.replace(&format!("{{{k}}}"), v);
        }
        self.raw(
            token,
            op.method.as_str(),
            &p,
            op.version.as_deref(),
            query,
            body,
        )
        .await
    }

    pub async fn raw(
        &self,
        token: &str,
        method: &str,
        path: &str,
        version: Option<&str>,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self
            .http
            .request(m, format!("{}{}", self.base, path))
            .query(query);
        if !token.is_empty() {
            rb = rb.bearer_auth(token);
        }
        if let Some(v) = version {
            rb = rb.header("Version", v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("send");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            body,
            headers,
        }
    }
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}
