//! OAuth for marketplace apps: tokens per location or company, kept in a
//! vault (the OS keyring, else a 0600 file), refreshed before they expire.
//!
//! HighLevel's refresh tokens rotate: each refresh spends the old one. Two
//! refreshes racing with one refresh token leave one of them signed out, so
//! refresh is single-flight across tasks (a mutex in [`session`]) and across
//! processes (a file lock in [`lock`]), and the new pair is stored durably
//! before the new access token is used: a crash can lose a request, never
//! the only live refresh token.
//!
//! - [`grant`]: what is stored (the token pair, its owner and expiry);
//! - [`vault`]: where it is stored, and the private-file rules;
//! - [`lock`]: the cross-process refresh lock;
//! - [`token_endpoint`]: code exchange and refresh through the pipeline;
//! - [`session`]: the access token a [`crate::Client`] uses, refreshed on time.

pub mod grant;
pub mod lock;
pub mod session;
pub mod token_endpoint;
pub mod vault;

pub use grant::{OAuthGrant, Resource, UserType};
pub use session::OAuthSession;
pub use vault::{FileVault, RefreshGuard, TokenVault};

use std::path::PathBuf;

/// Overrides ghl's data directory (the same variable `ghl-store` reads).
pub const ENV_DATA_DIR: &str = "GHL_DATA_DIR";

/// `$GHL_DATA_DIR/oauth`, else `<XDG data dir>/ghl/oauth`: token files and
/// refresh locks. The rule matches `ghl_store::default_dir`; it is repeated
/// here because the pipeline sits below the store.
pub fn default_dir() -> PathBuf {
    let base = match std::env::var_os(ENV_DATA_DIR).filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => match directories::ProjectDirs::from("", "", "ghl") {
            Some(d) => d.data_dir().to_path_buf(),
            None => PathBuf::from(".ghl"),
        },
    };
    base.join("oauth")
}

/// Remove the stored tokens of `resource` (an `AppUninstall` event, or a
/// sign-out). With `app_id`, only tokens of that app's client go (HighLevel
/// client ids are `<appId>-<suffix>`). Holds the refresh lock, so a refresh
/// in flight cannot write the tokens back. Returns whether any were removed.
pub fn remove_tokens(
    vault: &dyn TokenVault,
    lock_dir: &std::path::Path,
    resource: &Resource,
    app_id: Option<&str>,
) -> crate::Result<bool> {
    let _held = lock::Held::acquire_blocking(vault, lock_dir, resource)?;
    let Some(grant) = vault.load(resource)? else {
        return Ok(false);
    };
    if let Some(app) = app_id
        && !grant.belongs_to_app(app)
    {
        return Ok(false);
    }
    vault.remove(resource)
}
