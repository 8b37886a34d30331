//! The access token a client sends, kept fresh. One refresh at a time per
//! location or company: tasks of a process queue on a mutex, processes on
//! the file lock, and whoever gets the lock first re-reads the vault, since
//! another process may have refreshed meanwhile. The new pair is saved
//! (durably) before its access token leaves this module.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::error::{Error, ErrorCode, Result};
use crate::oauth::grant::{OAuthGrant, Resource, now};
use crate::oauth::lock::Held;
use crate::oauth::token_endpoint;
use crate::oauth::vault::TokenVault;
use crate::secret::Secret;
use crate::transport::Transport;

pub struct OAuthSession {
    resource: Resource,
    vault: Arc<dyn TokenVault>,
    lock_dir: PathBuf,
    /// The grant in use; held across a refresh so tasks refresh once.
    current: Mutex<OAuthGrant>,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSession")
            .field("resource", &self.resource)
            .finish()
    }
}

fn passing(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::Network | ErrorCode::Timeout | ErrorCode::Server | ErrorCode::RateLimited
    )
}

fn signed_out(resource: &Resource) -> Error {
    Error::config(format!("no OAuth sign-in is stored for {resource}"))
        .with_hint("sign in with `ghl auth login --client-id ID`")
}

impl OAuthSession {
    /// The stored grant for `resource`; an error when there is none.
    pub fn open(
        resource: Resource,
        vault: Arc<dyn TokenVault>,
        lock_dir: PathBuf,
    ) -> Result<OAuthSession> {
        let grant = vault
            .load(&resource)?
            .ok_or_else(|| signed_out(&resource))?;
        Ok(OAuthSession {
            resource,
            vault,
            lock_dir,
            current: Mutex::new(grant),
        })
    }

    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The access token at hand, whatever its age (for redaction and the
    /// transport's start-up check).
    pub async fn peek(&self) -> Secret {
        self.current.lock().await.access_token.clone()
    }

    /// As [`OAuthSession::peek`], from synchronous code; `None` while a
    /// refresh holds the grant.
    pub fn try_peek(&self) -> Option<Secret> {
        self.current.try_lock().ok().map(|g| g.access_token.clone())
    }

    /// An access token good for a request now: refreshed first when it has
    /// expired or is about to.
    pub async fn access_token(&self, transport: &Transport) -> Result<Secret> {
        let mut current = self.current.lock().await;
        if !current.needs_refresh(now()) {
            return Ok(current.access_token.clone());
        }
        match self.refresh_locked(&mut current, transport, None).await {
            // Refreshing early failed for a passing reason (network, busy
            // server) while the token still has a few minutes: use it.
            Err(e) if passing(&e) && now() < current.expires_at => Ok(current.access_token.clone()),
            other => other,
        }
    }

    /// HighLevel refused `rejected`: refresh, unless another task already
    /// replaced it, and return the token to retry with.
    pub async fn after_rejection(
        &self,
        transport: &Transport,
        rejected: &Secret,
    ) -> Result<Secret> {
        let mut current = self.current.lock().await;
        if current.access_token != *rejected {
            return Ok(current.access_token.clone());
        }
        self.refresh_locked(&mut current, transport, Some(rejected))
            .await
    }

    async fn refresh_locked(
        &self,
        current: &mut OAuthGrant,
        transport: &Transport,
        rejected: Option<&Secret>,
    ) -> Result<Secret> {
        let _held = Held::acquire(self.vault.clone(), &self.lock_dir, &self.resource).await?;
        let stored = self
            .vault
            .load(&self.resource)?
            .ok_or_else(|| signed_out(&self.resource))?;
        let still_stale = match rejected {
            Some(r) => stored.access_token == *r,
            None => stored.needs_refresh(now()),
        };
        if !still_stale {
            // Another process refreshed while this one waited for the lock.
            *current = stored;
            return Ok(current.access_token.clone());
        }
        let fresh = match token_endpoint::refresh(transport, &stored).await {
            Ok(f) => f,
            Err(e) if e.code == ErrorCode::InvalidToken => {
                // Someone outside this lock (an older ghl, another tool with
                // the same app) may have rotated the pair: take theirs.
                match self.vault.load(&self.resource)? {
                    Some(newer) if newer.refresh_token != stored.refresh_token => {
                        *current = newer;
                        return Ok(current.access_token.clone());
                    }
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        // Durable before use: once HighLevel has spent the old refresh
        // token, this copy is the only way back in.
        self.vault.save(&self.resource, &fresh)?;
        *current = fresh;
        Ok(current.access_token.clone())
    }
}
