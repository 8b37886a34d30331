//! Where credentials and settings come from: flags over environment over the
//! selected profile of the config file. The file holds secrets, so it is
//! written 0600 and refused when group or others can read it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::transport::DEFAULT_BASE_URL;

pub const ENV_TOKEN: &str = "HIGHLEVEL_TOKEN";
pub const ENV_LOCATION: &str = "HIGHLEVEL_LOCATION_ID";
pub const ENV_BASE_URL: &str = "GHL_BASE_URL";
pub const ENV_PROFILE: &str = "GHL_PROFILE";
pub const ENV_COMPANY: &str = "HIGHLEVEL_COMPANY_ID";
/// `agency` marks `HIGHLEVEL_TOKEN` as an agency token.
pub const ENV_TOKEN_KIND: &str = "HIGHLEVEL_TOKEN_KIND";
/// Overrides the config file's path (tests, several setups side by side).
pub const ENV_CONFIG: &str = "GHL_CONFIG";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    /// The token, when it is kept in this file rather than the OS keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `keyring` when the token is in the OS keyring under this profile's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_store: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    /// True when the token is an agency token: sub-account operations then
    /// run with location tokens minted from it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub agency: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The location's name, as last seen by `ghl setup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_name: Option<String>,
    /// Set when the profile acts as a signed-in marketplace app (`ghl auth
    /// login`): its tokens are in the OAuth vault under its location (or
    /// company), not in `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthProfile>,
}

/// A marketplace app's sign-in, as a profile remembers it (no secrets).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OAuthProfile {
    pub client_id: String,
    /// `Location` or `Company`.
    pub user_type: String,
    /// Signed in against the embedded sandbox: usable only with `--sandbox`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sandbox: bool,
}

/// `token_store` value for a token kept in the OS keyring.
pub const STORE_KEYRING: &str = "keyring";

impl ConfigFile {
    /// Add or replace a profile; it becomes the default when there is none
    /// yet (or the old default no longer exists). Returns whether it did.
    pub fn set_profile(&mut self, name: &str, profile: Profile) -> bool {
        self.profiles.insert(name.to_string(), profile);
        let needs_default = match &self.default_profile {
            None => true,
            Some(d) => !self.profiles.contains_key(d),
        };
        if needs_default {
            self.default_profile = Some(name.to_string());
        }
        needs_default
    }

    /// Remove a profile; the default is cleared when it was this one.
    pub fn remove_profile(&mut self, name: &str) -> Option<Profile> {
        let removed = self.profiles.remove(name)?;
        if self.default_profile.as_deref() == Some(name) {
            self.default_profile = None;
        }
        Some(removed)
    }

    /// Make an existing profile the default.
    pub fn use_profile(&mut self, name: &str) -> Result<()> {
        if !self.profiles.contains_key(name) {
            return Err(unknown_profile(name, self));
        }
        self.default_profile = Some(name.to_string());
        Ok(())
    }
}

impl Profile {
    /// Whether the token lives in the OS keyring rather than this file.
    pub fn in_keyring(&self) -> bool {
        self.token_store.as_deref() == Some(STORE_KEYRING)
    }
}

fn unknown_profile(name: &str, file: &ConfigFile) -> Error {
    let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
    Error::config(format!("no profile named {name}")).with_hint(if known.is_empty() {
        "run `ghl setup` to create one".to_string()
    } else {
        format!("known profiles: {}", known.join(", "))
    })
}

/// Profile names are keys in the file and in the keyring: letters, digits,
/// `-`, `_` and `.`, up to 64 characters.
pub fn validate_profile_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(
            Error::validation(format!("{name:?} is not a usable profile name")).with_hint(
                "use letters, digits, '-', '_' or '.', up to 64 characters (e.g. acme-dental)",
            ),
        )
    }
}

/// Where the OS keyring is reached; tests and headless boxes use none.
pub trait TokenStore {
    fn get(&self, profile: &str) -> Option<Secret>;
}

pub struct NoKeyring;

impl TokenStore for NoKeyring {
    fn get(&self, _profile: &str) -> Option<Secret> {
        None
    }
}

/// `$GHL_CONFIG`, else `<XDG config dir>/ghl/config.toml`.
pub fn config_path() -> PathBuf {
    if let Some(p) = std::env::var_os(ENV_CONFIG).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    directories::ProjectDirs::from("", "", "ghl")
        .map(|d| d.config_dir().join("config.toml"))
        .unwrap_or_else(|| PathBuf::from(".ghl-config.toml"))
}

/// Read the config file; `None` when there is none yet.
pub fn load(path: &Path) -> Result<Option<ConfigFile>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    check_private(path, &meta)?;
    crate::trust::check_trusted(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        Error::config(format!("{} is not valid: {}", path.display(), e.message()))
            .with_hint("fix it by hand, or remove it and run `ghl setup`")
    })?;
    Ok(Some(file))
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "{} holds secrets but can be read by others (mode {mode:o})",
            path.display()
        ))
        .with_hint(format!("run: chmod 600 {}", path.display())));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

