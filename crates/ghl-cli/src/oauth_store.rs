//! Where marketplace-app tokens and client secrets are kept: the OS keyring
//! when there is one, else private files in `<data dir>/oauth` (0700
//! directory, 0600 files, refused when others could read or plant them).
//! The refresh locks always live in that directory.

use std::path::PathBuf;
use std::sync::Arc;

use ghl_core::oauth::vault::{ensure_private_dir, write_atomic};
use ghl_core::oauth::{FileVault, OAuthGrant, Resource, TokenVault};
use ghl_core::{Error, Secret};

use crate::keyring_store::{OsKeyring, SERVICE};

/// The OAuth directory: token files (without a keyring) and refresh locks.
pub fn dir() -> PathBuf {
    ghl_core::oauth::default_dir()
}

/// The keyring in front of the file vault.
pub struct AppVault {
    files: FileVault,
}

fn entry_name(resource: &Resource) -> String {
    format!("oauth:{}", resource.key())
}

fn keyring_entry(user: &str) -> Option<keyring::Entry> {
    OsKeyring::unavailable()
        .is_none()
        .then(|| keyring::Entry::new(SERVICE, user).ok())
        .flatten()
}

impl AppVault {
    pub fn new() -> AppVault {
        Self::with_dir(dir())
    }

    /// The keyring, then files in `dir`.
    pub fn with_dir(dir: PathBuf) -> AppVault {
        AppVault {
            files: FileVault::new(dir),
        }
    }
}

impl Default for AppVault {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenVault for AppVault {
    fn load(&self, resource: &Resource) -> Result<Option<OAuthGrant>, Error> {
        if let Some(entry) = keyring_entry(&entry_name(resource))
            && let Ok(text) = entry.get_password()
        {
            return OAuthGrant::from_json(&text).map(Some);
        }
        self.files.load(resource)
    }

    fn save(&self, resource: &Resource, grant: &OAuthGrant) -> Result<(), Error> {
        let text = grant.to_json();
        if let Some(entry) = keyring_entry(&entry_name(resource))
            && entry.set_password(&text).is_ok()
            && entry.get_password().ok().as_deref() == Some(text.as_str())
        {
            // A stale file copy must not outlive the keyring's.
            self.files.remove(resource)?;
            return Ok(());
        }
        self.files.save(resource, grant)?;
        // A stale keyring copy would shadow the file on the next load.
        if let Some(entry) = keyring_entry(&entry_name(resource)) {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(_) => {
                    return Err(Error::config(format!(
                        "the OS keyring holds an older token for {resource} that cannot be replaced or removed"
                    ))
                    .with_hint("unlock the keyring, or set GHL_KEYRING=off, and sign in again"));
                }
            }
        }
        Ok(())
    }

    fn remove(&self, resource: &Resource) -> Result<bool, Error> {
        let mut removed = false;
        if let Some(entry) = keyring_entry(&entry_name(resource)) {
            match entry.delete_credential() {
                Ok(()) => removed = true,
                Err(keyring::Error::NoEntry) => {}
                Err(e) => {
                    return Err(Error::config(format!(
                        "cannot remove the token for {resource} from the keyring: {e}"
                    )));
                }
            }
        }
        Ok(self.files.remove(resource)? || removed)
    }

    fn describe(&self) -> String {
        match OsKeyring::unavailable() {
            None => OsKeyring::label().to_string(),
            Some(_) => self.files.describe(),
        }
    }
}

/// The vault every command uses: the shared store when `GHL_STORE_URL`
/// names one (several machines, one app), else the keyring and files.
pub fn vault() -> Result<Arc<dyn TokenVault>, Error> {
    Ok(match crate::oauth_shared::StoreVault::from_env()? {
        Some(shared) => Arc::new(shared),
        None => Arc::new(AppVault::new()),
    })
}

