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

pub async fn connect_or_start() -> Result<Running, Error> {
    if let Some(addr) = std::fs::read_to_string(addr_file())
        .ok()
        .and_then(|s| s.trim().parse::<SocketAddr>().ok())
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
