//! Files that steer where the token goes (the config file, the sandbox's
//! address file) are trusted only when nobody else could have written
//! them, as ssh does: owned by us (or root), not writable by group or
//! others, in a directory others cannot write (unless it is sticky, which
//! stops them replacing our file). And a lock for read-modify-write.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Our effective user id.
#[cfg(unix)]
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why `path` (with `meta`) could have been written by someone else, if it
/// could. `me` is our user id.
#[cfg(unix)]
pub fn untrusted_reason(path: &Path, me: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let owner_ok = |uid: u32| uid == me || uid == 0;
    if meta.file_type().is_symlink() {
        return Some(format!("{} is a symbolic link", path.display()));
    }
    if !meta.is_file() {
        return Some(format!("{} is not a regular file", path.display()));
    }
    if !owner_ok(meta.uid()) {
        return Some(format!(
            "{} is owned by another user (uid {})",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Some(format!(
            "others can write {} (mode {:o})",
            path.display(),
            meta.mode() & 0o777
        ));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dmeta = std::fs::metadata(dir).ok()?;
    if !owner_ok(dmeta.uid()) && dmeta.mode() & 0o1000 == 0 {
        return Some(format!(
            "its directory {} is owned by another user (uid {})",
            dir.display(),
            dmeta.uid()
        ));
    }
    if dmeta.mode() & 0o022 != 0 && dmeta.mode() & 0o1000 == 0 {
        return Some(format!(
            "others can write its directory {} (mode {:o}), so they could replace it",
            dir.display(),
            dmeta.mode() & 0o777
        ));
    }
    None
}

#[cfg(not(unix))]
pub fn untrusted_reason(_path: &Path, _me: u32) -> Option<String> {
    None
}

#[cfg(not(unix))]
pub fn euid() -> u32 {
    0
}

/// Refuse `path` when someone else could have written it.
pub fn check_trusted(path: &Path) -> Result<()> {
    match untrusted_reason(path, euid()) {
        None => Ok(()),
        Some(why) => Err(
            Error::config(format!("refusing to use {}: {why}", path.display())).with_hint(format!(
                "make it yours and private: chown $(id -u) {p} && chmod 600 {p} && chmod go-w {d}",
                p = path.display(),
                d = path
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| ".".into())
            )),
        ),
    }
}

/// Create `dir` (and missing parents) as 0700, so that a umask of 002
/// does not leave a directory the checks above would then refuse.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| Error::config(format!("cannot create {}: {e}", dir.display())))
}

/// An exclusive lock on `<path>.lock`, released when dropped.
pub struct FileLock {
    #[allow(dead_code)]
    file: std::fs::File,
}

/// Take the lock beside `path`, waiting up to `wait` for another process
/// (a concurrent `ghl setup`) to finish its read-modify-write.
pub fn lock_beside(path: &Path, wait: Duration) -> Result<FileLock> {
    let lock_path = path.with_extension("lock");
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = opts
        .open(&lock_path)
        .map_err(|e| Error::config(format!("cannot open {}: {e}", lock_path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let until = Instant::now() + wait;
        loop {
            // SAFETY: flock on a descriptor we own; no memory is involved.
            let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if r == 0 {
                break;
            }
            if Instant::now() >= until {
                return Err(Error::config(format!(
                    "another ghl is changing {}; gave up after {} s",
                    path.display(),
                    wait.as_secs()
                ))
                .with_hint("wait for the other `ghl setup` (or profiles/auth command) to finish, then try again"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    #[cfg(not(unix))]
    let _ = (wait, Instant::now());
    Ok(FileLock { file })
}