/// Remove the stored tokens of a location (or, without one, a company) when
/// HighLevel reports the app uninstalled there (`AppUninstall`: `appId`,
/// `locationId` or `companyId`). Only the tokens of `app_id`'s client go.
/// Returns whether any were removed.
pub fn remove_app_tokens(
    location_id: Option<&str>,
    company_id: Option<&str>,
    app_id: Option<&str>,
) -> Result<bool, Error> {
    if let Some(shared) = crate::oauth_shared::StoreVault::from_env()? {
        return ghl_core::oauth::remove_tokens(
            &shared,
            &dir(),
            &resource_of(location_id, company_id)?,
            app_id,
        );
    }
    remove_app_tokens_in(&dir(), location_id, company_id, app_id)
}

fn resource_of(location_id: Option<&str>, company_id: Option<&str>) -> Result<Resource, Error> {
    match (location_id, company_id) {
        (Some(l), _) => Resource::location(l),
        (None, Some(c)) => Resource::company(c),
        (None, None) => Err(Error::validation(
            "an uninstall names neither a location nor a company",
        )),
    }
}

/// As [`remove_app_tokens`], with the OAuth directory named.
pub fn remove_app_tokens_in(
    dir: &std::path::Path,
    location_id: Option<&str>,
    company_id: Option<&str>,
    app_id: Option<&str>,
) -> Result<bool, Error> {
    let resource = resource_of(location_id, company_id)?;
    ghl_core::oauth::remove_tokens(
        &AppVault::with_dir(dir.to_path_buf()),
        dir,
        &resource,
        app_id,
    )
}

/// Client ids name keyring entries and files: letters, digits, `-_.`.
pub fn validate_client_id(client_id: &str) -> Result<(), Error> {
    let ok = !client_id.is_empty()
        && client_id.len() <= 128
        && client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(
            Error::validation(format!("{client_id:?} is not a client id"))
                .with_hint("copy it from Marketplace > My Apps > your app > Auth > Client Keys"),
        )
    }
}

fn secret_file(client_id: &str) -> PathBuf {
    dir().join(format!("client-{client_id}.secret"))
}

/// The app's client secret as stored by an earlier `ghl auth login`.
pub fn client_secret(client_id: &str) -> Result<Option<Secret>, Error> {
    validate_client_id(client_id)?;
    if let Some(entry) = keyring_entry(&format!("oauth-client:{client_id}"))
        && let Ok(text) = entry.get_password()
    {
        return Ok(Some(Secret::new(text)).filter(|s| !s.is_empty()));
    }
    let path = secret_file(client_id);
    if !path.exists() {
        return Ok(None);
    }
    ghl_core::oauth::vault::check_dir(&dir())?;
    read_private(&path).map(|s| Some(Secret::new(s)).filter(|s| !s.is_empty()))
}

#[cfg(unix)]
fn read_private(path: &std::path::Path) -> Result<String, Error> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    let meta = f
        .metadata()
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me || meta.mode() & 0o077 != 0 || !meta.is_file() {
        return Err(Error::config(format!(
            "{} holds a client secret but others could read or have planted it",
            path.display()
        ))
        .with_hint(format!(
            "remove it and sign in again: rm {}",
            path.display()
        )));
    }
    let mut text = String::new();
    f.take(4096)
        .read_to_string(&mut text)
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
    Ok(text.trim().to_string())
}

#[cfg(not(unix))]
fn read_private(path: &std::path::Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map(|t| t.trim().to_string())
        .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))
}

/// Keep the client secret for the next sign-in. Returns where it went.
pub fn save_client_secret(client_id: &str, secret: &Secret) -> Result<String, Error> {
    validate_client_id(client_id)?;
    if let Some(entry) = keyring_entry(&format!("oauth-client:{client_id}"))
        && entry.set_password(secret.expose()).is_ok()
    {
        let _ = std::fs::remove_file(secret_file(client_id));
        return Ok(OsKeyring::label().to_string());
    }
    let d = dir();
    ensure_private_dir(&d)?;
    let path = secret_file(client_id);
    write_atomic(&path, secret.expose().as_bytes())?;
    Ok(format!("{} (mode 0600)", path.display()))
}
