//! The OS keyring as a token store: macOS Keychain, Windows Credential
//! Manager, the Secret Service (GNOME Keyring, KWallet) on Linux, through the
//! `keyring` crate's v1 interface. Headless boxes usually have none; then
//! tokens live in the 0600 config file instead, and callers say so.
//!
//! `GHL_KEYRING=off` skips the keyring entirely (tests, CI, people who prefer
//! the file).

use ghl_core::Secret;
use ghl_core::config::TokenStore;

/// The keyring "service" every entry is filed under; the profile name is
/// the entry's user.
pub const SERVICE: &str = "ghl";
/// Set to `off` (or `0`, `false`, `no`) to never touch the OS keyring.
pub const ENV_KEYRING: &str = "GHL_KEYRING";

pub struct OsKeyring;

impl OsKeyring {
    /// Why the keyring cannot be used, or `None` when it can.
    pub fn unavailable() -> Option<String> {
        if disabled() {
            return Some(format!("{ENV_KEYRING}=off"));
        }
        match keyring::Entry::store_status() {
            Ok(()) => None,
            Err(keyring::Error::NoDefaultStore) => Some("no OS keyring on this system".into()),
            Err(e) => Some(format!("no OS keyring is reachable ({})", describe(e))),
        }
    }

    /// Store the token for `profile`. The error says why, in a few words.
    pub fn set(profile: &str, token: &Secret) -> Result<(), String> {
        if let Some(why) = Self::unavailable() {
            return Err(why);
        }
        let entry = keyring::Entry::new(SERVICE, profile).map_err(|e| describe(&e))?;
        entry
            .set_password(token.expose())
            .map_err(|e| describe(&e))?;
        // Read it back: some stores accept a write they cannot serve.
        match entry.get_password() {
            Ok(back) if back == token.expose() => Ok(()),
            Ok(_) => Err("the keyring returned a different value".into()),
            Err(e) => Err(describe(&e)),
        }
    }

    /// Remove the token for `profile`; `Ok(false)` when there was none.
    pub fn delete(profile: &str) -> Result<bool, String> {
        if let Some(why) = Self::unavailable() {
            return Err(why);
        }
        let entry = keyring::Entry::new(SERVICE, profile).map_err(|e| describe(&e))?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(describe(&e)),
        }
    }

    /// A human name for where keyring tokens go on this system.
    pub fn label() -> &'static str {
        if cfg!(target_os = "macos") {
            "macOS Keychain"
        } else if cfg!(target_os = "windows") {
            "Windows Credential Manager"
        } else {
            "OS keyring (Secret Service)"
        }
    }
}

impl TokenStore for OsKeyring {
    fn get(&self, profile: &str) -> Option<Secret> {
        if Self::unavailable().is_some() {
            return None;
        }
        let entry = keyring::Entry::new(SERVICE, profile).ok()?;
        entry
            .get_password()
            .ok()
            .map(Secret::new)
            .filter(|s| !s.is_empty())
    }
}

fn disabled() -> bool {
    std::env::var(ENV_KEYRING).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "0" | "false" | "no"
        )
    })
}

/// Keyring errors can be long platform messages; keep them to one line.
fn describe(e: &keyring::Error) -> String {
    let text = match e {
        keyring::Error::NoDefaultStore => "no OS keyring is available".to_string(),
        keyring::Error::NoStorageAccess(inner) => format!("the keyring refused access: {inner}"),
        keyring::Error::PlatformFailure(inner) => format!("the keyring failed: {inner}"),
        // These carry the stored bytes: never print them.
        keyring::Error::BadEncoding(_) | keyring::Error::BadDataFormat(..) => {
            "the keyring holds an unreadable value".to_string()
        }
        other => other.to_string(),
    };
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(160)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_switch_wins() {
        // SAFETY: unit tests in this module are the only readers of the variable.
        unsafe { std::env::set_var(ENV_KEYRING, "off") };
        assert_eq!(OsKeyring::unavailable().as_deref(), Some("GHL_KEYRING=off"));
        assert!(OsKeyring.get("default").is_none());
        assert!(OsKeyring::set("default", &Secret::new("pit-x")).is_err());
    }
}