/// Hold this across a read-modify-write of the config file: concurrent
/// `ghl setup` runs otherwise drop each other's profiles.
pub fn lock(path: &Path) -> Result<crate::trust::FileLock> {
    crate::trust::lock_beside(path, std::time::Duration::from_secs(30))
}

/// Write the config file atomically, readable by its owner only: a crash or
/// Ctrl-C midway leaves the old file whole.
pub fn save(path: &Path, file: &ConfigFile) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::trust::create_private_dir(dir)?;
    let text = toml::to_string_pretty(file)
        .map_err(|e| Error::config(format!("cannot encode config: {e}")))?;
    let tmp = dir.join(format!(".config.toml.{}.tmp", std::process::id()));
    write_private(&tmp, text.as_bytes())?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::config(format!("cannot write {}: {e}", path.display()))
    })
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    // A leftover file (a crash, a reused pid) or a planted symlink must not
    // receive the token: remove it and insist on creating a new file.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::config(format!(
                "cannot replace {}: {e}",
                path.display()
            )));
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))
}

/// Values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub token: Option<Secret>,
    pub location_id: Option<String>,
    pub company_id: Option<String>,
    /// The token is an agency token (`--agency`).
    pub agency: bool,
    pub base_url: Option<String>,
    pub profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Source {
    Flag,
    Env(String),
    Profile(String),
    Keyring(String),
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag => f.write_str("command-line flag"),
            Source::Env(v) => write!(f, "environment ({v})"),
            Source::Profile(p) => write!(f, "profile {p}"),
            Source::Keyring(p) => write!(f, "OS keyring (profile {p})"),
            Source::Default => f.write_str("default"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub token: Option<Secret>,
    pub location_id: Option<String>,
    pub company_id: Option<String>,
    /// The token is an agency token (flag, environment or profile).
    pub agency: bool,
    pub base_url: String,
    /// The profile in use, if any.
    pub profile: Option<String>,
    /// Where each of `token`, `location_id`, `base_url`, `profile` came from.
    pub sources: BTreeMap<&'static str, Source>,
    /// The profile's OAuth sign-in, when no token came from a flag, the
    /// environment or the profile itself: requests then use its tokens.
    pub oauth: Option<OAuthProfile>,
}

/// Combine flags, environment and profile, in that order of precedence.
pub fn resolve(
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<&ConfigFile>,
    keyring: &dyn TokenStore,
) -> Result<Resolved> {
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let mut sources = BTreeMap::new();
    let (profile_name, profile_source) = match (
        &flags.profile,
        env(ENV_PROFILE),
        file.and_then(|f| f.default_profile.clone()),
    ) {
        (Some(p), _, _) => (Some(p.clone()), Source::Flag),
        (None, Some(p), _) => (Some(p), Source::Env(ENV_PROFILE.into())),
        (None, None, Some(p)) => (Some(p), Source::Default),
        _ => (None, Source::Default),
    };
    let profile = match &profile_name {
        Some(name) => match file.and_then(|f| f.profiles.get(name)) {
            Some(p) => Some(p),
            None if flags.profile.is_some() || env(ENV_PROFILE).is_some() => {
                let known: Vec<&str> = file
                    .map(|f| f.profiles.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(Error::config(format!("no profile named {name}")).with_hint(
                    if known.is_empty() {
                        "run `ghl setup` to create one".to_string()
                    } else {
                        format!("known profiles: {}", known.join(", "))
                    },
                ));
            }
            None => None,
        },
        None => None,
    };
    if let Some(name) = &profile_name
        && profile.is_some()
    {
        sources.insert("profile", profile_source);
        let _ = name;
    }
    let pname = profile_name.clone().filter(|_| profile.is_some());

    let token = if let Some(t) = &flags.token {
        sources.insert("token", Source::Flag);
        Some(t.clone())
    } else if let Some(t) = env(ENV_TOKEN) {
        sources.insert("token", Source::Env(ENV_TOKEN.into()));
        Some(Secret::new(t))
    } else if let (Some(p), Some(name)) = (profile, &pname) {
        if let Some(t) = p.token.as_deref().filter(|t| !t.is_empty()) {
            sources.insert("token", Source::Profile(name.clone()));
            Some(Secret::new(t))
        } else if let Some(t) = keyring.get(name) {
            sources.insert("token", Source::Keyring(name.clone()));
            Some(t)
        } else {
            None
        }
    } else {
        None
    };

    let pick = |flag: &Option<String>,
                var: &str,
                from_profile: Option<&String>,
                key: &'static str,
                sources: &mut BTreeMap<&'static str, Source>| {
        if let Some(v) = flag {
            sources.insert(key, Source::Flag);
            Some(v.clone())
        } else if let Some(v) = env(var) {
            sources.insert(key, Source::Env(var.into()));
            Some(v)
        } else if let (Some(v), Some(name)) = (from_profile, &pname) {
            sources.insert(key, Source::Profile(name.clone()));
            Some(v.clone())
        } else {
            None
        }
    };
    let location_id = pick(
        &flags.location_id,
        ENV_LOCATION,
        profile.and_then(|p| p.location_id.as_ref()),
        "location_id",
        &mut sources,
    );
    let base_url = pick(
        &flags.base_url,
        ENV_BASE_URL,
        profile.and_then(|p| p.base_url.as_ref()),
        "base_url",
        &mut sources,
    )
    .unwrap_or_else(|| {
        sources.insert("base_url", Source::Default);
        DEFAULT_BASE_URL.to_string()
    });
    let company_id = pick(
        &flags.company_id,
        ENV_COMPANY,
        profile.and_then(|p| p.company_id.as_ref()),
        "company_id",
        &mut sources,
    );
    // The kind goes with the token: from wherever the token came.
    let agency = match sources.get("token") {
        Some(Source::Flag) => flags.agency,
        Some(Source::Env(_)) => {
            flags.agency || env(ENV_TOKEN_KIND).is_some_and(|k| k.eq_ignore_ascii_case("agency"))
        }
        _ => flags.agency || profile.is_some_and(|p| p.agency),
    };
    let oauth = match token {
        None => profile.and_then(|p| p.oauth.clone()),
        Some(_) => None,
    };
    Ok(Resolved {
        token,
        location_id,
        company_id,
        agency,
        base_url,
        profile: pname,
        sources,
        oauth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ConfigFile {
        let mut f = ConfigFile {
            default_profile: Some("main".into()),
            ..Default::default()
        };
        f.profiles.insert(
            "main".into(),
            Profile {
                token: Some("pit-profile-token-000000".into()),
                location_id: Some("LOCPROFILE".into()),
                ..Default::default()
            },
        );
        f.profiles.insert(
            "other".into(),
            Profile {
                token: Some("pit-other".into()),
                location_id: Some("LOCOTHER".into()),
                ..Default::default()
            },
        );
        f
    }

    #[test]
    fn flags_over_env_over_profile() {
        let f = file();
        let env = |k: &str| match k {
            ENV_LOCATION => Some("LOCENV".to_string()),
            _ => None,
        };
        let r = resolve(&Overrides::default(), &env, Some(&f), &NoKeyring).unwrap();
        assert_eq!(r.location_id.as_deref(), Some("LOCENV"));
        assert_eq!(r.token.unwrap().expose(), "pit-profile-token-000000");
        assert_eq!(r.sources["token"], Source::Profile("main".into()));
        let flags = Overrides {
            location_id: Some("LOCFLAG".into()),
            profile: Some("other".into()),
            ..Default::default()
        };
        let r = resolve(&flags, &env, Some(&f), &NoKeyring).unwrap();
        assert_eq!(r.location_id.as_deref(), Some("LOCFLAG"));
        assert_eq!(r.token.unwrap().expose(), "pit-other");
        let bad = Overrides {
            profile: Some("nope".into()),
            ..Default::default()
        };
        assert!(resolve(&bad, &env, Some(&f), &NoKeyring).is_err());
    }

    #[test]
    fn profile_helpers_keep_the_default_sound() {
        let mut f = ConfigFile::default();
        assert!(f.set_profile("a", Profile::default()));
        assert!(!f.set_profile("b", Profile::default()));
        assert_eq!(f.default_profile.as_deref(), Some("a"));
        f.use_profile("b").unwrap();
        assert!(f.use_profile("zzz").is_err());
        assert!(f.remove_profile("b").is_some());
        assert_eq!(f.default_profile, None);
        assert!(f.set_profile("c", Profile::default()));
        assert!(validate_profile_name("acme-dental_2.x").is_ok());
        for bad in ["", "..", "a b", "a/b", "é"] {
            assert!(validate_profile_name(bad).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn loose_permissions_are_refused_and_saves_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ghl/config.toml");
        save(&path, &file()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(&path).unwrap().unwrap(), file());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(&path).unwrap_err();
        assert!(err.message.contains("read by others"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_a_save_creates_is_private_and_a_shared_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/config.toml");
        save(&path, &file()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert!(load(&path).is_ok());
        std::fs::set_permissions(
            path.parent().unwrap(),
            std::fs::Permissions::from_mode(0o775),
        )
        .unwrap();
        let err = load(&path).unwrap_err();
        assert!(err.message.contains("others can write"), "{err}");
    }
}
