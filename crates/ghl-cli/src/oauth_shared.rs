//! Marketplace-app tokens in the shared store (`GHL_STORE_URL`), for
//! several machines acting for one app. HighLevel's refresh tokens rotate:
//! two machines each keeping their own copy would sign each other out at
//! the first refresh. So with a shared store the grant lives in it, and the
//! refresh lock is a store lease that every machine sees, not a file lock
//! that only one machine's processes see.
//!
//! The database then holds the tokens: whoever can read its
//! `ghl_oauth_grants` table can act as the app in those accounts.

use std::time::{Duration, Instant};

use ghl_core::oauth::{OAuthGrant, RefreshGuard, Resource, TokenVault};
use ghl_core::{Error, ErrorCode};
use ghl_store::{Lease, Migration, Store, StoreUrl, Value};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: "CREATE TABLE ghl_oauth_grants (
        resource TEXT PRIMARY KEY,
        grant_json TEXT NOT NULL,
        updated_ms BIGINT NOT NULL
    )",
    postgres: "CREATE TABLE ghl_oauth_grants (
        resource TEXT PRIMARY KEY,
        grant_json TEXT NOT NULL,
        updated_ms BIGINT NOT NULL
    )",
}];

/// Longer than a refresh can take (the transport gives up on an answer
/// after 60 s): a refresher that died frees the lock after this.
const LOCK_TTL: Duration = Duration::from_secs(90);
/// Longest wait for another machine's refresh: past a dead holder's lease.
const MAX_WAIT: Duration = Duration::from_secs(150);

pub struct StoreVault {
    store: Store,
    holder: String,
}

impl StoreVault {
    /// The vault in the store `GHL_STORE_URL` names, when it is set.
    pub fn from_env() -> Result<Option<StoreVault>, Error> {
        let set = std::env::var_os(ghl_store::ENV_STORE_URL).is_some_and(|v| !v.is_empty());
        if !set {
            return Ok(None);
        }
        let url = StoreUrl::resolve(None, "oauth").map_err(store_error)?;
        StoreVault::open(&url).map(Some)
    }

    pub fn open(url: &StoreUrl) -> Result<StoreVault, Error> {
        let store = Store::open(url).map_err(store_error)?;
        store.migrate("oauth", MIGRATIONS).map_err(store_error)?;
        Ok(StoreVault {
            store,
            holder: ghl_mirror::workers::holder_id(),
        })
    }
}

fn store_error(e: ghl_store::Error) -> Error {
    Error::config(format!("the OAuth token store: {e}"))
        .with_hint("check GHL_STORE_URL and that the database is reachable")
}

impl TokenVault for StoreVault {
    fn load(&self, resource: &Resource) -> Result<Option<OAuthGrant>, Error> {
        let key = resource.key();
        let row = self
            .store
            .read(|tx| {
                tx.query_opt(
                    "SELECT grant_json FROM ghl_oauth_grants WHERE resource = $1",
                    &[key.as_str().into()],
                )
            })
            .map_err(store_error)?;
        match row.map(|r| r.text("grant_json")).transpose() {
            Ok(Some(text)) => OAuthGrant::from_json(&text).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(store_error(e)),
        }
    }

    fn save(&self, resource: &Resource, grant: &OAuthGrant) -> Result<(), Error> {
        let (key, text) = (resource.key(), grant.to_json());
        self.store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO ghl_oauth_grants (resource, grant_json, updated_ms) VALUES ($1, $2, $3)
                     ON CONFLICT (resource) DO UPDATE SET grant_json = excluded.grant_json,
                         updated_ms = excluded.updated_ms",
                    &[
                        key.as_str().into(),
                        text.as_str().into(),
                        Value::Int(ghl_mirror::now_ms()),
                    ],
                )
            })
            .map(|_| ())
            .map_err(store_error)
    }

    fn remove(&self, resource: &Resource) -> Result<bool, Error> {
        let key = resource.key();
        self.store
            .write(|tx| {
                tx.execute(
                    "DELETE FROM ghl_oauth_grants WHERE resource = $1",
                    &[key.as_str().into()],
                )
            })
            .map(|n| n > 0)
            .map_err(store_error)
    }

    fn describe(&self) -> String {
        format!("the shared store ({})", self.store.describe())
    }

    fn refresh_lock(&self, resource: &Resource) -> Result<Option<RefreshGuard>, Error> {
        let name = format!("oauth-refresh:{}", resource.key());
        let deadline = Instant::now() + MAX_WAIT;
        loop {
            if let Some(lease) = self
                .store
                .lease(&name, &self.holder, LOCK_TTL)
                .map_err(store_error)?
            {
                return Ok(Some(RefreshGuard(Box::new(Released(Some(lease))))));
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "another machine has been refreshing the OAuth token for {resource} for over {} s",
                        MAX_WAIT.as_secs()
                    ),
                )
                .with_hint("try again; the lock frees itself when its holder stops"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// Gives the lease back when the refresh is done.
struct Released(Option<Lease>);

impl Drop for Released {
    fn drop(&mut self) {
        if let Some(lease) = self.0.take() {
            // When this fails the lease still expires on its own.
            let _ = lease.release();
        }
    }
}
