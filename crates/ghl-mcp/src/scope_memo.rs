//! What the scope probes found, kept between starts: an assistant starts
//! `ghl mcp` for every conversation, and nine reads before the first
//! tools/list are most of its start-up. One small file per credential and
//! location, named by a digest (the token cannot be read back from it),
//! written 0600 in a private directory and ignored when anyone else could
//! have written it.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A memo younger than this is used as it is.
pub const FRESH: Duration = Duration::from_secs(10 * 60);
/// A memo older than [`FRESH`] but younger than this answers the first
/// tools/list while the probes run again behind it; older ones are not used.
pub const USABLE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Larger files are not ours: refuse rather than read them.
const MAX_BYTES: u64 = 64 * 1024;

/// Where one credential's memo lives.
#[derive(Debug, Clone)]
pub struct Memo {
    path: PathBuf,
}

/// What a memo said, and when the probes behind it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub probed_at: u64,
    pub missing: Vec<String>,
}

impl Remembered {
    pub fn now(missing: &HashSet<String>) -> Remembered {
        let mut missing: Vec<String> = missing.iter().cloned().collect();
        missing.sort();
        Remembered {
            probed_at: unix_now(),
            missing,
        }
    }

    pub fn age(&self) -> Duration {
        Duration::from_secs(unix_now().saturating_sub(self.probed_at))
    }
}

impl Memo {
    /// The memo for `key` (a digest of the credential and location) under
    /// `dir`.
    pub fn new(dir: &Path, key: &str) -> Memo {
        Memo {
            path: dir.join("mcp-scopes").join(format!("{key}.json")),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The memo when it exists, is ours, parses and is younger than
    /// [`USABLE`]; `None` otherwise (the caller probes).
    pub fn load(&self) -> Option<Remembered> {
        ghl_core::trust::check_trusted(&self.path).ok()?;
        let mut text = String::new();
        std::fs::File::open(&self.path)
            .ok()?
            .take(MAX_BYTES + 1)
            .read_to_string(&mut text)
            .ok()?;
        if text.len() as u64 > MAX_BYTES {
            return None;
        }
        let r: Remembered = serde_json::from_str(&text).ok()?;
        // A time in the future is a clock that moved or a planted file.
        (r.probed_at <= unix_now() && r.age() < USABLE).then_some(r)
    }

    /// Replace the memo (write beside, then rename). Failures are dropped:
    /// without a memo the next start probes, as it would have anyway.
    pub fn save(&self, r: &Remembered) {
        let _ = self.try_save(r);
    }

    fn try_save(&self, r: &Remembered) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        ghl_core::trust::create_private_dir(dir).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            self.path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("memo"),
            std::process::id()
        ));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let _ = std::fs::remove_file(&tmp);
        let mut f = opts.open(&tmp)?;
        f.write_all(&serde_json::to_vec(r).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &self.path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
