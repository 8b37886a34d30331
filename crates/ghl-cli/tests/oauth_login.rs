//! Marketplace-app sign-in, as a user runs it: `ghl --sandbox auth login`
//! against a sandbox this test runs, approved through the sandbox's page and
//! the real redirect to ghl's loopback listener; then four `ghl` processes
//! whose token has expired refresh it together, and the sandbox sees one
//! refresh.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[path = "webhooks_support/mod.rs"]
mod webhooks_support;

const APP: &str = ghl_sandbox::DEMO_CLIENT_ID;
const LOC: &str = ghl_sandbox::DEMO_LOCATION_ID;

struct Env {
    _dir: tempfile::TempDir,
    home: PathBuf,
    rt: tokio::runtime::Runtime,
    sandbox: Option<ghl_sandbox::Sandbox>,
    base: String,
    /// `GHL_STORE_URL` for every command, when set.
    store: Option<String>,
}

impl Env {
    /// A sandbox in this process, announced where `ghl --sandbox` looks.
    fn new(access_ttl: Duration, latency_ms: u64) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_path_buf();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut opts = ghl_sandbox::SandboxOptions::new(home.join("sandbox.db"));
        opts.oauth_access_ttl = access_ttl;
        opts.latency_ms = latency_ms;
        let sandbox = rt.block_on(ghl_sandbox::start(opts)).unwrap();
        std::fs::write(home.join("sandbox.addr"), sandbox.addr().to_string()).unwrap();
        let base = sandbox.base_url();
        Env {
            _dir: dir,
            home,
            rt,
            sandbox: Some(sandbox),
            base,
            store: None,
        }
    }

    fn ghl(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ghl"));
        c.arg("--sandbox")
            .args(["--output", "json"])
            .args(args)
            .env("GHL_SANDBOX_DB", self.home.join("sandbox.db"))
            .env("GHL_CONFIG", self.home.join("config.toml"))
            .env("GHL_DATA_DIR", self.home.join("data"))
            .env("GHL_KEYRING", "off")
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join("xdg"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("HIGHLEVEL_TOKEN")
            .env_remove("HIGHLEVEL_LOCATION_ID")
            .env_remove("GHL_BASE_URL")
            .env_remove("GHL_PROFILE");
        match &self.store {
            Some(url) => c.env("GHL_STORE_URL", url),
            None => c.env_remove("GHL_STORE_URL"),
        };
        c
    }

    fn stats(&self) -> Value {
        self.rt.block_on(async {
            reqwest::get(format!("{}/_sandbox/stats", self.base))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    }

    fn token_file(&self) -> PathBuf {
        self.home
            .join("data/oauth")
            .join(format!("location-{LOC}.json"))
    }

    fn stored(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.token_file()).unwrap()).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(s) = self.sandbox.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

/// Start `ghl auth login`, give it the secret on stdin, and read stderr up
/// to the approval address it prints.
fn start_login(
    env: &Env,
    profile: &str,
    extra: &[&str],
) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = env
        .ghl(&[
            "--profile",
            profile,
            "auth",
            "login",
            "--client-id",
            APP,
            "--client-secret-stdin",
            "--redirect-uri",
            "http://127.0.0.1:0/oauth/callback",
            "--wait",
            "60",
        ])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(ghl_sandbox::DEMO_CLIENT_SECRET.as_bytes())
        .unwrap();
    drop(stdin);
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "ghl auth login printed no approval address: {seen}"
        );
        seen.push_str(&line);
        if let Some(u) = line
            .trim()
            .strip_prefix(&format!("{}/v2/oauth/chooselocation", env.base))
        {
            break format!("{}/v2/oauth/chooselocation{u}", env.base);
        }
    };
    let rest = std::thread::spawn(move || {
        let mut s = seen;
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    (child, url, rest)
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Sign in through the approval page and the redirect; returns ghl's output.
fn sign_in(env: &Env, profile: &str, extra: &[&str]) -> (Value, String) {
    let (child, url, rest) = start_login(env, profile, extra);
    let q = query(&url);
    assert_eq!(q["client_id"], APP);
    assert_eq!(q["response_type"], "code");
    assert!(q["state"].len() >= 32, "state too short: {}", q["state"]);
    let redirect = q["redirect_uri"].clone();

    env.rt.block_on(async {
        // A page on another site can make the browser hit the listener, but
        // without the state: refused, and the sign-in goes on waiting.
        let forged = reqwest::get(format!("{redirect}?code=forged-code&state=guessed"))
            .await
            .unwrap();
        assert_eq!(forged.status().as_u16(), 400);
        // The browser: the approval page redirects to the listener, which
        // answers once the code is exchanged.
        let page = reqwest::get(&url).await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.url().as_str().starts_with(&redirect), "{}", page.url());
        let text = page.text().await.unwrap();
        assert!(text.contains("Signed in"), "{text}");
    });
    let out = child.wait_with_output().unwrap();
    let err = rest.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "login failed: {err}\n{stdout}");
    (
        serde_json::from_str(&stdout).unwrap(),
        format!("{stdout}\n{err}"),
    )
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn full_sign_in_through_the_real_redirect() {
    let env = Env::new(Duration::from_secs(86_399), 0);
    let (out, printed) = sign_in(&env, "myapp", &[]);
    assert_eq!(out["signed_in"], true);
    assert_eq!(out["profile"], "myapp");
    assert_eq!(out["location_id"], LOC);
    assert_eq!(env.stats()["oauth"]["codes_exchanged"], 1);

    // Stored privately, and never printed.
    let stored = env.stored();
    #[cfg(unix)]
    {
        assert_eq!(mode(&env.token_file()), 0o600);
        assert_eq!(mode(env.token_file().parent().unwrap()), 0o700);
    }
    for key in ["access_token", "refresh_token", "client_secret"] {
        let secret = stored[key].as_str().unwrap();
        assert!(!printed.contains(secret), "{key} was printed");
    }
    let config = std::fs::read_to_string(env.home.join("config.toml")).unwrap();
    assert!(config.contains(APP), "{config}");
    assert!(!config.contains(stored["access_token"].as_str().unwrap()));

    // The profile works, with the app's token.
    let run = env
        .ghl(&["--profile", "myapp", "contacts", "search", "Jane"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let found: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(found.as_array().is_some_and(|a| !a.is_empty()), "{found}");

    let status = env
        .ghl(&["--profile", "myapp", "auth", "status"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["works"], true, "{status}");
    assert!(status["token"].as_str().unwrap().contains(APP), "{status}");

    // Others able to read the token file: refused, nothing sent.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(env.token_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let before = env.stats()["requests"].as_u64().unwrap();
        let run = env
            .ghl(&["--profile", "myapp", "contacts", "search", "Jane"])
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(5),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(env.stats()["requests"].as_u64().unwrap(), before);
    }
}

#[test]
fn four_processes_refresh_one_token_once() {
    // Short-lived access tokens and a slow sandbox, so the four processes
    // are all waiting on the refresh at once.
    let env = Env::new(Duration::from_secs(3), 300);
    sign_in(&env, "myapp", &[]);
    let before = env.stored();
    std::thread::sleep(Duration::from_millis(3500));

    searches_at_once(&env, 4, false);
    let s = env.stats();
    assert_eq!(s["oauth"]["refresh_requests"], 1, "{s}");
    assert_eq!(s["oauth"]["refreshes"], 1, "{s}");

    // The rotated pair was stored, and a later run uses it without refreshing.
    let after = env.stored();
    assert_ne!(after["refresh_token"], before["refresh_token"]);
    assert_ne!(after["access_token"], before["access_token"]);
    searches_at_once(&env, 1, false);
    assert_eq!(env.stats()["oauth"]["refresh_requests"], 1);
}

/// `n` searches at once as profile `myapp`, each with a data directory of
/// its own when `machines` (as on separate machines); all must succeed.
fn searches_at_once(env: &Env, n: usize, machines: bool) {
    let runs: Vec<Child> = (0..n)
        .map(|i| {
            let mut c = env.ghl(&["--profile", "myapp", "contacts", "search", "Jane"]);
            if machines {
                let machine = env.home.join(format!("machine-{i}"));
                c.env("GHL_DATA_DIR", machine.join("data"))
                    .env("XDG_DATA_HOME", machine.join("xdg"));
            }
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for r in runs {
        let out = r.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Four machines acting for one app share its grant through one Postgres
/// store: each has its own data directory (no token file, no file lock in
/// common), and HighLevel still sees one refresh, since refresh tokens
/// rotate and a second refresh would sign the others out.
#[test]
fn four_machines_on_one_postgres_store_refresh_one_token_once() {
    let pg = match ghl_store::testing::postgres_database().unwrap() {
        ghl_store::StoreUrl::Postgres(u) => u,
        other => panic!("not Postgres: {other:?}"),
    };
    let mut env = Env::new(Duration::from_secs(3), 300);
    env.store = Some(pg.to_string());
    sign_in(&env, "myapp", &[]);
    assert!(
        !env.token_file().exists(),
        "with a shared store the grant is not in a local file"
    );
    std::thread::sleep(Duration::from_millis(3500));

    searches_at_once(&env, 4, true);
    let s = env.stats();
    assert_eq!(s["oauth"]["refresh_requests"], 1, "{s}");
    assert_eq!(s["oauth"]["refreshes"], 1, "{s}");

    // Another run goes on with the rotated pair, without refreshing.
    searches_at_once(&env, 1, true);
    assert_eq!(env.stats()["oauth"]["refresh_requests"], 1);
}

#[test]
fn uninstall_removes_the_stored_tokens() {
    let env = Env::new(Duration::from_secs(86_399), 0);
    sign_in(&env, "myapp", &[]);
    assert!(env.token_file().exists());
    let dir = env.home.join("data/oauth");
    let remove = |app: &str| {
        ghl_cli::oauth_store::remove_app_tokens_in(&dir, Some(LOC), None, Some(app)).unwrap()
    };
    // Another app's uninstall leaves these tokens alone.
    assert!(!remove("anotherApp"));
    assert!(env.token_file().exists());
    assert!(remove(APP.split('-').next().unwrap()));
    assert!(!env.token_file().exists());
    let run = env
        .ghl(&["--profile", "myapp", "contacts", "search", "Jane"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(5));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("auth login"), "{err}");
}

/// The real path: HighLevel posts `AppUninstall` to `ghl webhooks listen`,
/// whose hook removes the location's tokens.
#[test]
fn an_app_uninstall_event_removes_the_tokens() {
    let env = Env::new(Duration::from_secs(86_399), 0);
    sign_in(&env, "myapp", &[]);
    assert!(env.token_file().exists());
    let secret = "uninstall-secret-0123456789";
    let mut cmd = env.ghl(&[
        "webhooks",
        "listen",
        "--listen",
        "127.0.0.1:0",
        "--jsonl",
        env.home.join("events.jsonl").to_str().unwrap(),
    ]);
    cmd.env("GHL_WEBHOOK_SECRET", secret);
    let rx = webhooks_support::Proc::start(cmd);
    let post = |app: &str, id: &str| {
        let body = serde_json::json!({
            "type": "AppUninstall", "appId": app, "locationId": LOC,
            "webhookId": id,
        })
        .to_string();
        webhooks_support::http(
            &rx.addr,
            "POST",
            "/webhooks/ghl",
            &[
                ("content-type", "application/json"),
                ("x-ghl-secret", secret),
            ],
            body.as_bytes(),
        )
        .0
    };
    // Another app's uninstall leaves these tokens alone.
    assert_eq!(post("anotherApp", "wh-other-app"), 200);
    assert_eq!(post(APP.split('-').next().unwrap(), "wh-this-app"), 200);
    assert!(
        webhooks_support::wait_for(15, || !env.token_file().exists()),
        "the tokens are still stored"
    );
    let run = env
        .ghl(&["--profile", "myapp", "contacts", "search", "Jane"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(5));
}

#[test]
fn a_company_sign_in_acts_in_its_locations() {
    let env = Env::new(Duration::from_secs(86_399), 0);
    let (out, _) = sign_in(
        &env,
        "agency-app",
        &[
            "--user-type",
            "company",
            "--scope",
            "oauth.write contacts.readonly",
        ],
    );
    assert_eq!(out["user_type"], "Company");
    assert_eq!(out["company_id"], ghl_sandbox::DEMO_COMPANY_ID);
    let run = env
        .ghl(&[
            "--profile",
            "agency-app",
            "--location",
            LOC,
            "contacts",
            "search",
            "Jane",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let found: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert!(found.as_array().is_some_and(|a| !a.is_empty()), "{found}");
}
