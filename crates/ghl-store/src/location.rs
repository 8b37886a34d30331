//! Which store to open: `GHL_STORE_URL` (or `--store`) names it; without one,
//! a SQLite file in ghl's data directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Selects the store for every plane: `postgres://…` or a SQLite path.
pub const ENV_STORE_URL: &str = "GHL_STORE_URL";
/// Overrides ghl's data directory (tests, several setups side by side).
pub const ENV_DATA_DIR: &str = "GHL_DATA_DIR";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreUrl {
    /// `postgres://…`/`postgresql://…`, `sqlite:PATH`, or a plain path.
    pub fn parse(s: &str) -> Result<StoreUrl> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::Config("the store URL is empty".into()));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(StoreUrl::Postgres(s.to_string()));
        }
        if let Some(p) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            return Ok(StoreUrl::Sqlite(PathBuf::from(p)));
        }
        if s.contains("://") {
            return Err(Error::Config(format!(
                "unknown store URL scheme in {}; use postgres://… or a file path",
                redact(s)
            )));
        }
        Ok(StoreUrl::Sqlite(PathBuf::from(s)))
    }

    /// An explicit URL (flag), else `GHL_STORE_URL`, else the SQLite file
    /// `name.db` in ghl's data directory.
    pub fn resolve(explicit: Option<&str>, name: &str) -> Result<StoreUrl> {
        if let Some(u) = explicit.filter(|u| !u.trim().is_empty()) {
            return StoreUrl::parse(u);
        }
        if let Ok(u) = std::env::var(ENV_STORE_URL)
            && !u.trim().is_empty()
        {
            return StoreUrl::parse(&u);
        }
        Ok(StoreUrl::Sqlite(default_dir().join(format!("{name}.db"))))
    }

    /// For messages: a Postgres URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreUrl::Sqlite(p) => p.display().to_string(),
            StoreUrl::Postgres(u) => redact(u),
        }
    }
}

/// `$GHL_DATA_DIR`, else `<XDG data dir>/ghl`.
pub fn default_dir() -> PathBuf {
    if let Some(p) = std::env::var_os(ENV_DATA_DIR).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match directories::ProjectDirs::from("", "", "ghl") {
        Some(d) => d.data_dir().to_path_buf(),
        None => PathBuf::from(".ghl"),
    }
}

fn redact(url: &str) -> String {
    // scheme://user:password@host → scheme://user:***@host
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Create the store's directory 0700 when missing, and refuse a directory
/// or file that another user owns or that others may write: what ghl keeps
/// holds personal data and must not be planted.
pub(crate) fn prepare_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", dir.display())))?;
        }
        let meta = std::fs::metadata(dir)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", dir.display())))?;
        check_owner(dir, meta.uid(), meta.mode(), true)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if meta.file_type().is_symlink() {
                return Err(Error::Config(format!(
                    "{} is a symbolic link; refusing to open it as the store",
                    path.display()
                )));
            }
            check_owner(path, meta.uid(), meta.mode(), false)
        }
        Err(_) => {
            // Created now, private from the first byte.
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map(|_| ())
                .map_err(|e| Error::Config(format!("cannot create {}: {e}", path.display())))
        }
    }
}

fn check_owner(path: &Path, uid: u32, mode: u32, is_dir: bool) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if uid != me {
        return Err(Error::Config(format!(
            "{} belongs to another user (uid {uid}); refusing to use it",
            path.display()
        )));
    }
    // Sticky shared directories like /tmp are fine for the parent only when
    // we own the file itself; a writable-by-others store is not.
    let sticky = is_dir && mode & 0o1000 != 0;
    if mode & 0o022 != 0 && !sticky {
        return Err(Error::Config(format!(
            "{} can be written by other users (mode {:o}); run chmod go-w on it",
            path.display(),
            mode & 0o777
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms() {
        assert_eq!(
            StoreUrl::parse("postgres://u:p@h/db").unwrap(),
            StoreUrl::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            StoreUrl::parse("sqlite:/x/y.db").unwrap(),
            StoreUrl::Sqlite("/x/y.db".into())
        );
        assert_eq!(
            StoreUrl::parse("/x/y.db").unwrap(),
            StoreUrl::Sqlite("/x/y.db".into())
        );
        assert!(StoreUrl::parse("mysql://h").is_err());
        assert!(StoreUrl::parse(" ").is_err());
    }

    #[test]
    fn password_never_described() {
        let u = StoreUrl::parse("postgres://ghl:hunter2@db.local:5432/ghl").unwrap();
        assert!(!u.describe().contains("hunter2"), "{}", u.describe());
        // No password: nothing to hide, nothing suggested.
        let u = StoreUrl::parse("postgres://ghl@db.local/ghl").unwrap();
        assert_eq!(u.describe(), "postgres://ghl@db.local/ghl");
    }
}
