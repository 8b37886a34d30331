//! Where a profile's token is kept: the OS keyring when there is one, else
//! the 0600 config file. Only this module decides, so `setup`, `auth` and
//! `profiles` agree on it.

use std::path::Path;

use ghl_core::config::{self, ConfigFile, Profile, STORE_KEYRING};
use ghl_core::{Error, Secret};

use crate::keyring_store::OsKeyring;

/// Where a token ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Keyring,
    /// In the config file; `why` says why the keyring was not used.
    File {
        why: String,
    },
}

impl Placement {
    pub fn describe(&self, path: &Path) -> String {
        match self {
            Placement::Keyring => format!(
                "{} (service \"{}\")",
                OsKeyring::label(),
                crate::keyring_store::SERVICE
            ),
            Placement::File { .. } => format!("{} (mode 0600)", path.display()),
        }
    }
}

/// Put `token` on profile `name`: into the keyring when it takes it, else
/// into the profile itself (saved with the file). Touches the keyring at
/// once, so call it just before `config::save`.
pub fn place_token(name: &str, profile: &mut Profile, token: &Secret) -> Placement {
    match OsKeyring::set(name, token) {
        Ok(()) => {
            profile.token = None;
            profile.token_store = Some(STORE_KEYRING.to_string());
            Placement::Keyring
        }
        Err(why) => {
            if profile.in_keyring() {
                // A stale keyring copy must not shadow the new token.
                let _ = OsKeyring::delete(name);
            }
            profile.token = Some(token.expose().to_string());
            profile.token_store = None;
            Placement::File { why }
        }
    }
}

/// Remove profile `name`'s token from wherever it is. Returns where it was,
/// or `None` when it had none.
pub fn remove_token(
    name: &str,
    profile: &mut Profile,
    path: &Path,
) -> Result<Option<String>, Error> {
    let mut removed = None;
    if profile.in_keyring() {
        match OsKeyring::delete(name) {
            Ok(true) => removed = Some(OsKeyring::label().to_string()),
            Ok(false) => {}
            Err(why) => {
                return Err(Error::config(format!(
                    "cannot remove the token of profile {name} from the keyring: {why}"
                ))
                .with_hint("unlock the keyring and run the command again"));
            }
        }
        profile.token_store = None;
    }
    if profile.token.take().is_some() {
        removed = Some(path.display().to_string());
    }
    Ok(removed)
}

/// Where profile `name` keeps its token, in words.
pub fn where_stored(profile: &Profile, path: &Path) -> String {
    if profile.token.as_deref().is_some_and(|t| !t.is_empty()) {
        format!("config file {}", path.display())
    } else if profile.in_keyring() {
        OsKeyring::label().to_string()
    } else {
        "nowhere (no token saved)".to_string()
    }
}

/// The config file, or an empty one when there is none yet.
pub fn load_or_default(path: &Path) -> Result<ConfigFile, Error> {
    Ok(config::load(path)?.unwrap_or_default())
}

/// A profile that must exist.
pub fn profile<'a>(file: &'a ConfigFile, name: &str) -> Result<&'a Profile, Error> {
    file.profiles.get(name).ok_or_else(|| unknown(file, name))
}

pub fn profile_mut<'a>(file: &'a mut ConfigFile, name: &str) -> Result<&'a mut Profile, Error> {
    if !file.profiles.contains_key(name) {
        return Err(unknown(file, name));
    }
    file.profiles
        .get_mut(name)
        .ok_or_else(|| Error::config(format!("no profile named {name}")))
}

fn unknown(file: &ConfigFile, name: &str) -> Error {
    let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
    Error::config(format!("no profile named {name}")).with_hint(if known.is_empty() {
        "run `ghl setup` to create one".to_string()
    } else {
        format!("known profiles: {}", known.join(", "))
    })
}

/// The profile a command acts on: `--profile`, `GHL_PROFILE`, the default.
pub fn selected_name(flag: Option<&str>, file: &ConfigFile) -> Result<String, Error> {
    let env = std::env::var(config::ENV_PROFILE)
        .ok()
        .filter(|v| !v.trim().is_empty());
    flag.map(str::to_string)
        .or(env)
        .or_else(|| file.default_profile.clone())
        .ok_or_else(|| {
            Error::config("no profile is selected and there is no default")
                .with_hint("run `ghl setup`, or pass --profile NAME")
        })
}
