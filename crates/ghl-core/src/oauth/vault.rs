//! Where grants are kept. [`FileVault`] is one private file per location or
//! company in a private directory; the CLI puts the OS keyring in front of
//! it when there is one. A file that others could read, or could have
//! planted (another owner, group/world write, a symlink), is refused.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::oauth::grant::{OAuthGrant, Resource};

/// A store of grants, one per [`Resource`]. `save` is durable on return.
pub trait TokenVault: Send + Sync {
    fn load(&self, resource: &Resource) -> Result<Option<OAuthGrant>>;
    fn save(&self, resource: &Resource, grant: &OAuthGrant) -> Result<()>;
    /// `Ok(false)` when there was nothing to remove.
    fn remove(&self, resource: &Resource) -> Result<bool>;
    /// Where grants go, in words (for messages).
    fn describe(&self) -> String;

    /// The vault's own lock for refreshing `resource` one process at a
    /// time, when processes on several machines share it (a store): held
    /// until the guard drops. `None`, the default: the session's file lock
    /// serves. Blocking: call it from blocking code.
    fn refresh_lock(&self, _resource: &Resource) -> Result<Option<RefreshGuard>> {
        Ok(None)
    }
}

/// A held refresh lock of a vault; dropping it lets the next refresher in.
pub struct RefreshGuard(pub Box<dyn Send>);

/// Largest token file read (a grant is well under 4 KiB).
const MAX_FILE: u64 = 64 * 1024;

pub struct FileVault {
    dir: PathBuf,
}

impl FileVault {
    pub fn new(dir: impl Into<PathBuf>) -> FileVault {
        FileVault { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, resource: &Resource) -> PathBuf {
        self.dir.join(format!("{}.json", resource.key()))
    }
}

impl TokenVault for FileVault {
    fn load(&self, resource: &Resource) -> Result<Option<OAuthGrant>> {
        let path = self.path(resource);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cannot("read", &path, e)),
        };
        check_dir(&self.dir)?;
        check_private_file(&path, &meta)?;
        let mut text = String::new();
        open_nofollow(&path)?
            .take(MAX_FILE)
            .read_to_string(&mut text)
            .map_err(|e| cannot("read", &path, e))?;
        OAuthGrant::from_json(&text)
            .map(Some)
            .map_err(|e| e.with_hint(format!("remove {} and sign in again", path.display())))
    }

    fn save(&self, resource: &Resource, grant: &OAuthGrant) -> Result<()> {
        ensure_private_dir(&self.dir)?;
        let path = self.path(resource);
        write_atomic(&path, grant.to_json().as_bytes())
    }

    fn remove(&self, resource: &Resource) -> Result<bool> {
        let path = self.path(resource);
        match std::fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(cannot("remove", &path, e)),
        }
    }

    fn describe(&self) -> String {
        format!("{} (files mode 0600)", self.dir.display())
    }
}

fn cannot(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::config(format!("cannot {what} {}: {e}", path.display()))
}

/// Create the directory 0700 if needed, then insist it is private.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(dir).map_err(|e| cannot("create", dir, e))?;
    }
    check_dir(dir)
}

#[cfg(unix)]
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The token directory must be ours and closed to others: anyone who can
/// write it can swap a token file, anyone who can list it learns the ids.
#[cfg(unix)]
pub fn check_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).map_err(|e| cannot("read", dir, e))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(Error::config(format!(
            "{} is not a plain directory; refusing to keep tokens there",
            dir.display()
        )));
    }
    if meta.uid() != euid() {
        return Err(Error::config(format!(
            "{} belongs to another user (uid {}); refusing to keep tokens there",
            dir.display(),
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "{} holds tokens but other users can reach it (mode {mode:o})",
            dir.display()
        ))
        .with_hint(format!("run: chmod 700 {}", dir.display())));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn check_private_file(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(Error::config(format!(
            "{} is not a plain file; refusing to read tokens from it",
            path.display()
        )));
    }
    if meta.uid() != euid() {
        return Err(Error::config(format!(
            "{} belongs to another user (uid {}); refusing to read tokens from it",
            path.display(),
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "{} holds tokens but can be read or written by others (mode {mode:o})",
            path.display()
        ))
        .with_hint(format!("run: chmod 600 {}", path.display())));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_file(_path: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

fn open_nofollow(path: &Path) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    o.open(path).map_err(|e| cannot("read", path, e))
}

/// Write a new file beside `path`, fsync it, rename it over `path`, fsync
/// the directory: after a crash the old contents or the new, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let mut o = std::fs::OpenOptions::new();
    // A fresh name, created here: nothing planted can receive the tokens.
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let written = o.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(cannot("write", &tmp, e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(cannot("write", path, e));
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| cannot("sync", dir, e))?;
    }
    let _ = dir;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use std::os::unix::fs::PermissionsExt;

    fn grant() -> OAuthGrant {
        let body = serde_json::json!({"access_token": "acc-aaaaaaaaaaaaaaaa", "refresh_token": "ref-bbbbbbbbbbbbbbbb",
            "expires_in": 100, "userType": "Location", "locationId": "LOC1"});
        OAuthGrant::from_response(&body, "app-x", &Secret::new("sec-cccccccccccc"), 5).unwrap()
    }

    #[test]
    fn saves_private_and_refuses_what_others_can_touch() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("oauth");
        let v = FileVault::new(&dir);
        let r = Resource::location("LOC1").unwrap();
        assert!(v.load(&r).unwrap().is_none());
        v.save(&r, &grant()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&v.path(&r)), 0o600);
        assert_eq!(v.load(&r).unwrap().unwrap(), grant());
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

        std::fs::set_permissions(v.path(&r), std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = v.load(&r).unwrap_err();
        assert!(e.message.contains("read or written by others"), "{e}");
        std::fs::set_permissions(v.path(&r), std::fs::Permissions::from_mode(0o600)).unwrap();

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(v.load(&r).is_err());
        assert!(v.save(&r, &grant()).is_err());
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

        // A planted symlink is not followed.
        let elsewhere = tmp.path().join("planted.json");
        std::fs::write(&elsewhere, grant().to_json()).unwrap();
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
        let other = Resource::location("LOC2").unwrap();
        std::os::unix::fs::symlink(&elsewhere, v.path(&other)).unwrap();
        assert!(v.load(&other).is_err());

        assert!(v.remove(&r).unwrap());
        assert!(!v.remove(&r).unwrap());
        assert!(v.load(&r).unwrap().is_none());
    }
}
