//! The loopback listener HighLevel's approval page sends the browser back
//! to: it waits for `GET <path>?code=…&state=…` with the `state` this run
//! chose, answers the browser, and hands the code over. Requests with
//! another state, another path or no code are answered and ignored (a page
//! on another site can make the browser hit this port, but cannot know the
//! state).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use ghl_core::{Error, ErrorCode, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A redirect URI ghl can listen on: `http`, a loopback host, a port (0
/// picks a free one: only for servers that accept any loopback port, such
/// as the sandbox).
pub fn parse_redirect(uri: &str) -> Result<url::Url, Error> {
    let bad = |why: &str| {
        Error::validation(format!("redirect URI {uri:?} {why}")).with_hint(
            "use a loopback address registered with the app, e.g. http://127.0.0.1:8041/oauth/callback",
        )
    };
    let u = url::Url::parse(uri).map_err(|_| bad("is not a URL"))?;
    if u.scheme() != "http" {
        return Err(bad("must start with http:// (ghl listens on this machine)"));
    }
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !loopback {
        return Err(bad("must be on loopback (127.0.0.1, [::1] or localhost)"));
    }
    if u.port().is_none() {
        return Err(bad("needs a port"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(bad("must have no query or fragment"));
    }
    Ok(u)
}

pub struct Listener {
    listener: TcpListener,
    /// The redirect URI with the port actually bound.
    pub redirect_uri: url::Url,
}

/// Bind the redirect URI's address.
pub async fn bind(redirect: &url::Url) -> Result<Listener, Error> {
    let port = redirect.port().unwrap_or(0);
    let ip: std::net::IpAddr = match redirect.host() {
        Some(url::Host::Ipv6(ip)) => ip.into(),
        Some(url::Host::Ipv4(ip)) => ip.into(),
        _ => std::net::Ipv4Addr::LOCALHOST.into(),
    };
    let listener = TcpListener::bind(SocketAddr::new(ip, port))
        .await
        .map_err(|e| {
            Error::config(format!("cannot listen on {ip}:{port} for the redirect: {e}"))
                .with_hint("another program uses the port: stop it, or pass --redirect-uri with a free port registered with the app")
        })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::config(format!("cannot read the listening address: {e}")))?;
    let mut redirect_uri = redirect.clone();
    let _ = redirect_uri.set_port(Some(bound.port()));
    Ok(Listener {
        listener,
        redirect_uri,
    })
}

/// What the browser brought back.
pub struct Callback {
    pub code: Secret,
    stream: TcpStream,
}

impl Callback {
    /// Tell the browser how it went, then close.
    pub async fn answer(mut self, ok: bool, text: &str) {
        respond(&mut self.stream, if ok { 200 } else { 502 }, text).await;
    }
}

/// Largest request head read from a browser.
const MAX_HEAD: usize = 16 * 1024;

impl Listener {
    /// Wait (up to `wait`) for the redirect carrying `state`.
    pub async fn wait(&self, state: &str, wait: Duration) -> Result<Callback, Error> {
        let deadline = tokio::time::Instant::now() + wait;
        let path = self.redirect_uri.path().to_string();
        loop {
            let accepted = tokio::time::timeout_at(deadline, self.listener.accept()).await;
            let mut stream = match accepted {
                Err(_) => {
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "no approval arrived within {} s",
                            wait.as_secs()
                        ),
                    )
                    .with_hint("open the address printed above in a browser signed in to HighLevel, or raise --wait"));
                }
                Ok(Err(_)) => continue,
                Ok(Ok((s, _))) => s,
            };
            let Some(target) = read_target(&mut stream).await else {
                respond(&mut stream, 400, "Bad request.").await;
                continue;
            };
            let (req_path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
            if req_path != path {
                respond(&mut stream, 404, "Not found.").await;
                continue;
            }
            let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            if q.get("state").map(String::as_str) != Some(state) {
                respond(
                    &mut stream,
                    400,
                    "This sign-in link does not belong to the ghl waiting here; it was ignored.",
                )
                .await;
                continue;
            }
            if let Some(err) = q.get("error") {
                respond(
                    &mut stream,
                    200,
                    "The app was not approved. You can close this tab.",
                )
                .await;
                let why: String = err.chars().filter(|c| !c.is_control()).take(200).collect();
                return Err(Error::new(
                    ErrorCode::InvalidToken,
                    format!("HighLevel did not approve the app: {why}"),
                )
                .with_hint("run `ghl auth login` again and approve the app on the page"));
            }
            match q.get("code").filter(|c| !c.is_empty() && c.len() <= 4096) {
                Some(code) => {
                    return Ok(Callback {
                        code: Secret::new(code.clone()),
                        stream,
                    });
                }
                None => {
                    respond(&mut stream, 400, "No code in this request; it was ignored.").await;
                }
            }
        }
    }
}

/// The request target of a `GET`, or `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let read = async {
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 || buf.len() + n > MAX_HEAD {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    let head = std::str::from_utf8(&buf).ok()?;
    let mut parts = head.lines().next()?.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_string()),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Bad Gateway",
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>ghl</title><p>{}</p>",
        text.replace('&', "&amp;").replace('<', "&lt;")
    );
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::parse_redirect;

    #[test]
    fn only_loopback_http_with_a_port() {
        assert!(parse_redirect("http://127.0.0.1:8041/oauth/callback").is_ok());
        assert!(parse_redirect("http://localhost:0/cb").is_ok());
        for bad in [
            "https://127.0.0.1:8041/cb",
            "http://example.com:80/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8041/cb?x=1",
            "nonsense",
        ] {
            assert!(parse_redirect(bad).is_err(), "{bad}");
        }
    }
}
