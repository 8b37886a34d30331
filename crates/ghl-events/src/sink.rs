//! Where delivered events go: a command, a URL, a JSON-lines file, or a hook
//! the embedding program supplies (e.g. removing tokens on `AppUninstall`).
//! A sink says yes only when the event is safely in its hands.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::event::Event;

/// Something the embedding program runs for some events, with the same
/// at-least-once guarantee as the other sinks. It must be idempotent.
pub trait EventHook: Send + Sync {
    /// Does this hook care about events of this type?
    fn wants(&self, event_type: &str) -> bool;
    /// Handle one event; an error is retried with backoff like any sink.
    fn handle(&self, event: &Event) -> Result<(), String>;
}

/// How long one `--exec` or `--forward` delivery may take.
pub const SINK_TIMEOUT: Duration = Duration::from_secs(30);
const ERROR_TAIL: usize = 400;
/// How much of an existing JSON-lines file is read back to skip events it
/// already holds after a crash.
const JSONL_TAIL: u64 = 8 * 1024 * 1024;

pub enum Sink {
    Exec {
        command: String,
    },
    Forward {
        url: String,
        client: reqwest::Client,
    },
    Jsonl(Arc<JsonlSink>),
    Hook {
        name: String,
        hook: Arc<dyn EventHook>,
    },
}

impl Sink {
    pub fn exec(command: &str) -> Sink {
        Sink::Exec {
            command: command.to_string(),
        }
    }

    pub fn forward(url: &str) -> Result<Sink, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("--forward {url}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("--forward {url}: only http and https URLs"));
        }
        let client = reqwest::Client::builder()
            .timeout(SINK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Sink::Forward {
            url: url.to_string(),
            client,
        })
    }

    pub fn jsonl(target: &str) -> Result<Sink, String> {
        Ok(Sink::Jsonl(Arc::new(JsonlSink::open(target)?)))
    }

    pub fn hook(name: &str, hook: Arc<dyn EventHook>) -> Sink {
        Sink::Hook {
            name: name.to_string(),
            hook,
        }
    }

    /// A stable name, remembered per event once this sink has taken it.
    pub fn name(&self) -> String {
        match self {
            Sink::Exec { command } => format!("exec:{command}"),
            Sink::Forward { url, .. } => format!("forward:{url}"),
            Sink::Jsonl(j) => format!("jsonl:{}", j.describe()),
            Sink::Hook { name, .. } => format!("hook:{name}"),
        }
    }

    /// Whether this sink has anything to do with `ev` (a hook takes only
    /// the event types it names).
    pub fn takes(&self, ev: &Event) -> bool {
        match self {
            Sink::Hook { hook, .. } => hook.wants(&ev.event_type),
            _ => true,
        }
    }

    pub async fn deliver(&self, ev: &Event) -> Result<(), String> {
        match self {
            Sink::Exec { command } => exec(command, ev).await,
            Sink::Forward { url, client } => forward(client, url, ev).await,
            Sink::Jsonl(j) => {
                let j = j.clone();
                let ev = ev.clone();
                tokio::task::spawn_blocking(move || j.append(&ev))
                    .await
                    .map_err(|e| format!("jsonl writer: {e}"))?
            }
            Sink::Hook { hook, .. } => {
                if !hook.wants(&ev.event_type) {
                    return Ok(());
                }
                let hook = hook.clone();
                let ev = ev.clone();
                tokio::task::spawn_blocking(move || hook.handle(&ev))
                    .await
                    .map_err(|e| format!("hook: {e}"))?
            }
        }
    }
}

async fn exec(command: &str, ev: &Event) -> Result<(), String> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("GHL_EVENT_ID", &ev.webhook_id)
        .env("GHL_EVENT_TYPE", &ev.event_type)
        .env(
            "GHL_EVENT_LOCATION",
            ev.location_id.as_deref().unwrap_or(""),
        )
        .env("GHL_EVENT_CONTACT", ev.contact_id.as_deref().unwrap_or(""))
        .env("GHL_EVENT_ATTEMPT", (ev.attempts + 1).to_string())
        // 1: taken over from a receiver that died holding it; it may have
        // reached this command already (check GHL_EVENT_ID).
        .env(
            "GHL_EVENT_REDELIVERY",
            if ev.redelivery { "1" } else { "0" },
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start `{command}`: {e}"))?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its input is fine.
            let _ = stdin.write_all(ev.body.as_bytes()).await;
        }
        let mut err = Vec::new();
        if let Some(stderr) = child.stderr.take() {
            let _ = stderr.take(64 * 1024).read_to_end(&mut err).await;
        }
        let status = child.wait().await.map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            let tail = tail_text(&err);
            Err(match status.code() {
                Some(c) => format!("exit status {c}{tail}"),
                None => format!("killed by a signal{tail}"),
            })
        }
    };
    match tokio::time::timeout(SINK_TIMEOUT, run).await {
        Ok(r) => r,
        Err(_) => Err(format!("timed out after {}s", SINK_TIMEOUT.as_secs())),
    }
}

