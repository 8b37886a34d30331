//! A private world for each test: its own config file, sandbox database,
//! HOME and XDG dirs, no keyring, and no credentials from the real
//! environment. Optionally a `ghl sandbox serve` on a free loopback port.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const DEFAULT_TOKEN: &str = "pit-sandbox-0000-4000-8000-000000000000";
pub const DEMO_LOCATION: &str = "SbxDemoLoc0000000001";

pub struct World {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub db: PathBuf,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("cfg/ghl/config.toml");
        let db = dir.path().join("data/sandbox.db");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        World { dir, config, db }
    }

    /// `ghl` with this world's environment and nothing from the real one.
    pub fn ghl(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ghl"));
        self.apply(&mut c);
        c
    }

    pub fn apply(&self, c: &mut Command) {
        let root = self.dir.path();
        for k in [
            "HIGHLEVEL_TOKEN",
            "HIGHLEVEL_LOCATION_ID",
            "GHL_BASE_URL",
            "GHL_PROFILE",
            "GHL_READ_ONLY",
            "DBUS_SESSION_BUS_ADDRESS",
        ] {
            c.env_remove(k);
        }
        c.env("GHL_CONFIG", &self.config)
            .env("GHL_SANDBOX_DB", &self.db)
            .env("GHL_KEYRING", "off")
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("xdg-config"))
            .env("XDG_DATA_HOME", root.join("xdg-data"))
            .env("XDG_CACHE_HOME", root.join("xdg-cache"))
            .env("XDG_RUNTIME_DIR", root.join("xdg-runtime"))
            .env("NO_COLOR", "1")
            .env("TERM", "xterm");
    }

    /// Run `ghl ARGS` with `stdin` piped in.
    pub fn run(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut c = self.ghl();
        c.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn ghl");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().expect("ghl output")
    }

    /// A token for the demo location with only `scopes`, minted in this
    /// world's database.
    pub fn mint(&self, scopes: Option<&str>) -> String {
        let mut args = vec!["sandbox", "token"];
        if let Some(s) = scopes {
            args.extend(["--scopes", s]);
        }
        let db = self.db.to_string_lossy().to_string();
        args.extend(["--db", &db]);
        let out = self.run(&args, "", &[]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_string()
    }

    /// `ghl sandbox serve` on a free port, killed when dropped.
    pub fn serve(&self) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = self
            .ghl()
            .args(["sandbox", "serve", "--listen", &addr, "--db"])
            .arg(&self.db)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sandbox");
        let server = Server {
            child,
            base_url: format!("http://{addr}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if healthy(&addr) {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("sandbox did not start on {addr}");
    }

    pub fn config_text(&self) -> Option<String> {
        std::fs::read_to_string(&self.config).ok()
    }

    /// Write a config file by hand, mode 0600.
    pub fn write_config(&self, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(self.config.parent().unwrap()).unwrap();
        std::fs::write(&self.config, text).unwrap();
        std::fs::set_permissions(&self.config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    pub fn config_mode(&self) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&self.config)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }
}

fn healthy(addr: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        s,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200")
}

pub struct Server {
    child: Child,
    pub base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// stdout and stderr together, for assertions and failure messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
