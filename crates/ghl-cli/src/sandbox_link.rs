//! `--sandbox`: reuse a sandbox that `ghl sandbox serve` is running, or start
//! one inside this process for the length of the command.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use ghl_core::Error;

pub struct Running {
    pub base_url: String,
    /// Present when this process started the sandbox.
    pub server: Option<ghl_sandbox::Sandbox>,
}

/// Where `ghl sandbox serve` announces its address.
pub fn addr_file() -> PathBuf {
    ghl_sandbox::default_db_path().with_file_name("sandbox.addr")
}

/// The address `ghl sandbox serve` announced, when its file can be trusted:
/// a killed server leaves the file behind, and anyone who could write it
/// could send `--sandbox` requests to their own listener.
pub fn announced_addr() -> Option<SocketAddr> {
    let file = addr_file();
    if std::fs::symlink_metadata(&file).is_err() {
        return None;
    }
    if let Some(why) = ghl_core::trust::untrusted_reason(&file, ghl_core::trust::euid()) {
        eprintln!(
            "warning: ignoring the sandbox address file: {why}; starting a sandbox in this process"
        );
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(&file)
        .and_then(|f| f.take(256).read_to_string(&mut text))
        .ok()?;
    text.trim().parse::<SocketAddr>().ok()
}

/// Announce `addr` for later `--sandbox` runs, readable by us alone.
pub fn announce(addr: SocketAddr) -> std::io::Result<()> {
    let file = addr_file();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension(format!("addr.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(&tmp)?.write_all(addr.to_string().as_bytes())?;
    std::fs::rename(&tmp, &file)
}

pub async fn connect_or_start() -> Result<Running, Error> {
    if let Some(addr) = announced_addr()
        && is_sandbox(addr)
    {
        return Ok(Running {
            base_url: format!("http://{addr}"),
            server: None,
        });
    }
    let opts = ghl_sandbox::SandboxOptions::new(ghl_sandbox::default_db_path());
    let server = ghl_sandbox::start(opts)
        .await
        .map_err(|e| Error::config(format!("cannot start the sandbox: {e}")))?;
    Ok(Running {
        base_url: server.base_url(),
        server: Some(server),
    })
}

/// A quick `GET /health` on loopback: is a sandbox listening there?
pub fn is_sandbox(addr: SocketAddr) -> bool {
    if !addr.ip().is_loopback() {
        return false;
    }
    let probe = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(300))?;
        s.set_read_timeout(Some(Duration::from_millis(800)))?;
        write!(
            s,
            "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = Vec::new();
        s.take(4096).read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        Ok(text.starts_with("HTTP/1.1 200") && text.contains("ghl-sandbox"))
    };
    probe().unwrap_or(false)
}