fn tail_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let start = text
        .char_indices()
        .rev()
        .nth(ERROR_TAIL)
        .map(|(i, _)| i)
        .unwrap_or(0);
    format!(": {}", &text[start..])
}

async fn forward(client: &reqwest::Client, url: &str, ev: &Event) -> Result<(), String> {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-ghl-event-id", &ev.webhook_id)
        .header("x-ghl-redelivery", if ev.redelivery { "1" } else { "0" })
        .body(ev.body.clone())
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("POST {url}: HTTP {}", resp.status().as_u16()))
    }
}

/// Appends one compact JSON line per event, synced to disk before the event
/// counts as delivered. An event written just before a crash, but not yet
/// marked delivered in the spool, is not written twice: when the delivery
/// loop takes over a dead receiver's claims it names them, and those
/// already in the file's tail (written by this or another process sharing
/// the file) are skipped once (a later replay writes them again).
pub struct JsonlSink {
    target: Option<PathBuf>,
    state: Mutex<JsonlState>,
}

struct JsonlState {
    file: Option<std::fs::File>,
    seen: HashSet<String>,
}

impl JsonlSink {
    fn open(target: &str) -> Result<JsonlSink, String> {
        if target == "-" {
            return Ok(JsonlSink {
                target: None,
                state: Mutex::new(JsonlState {
                    file: None,
                    seen: HashSet::new(),
                }),
            });
        }
        let path = PathBuf::from(target);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("--jsonl {}: {e}", path.display()))?;
        end_last_line(&mut file).map_err(|e| format!("--jsonl {}: {e}", path.display()))?;
        Ok(JsonlSink {
            target: Some(path),
            state: Mutex::new(JsonlState {
                file: Some(file),
                seen: HashSet::new(),
            }),
        })
    }

    fn describe(&self) -> String {
        self.target
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into())
    }

    fn append(&self, ev: &Event) -> Result<(), String> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| "jsonl sink poisoned".to_string())?;
        if st.seen.remove(&ev.webhook_id) {
            return Ok(());
        }
        let mut line = serde_json::to_string(&ev.payload()).map_err(|e| e.to_string())?;
        line.push('\n');
        match st.file.as_mut() {
            Some(f) => {
                f.write_all(line.as_bytes())
                    .and_then(|_| f.sync_data())
                    .map_err(|e| format!("writing {}: {e}", self.describe()))?;
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(line.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(|e| format!("writing stdout: {e}"))?;
            }
        }
        Ok(())
    }

    /// Of `ids` (events taken over from a receiver that died holding them),
    /// remember those the file already holds, so each is skipped once.
    pub fn skip_if_written(&self, ids: &HashSet<String>) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        let Some(path) = &self.target else {
            return;
        };
        // Read through a handle of our own: the file may be shared with
        // other receivers appending to it.
        let found = std::fs::File::open(path).and_then(|mut f| ids_in_tail(&mut f));
        if let Ok(found) = found {
            st.seen = found.into_iter().filter(|id| ids.contains(id)).collect();
        }
    }
}

/// The `webhookId`s in the last part of an existing file.
fn ids_in_tail(file: &mut std::fs::File) -> std::io::Result<HashSet<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    let start = len.saturating_sub(JSONL_TAIL);
    file.seek(SeekFrom::Start(start))?;
    let mut buf = Vec::new();
    file.take(JSONL_TAIL).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.split('\n');
    if start > 0 {
        // The first line is cut in the middle.
        lines.next();
    }
    Ok(lines
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v.get("webhookId")
                .and_then(|i| i.as_str())
                .map(str::to_string)
        })
        .collect())
}

/// A line cut short by a crash gets its newline, so the next event starts a
/// line of its own.
fn end_last_line(file: &mut std::fs::File) -> std::io::Result<()> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(());
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    if last[0] != b'\n' {
        file.write_all(b"\n")?;
        file.sync_data()?;
    }
    Ok(())
}
