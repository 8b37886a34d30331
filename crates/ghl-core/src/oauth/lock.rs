//! The cross-process refresh lock: an exclusive `flock` on
//! `<dir>/<resource>.lock`. The kernel drops it when the holder exits, even
//! by SIGKILL, so a crashed refresher never leaves the others waiting.
//! A vault shared by several machines brings its own lock instead
//! ([`crate::oauth::TokenVault::refresh_lock`]).

use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, Result};
use crate::oauth::grant::Resource;
use crate::oauth::vault::{RefreshGuard, TokenVault, ensure_private_dir};

/// Longest wait for another process's refresh (HighLevel answers a refresh
/// in well under a second; the transport gives up on a response after 60 s).
const MAX_WAIT: Duration = Duration::from_secs(120);

/// Held while it lives; dropping it unlocks.
#[derive(Debug)]
pub struct RefreshLock {
    _file: File,
}

impl RefreshLock {
    /// Wait for the lock, up to two minutes (blocks the thread: call from
    /// blocking code).
    pub fn acquire_blocking(dir: &Path, resource: &Resource) -> Result<RefreshLock> {
        ensure_private_dir(dir)?;
        let path = dir.join(format!("{}.lock", resource.key()));
        let mut o = std::fs::OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = o.open(&path).map_err(|e| {
            Error::config(format!(
                "cannot open the refresh lock {}: {e}",
                path.display()
            ))
        })?;
        // Polled rather than blocking, so a holder that hangs (a refresh
        // stuck on the network) cannot hold every other process forever.
        let deadline = Instant::now() + MAX_WAIT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(RefreshLock { _file: file }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "another process has been refreshing the OAuth token for {resource} for over {} s",
                            MAX_WAIT.as_secs()
                        ),
                    )
                    .with_hint(format!(
                        "if no other ghl is running, try again; the lock is {}",
                        path.display()
                    )));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::config(format!(
                        "cannot lock {}: {e}",
                        path.display()
                    )));
                }
            }
        }
    }

    /// Wait for the lock without holding up the async runtime.
    pub async fn acquire(dir: &Path, resource: &Resource) -> Result<RefreshLock> {
        let dir = dir.to_path_buf();
        let resource = resource.clone();
        tokio::task::spawn_blocking(move || Self::acquire_blocking(&dir, &resource))
            .await
            .map_err(|e| Error::config(format!("the refresh lock task failed: {e}")))?
    }
}

/// Whichever lock keeps refreshes of one grant to one at a time.
pub enum Held {
    File(RefreshLock),
    Vault(RefreshGuard),
}

impl Held {
    /// The vault's lock when it has one, else the file lock in `dir`.
    pub fn acquire_blocking(
        vault: &dyn TokenVault,
        dir: &Path,
        resource: &Resource,
    ) -> Result<Held> {
        match vault.refresh_lock(resource)? {
            Some(g) => Ok(Held::Vault(g)),
            None => RefreshLock::acquire_blocking(dir, resource).map(Held::File),
        }
    }

    /// As [`Held::acquire_blocking`], without holding up the async runtime.
    pub async fn acquire(
        vault: Arc<dyn TokenVault>,
        dir: &Path,
        resource: &Resource,
    ) -> Result<Held> {
        let dir = dir.to_path_buf();
        let resource = resource.clone();
        tokio::task::spawn_blocking(move || Self::acquire_blocking(vault.as_ref(), &dir, &resource))
            .await
            .map_err(|e| Error::config(format!("the refresh lock task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn one_holder_at_a_time() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("oauth");
        let r = Resource::location("LOC1").unwrap();
        let first = RefreshLock::acquire_blocking(&dir, &r).unwrap();
        let got = Arc::new(AtomicBool::new(false));
        let (d2, r2, g2) = (dir.clone(), r.clone(), got.clone());
        let waiter = std::thread::spawn(move || {
            let _second = RefreshLock::acquire_blocking(&d2, &r2).unwrap();
            g2.store(true, Ordering::SeqCst);
        });
        std::thread::sleep(Duration::from_millis(200));
        assert!(!got.load(Ordering::SeqCst), "the lock was taken twice");
        drop(first);
        waiter.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
        // Another resource has its own lock.
        let _other =
            RefreshLock::acquire_blocking(&dir, &Resource::company("C1").unwrap()).unwrap();
    }
}
