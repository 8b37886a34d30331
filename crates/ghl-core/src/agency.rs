//! Agency tokens reach sub-accounts through location tokens: HighLevel
//! mints one per location from the agency's OAuth token
//! (`POST /oauth/locationToken`, form `companyId` + `locationId`). They last
//! about a day and come with no refresh token, so one is minted per location
//! the first time it is needed and kept for the life of the process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ghl_catalog::Operation;
use tokio::sync::Mutex;

use crate::args::CallArgs;
use crate::error::{Error, ErrorCode, Result};
use crate::request::{self, Defaults};
use crate::secret::Secret;
use crate::transport::Transport;

const MINT: &str = "oauth.get-location-access-token";

pub struct Agency {
    company_id: String,
    /// Held across the mint, so concurrent calls for one location mint once.
    tokens: Mutex<HashMap<String, Minted>>,
}

struct Minted {
    token: Secret,
    /// Mint again after this (a few minutes before HighLevel's expiry).
    renew_at: Instant,
}

/// Renew this long before the token's stated expiry.
const RENEW_EARLY: Duration = Duration::from_secs(300);

/// Operations that accept an agency token themselves (their security names
/// an `Agency-*` scheme); every other operation acts inside a location.
pub fn is_agency_level(op: &Operation) -> bool {
    op.security.iter().any(|s| s.scheme.starts_with("Agency"))
}

impl Agency {
    pub fn new(company_id: &str) -> Self {
        Agency {
            company_id: company_id.to_string(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub async fn location_token(
        &self,
        transport: &Transport,
        location: Option<&str>,
    ) -> Result<Secret> {
        self.location_token_with(transport, location, None).await
    }

    /// As [`Agency::location_token`], minting with `agency_token` (a
    /// marketplace app's company OAuth token) instead of the transport's.
    pub async fn location_token_with(
        &self,
        transport: &Transport,
        location: Option<&str>,
        agency_token: Option<&Secret>,
    ) -> Result<Secret> {
        let location = location.ok_or_else(|| {
            Error::config("an agency token needs a sub-account for this operation")
                .with_hint("pick one with --location ID (or HIGHLEVEL_LOCATION_ID)")
        })?;
        let mut tokens = self.tokens.lock().await;
        if let Some(m) = tokens.get(location)
            && Instant::now() < m.renew_at
        {
            return Ok(m.token.clone());
        }
        let op = ghl_catalog::find(MINT)
            .ok_or_else(|| Error::config(format!("catalog lacks {MINT}")))?;
        // Minting changes nothing in the CRM, so it is exempt from policy
        // (read-only, allow lists) but still validated and rate limited.
        let args = CallArgs::new()
            .param("companyId", self.company_id.as_str())
            .param("locationId", location);
        let mut req = request::prepare(op, &args, &Defaults::default())?;
        req.location = Some(location.to_string());
        let sent = match agency_token {
            Some(t) => transport.send_as(&req, t).await,
            None => transport.send(&req).await,
        };
        let body = sent.map_err(|e| {
            let mut e = e.with_operation(MINT);
            e.message = format!(
                "could not get a token for location {location} from the agency token: {}",
                e.message
            );
            e
        })?;
        let expires_in = body
            .body
            .get("expires_in")
            .and_then(|v| v.as_u64())
            .unwrap_or(86_399);
        let token = body
            .body
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidToken,
                    format!("HighLevel minted no location token for {location}"),
                )
                .with_hint("the agency token needs the oauth.write scope, and the app must be installed on that location")
            })?;
        let renew_at = Instant::now() + Duration::from_secs(expires_in).saturating_sub(RENEW_EARLY);
        tokens.insert(
            location.to_string(),
            Minted {
                token: token.clone(),
                renew_at,
            },
        );
        Ok(token)
    }

    /// Drop a location's token (HighLevel refused it): the next call mints.
    pub async fn forget(&self, location: &str) {
        self.tokens.lock().await.remove(location);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn agency_level_operations_come_from_the_catalog() {
        let op = |n| ghl_catalog::find(n).expect("op");
        assert!(super::is_agency_level(op("saas-api.get-saas-locations")));
        assert!(super::is_agency_level(op("locations.search-locations")));
        assert!(!super::is_agency_level(op("contacts.get-contact")));
    }
}
