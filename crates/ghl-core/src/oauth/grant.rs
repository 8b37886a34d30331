//! What a sign-in leaves behind: the token pair, who it acts for, when the
//! access token expires, and the app's client credentials (a refresh needs
//! them). Secrets stay wrapped; they are exposed only to serialise the
//! record for the vault.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::secret::Secret;

/// Who a token acts for: one sub-account, or an agency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    Location(String),
    Company(String),
}

impl Resource {
    /// Checked before it names a file or a keyring entry: HighLevel ids are
    /// short and alphanumeric.
    pub fn location(id: &str) -> Result<Resource> {
        check_id(id).map(|id| Resource::Location(id.to_string()))
    }

    pub fn company(id: &str) -> Result<Resource> {
        check_id(id).map(|id| Resource::Company(id.to_string()))
    }

    /// `location-ID` or `company-ID`: the vault key and the lock file name.
    pub fn key(&self) -> String {
        match self {
            Resource::Location(id) => format!("location-{id}"),
            Resource::Company(id) => format!("company-{id}"),
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Resource::Location(id) | Resource::Company(id) => id,
        }
    }

    pub fn user_type(&self) -> UserType {
        match self {
            Resource::Location(_) => UserType::Location,
            Resource::Company(_) => UserType::Company,
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Location(id) => write!(f, "location {id}"),
            Resource::Company(id) => write!(f, "company {id}"),
        }
    }
}

fn check_id(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(Error::validation(format!(
            "{id:?} is not a HighLevel location or company id"
        )))
    }
}

/// HighLevel's `user_type`: the kind of token asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    Location,
    Company,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Location => "Location",
            UserType::Company => "Company",
        }
    }

    pub fn parse(s: &str) -> Result<UserType> {
        match s.to_ascii_lowercase().as_str() {
            "location" => Ok(UserType::Location),
            "company" | "agency" => Ok(UserType::Company),
            other => Err(Error::validation(format!(
                "user type {other:?} is neither Location nor Company"
            ))),
        }
    }
}

/// One app's tokens for one location or company.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthGrant {
    pub client_id: String,
    pub client_secret: Secret,
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// Unix seconds when HighLevel said the access token was issued and when
    /// it stops working.
    pub issued_at: i64,
    pub expires_at: i64,
    pub user_type: UserType,
    pub location_id: Option<String>,
    pub company_id: Option<String>,
    pub scope: String,
    pub user_id: Option<String>,
}

/// Never refresh earlier than this before expiry...
const MAX_EARLY_SECS: i64 = 300;

/// Longest access-token lifetime believed from a server (HighLevel: a day).
const MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;

/// The vault's form of a grant. Only [`OAuthGrant::to_json`] builds it.
#[derive(Serialize, Deserialize)]
struct Stored {
    client_id: String,
    client_secret: String,
    access_token: String,
    refresh_token: String,
    issued_at: i64,
    expires_at: i64,
    user_type: UserType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    company_id: Option<String>,
    #[serde(default)]
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl OAuthGrant {
    /// Which location or company the grant acts for.
    pub fn resource(&self) -> Result<Resource> {
        match (self.user_type, &self.location_id, &self.company_id) {
            (UserType::Location, Some(l), _) => Resource::location(l),
            (UserType::Company, _, Some(c)) => Resource::company(c),
            _ => Err(Error::new(
                ErrorCode::InvalidToken,
                "HighLevel's token answer named no location or company for the token",
            )),
        }
    }

    /// Whether to refresh before using the access token: it has expired, or
    /// expires within a fifth of its life (at most five minutes).
    pub fn needs_refresh(&self, now: i64) -> bool {
        let life = (self.expires_at - self.issued_at).max(0);
        let early = (life / 5).min(MAX_EARLY_SECS);
        now >= self.expires_at - early
    }

    /// Whether the grant is `app_id`'s (client id `<appId>` or `<appId>-…`).
    pub fn belongs_to_app(&self, app_id: &str) -> bool {
        !app_id.is_empty()
            && (self.client_id == app_id
                || self
                    .client_id
                    .strip_prefix(app_id)
                    .is_some_and(|rest| rest.starts_with('-')))
    }

    /// Read HighLevel's token answer; the client credentials come from the
    /// caller. Refuses an answer without both tokens.
    pub fn from_response(
        body: &Value,
        client_id: &str,
        client_secret: &Secret,
        issued_at: i64,
    ) -> Result<OAuthGrant> {
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let bad = |what: &str| {
            Error::new(
                ErrorCode::InvalidToken,
                format!("HighLevel's token answer has no {what}"),
            )
            .with_hint("sign in again with `ghl auth login --client-id ID`")
        };
        let access = text("access_token").ok_or_else(|| bad("access_token"))?;
        let refresh = text("refresh_token").ok_or_else(|| bad("refresh_token"))?;
        let expires_in = body
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
            .unwrap_or(86_399)
            .min(MAX_LIFETIME_SECS);
        let user_type = match text("userType") {
            Some(t) => UserType::parse(&t)?,
            None if text("locationId").is_some() => UserType::Location,
            None => UserType::Company,
        };
        let grant = OAuthGrant {
            client_id: client_id.to_string(),
            client_secret: client_secret.clone(),
            access_token: Secret::new(access),
            refresh_token: Secret::new(refresh),
            issued_at,
            expires_at: issued_at + expires_in as i64,
            user_type,
            location_id: text("locationId"),
            company_id: text("companyId"),
            scope: text("scope").unwrap_or_default(),
            user_id: text("userId"),
        };
        grant.resource()?;
        Ok(grant)
    }

    /// The vault's bytes. Holds secrets: only a vault may keep them.
    pub fn to_json(&self) -> String {
        let s = Stored {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.expose().to_string(),
            access_token: self.access_token.expose().to_string(),
            refresh_token: self.refresh_token.expose().to_string(),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            user_type: self.user_type,
            location_id: self.location_id.clone(),
            company_id: self.company_id.clone(),
            scope: self.scope.clone(),
            user_id: self.user_id.clone(),
        };
        serde_json::to_string(&s).unwrap_or_default()
    }

    /// Parse what [`OAuthGrant::to_json`] wrote; the error never quotes it.
    pub fn from_json(text: &str) -> Result<OAuthGrant> {
        let s: Stored = serde_json::from_str(text).map_err(|e| {
            Error::config(format!(
                "the stored OAuth tokens are unreadable (line {}, column {})",
                e.line(),
                e.column()
            ))
            .with_hint("sign in again with `ghl auth login --client-id ID`")
        })?;
        let g = OAuthGrant {
            client_id: s.client_id,
            client_secret: Secret::new(s.client_secret),
            access_token: Secret::new(s.access_token),
            refresh_token: Secret::new(s.refresh_token),
            issued_at: s.issued_at,
            expires_at: s.expires_at,
            user_type: s.user_type,
            location_id: s.location_id,
            company_id: s.company_id,
            scope: s.scope,
            user_id: s.user_id,
        };
        if g.access_token.is_empty() || g.refresh_token.is_empty() {
            return Err(Error::config("the stored OAuth tokens are incomplete")
                .with_hint("sign in again with `ghl auth login --client-id ID`"));
        }
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer() -> Value {
        json!({"access_token": "acc-1234567890abcdef", "refresh_token": "ref-1234567890abcdef",
               "expires_in": 86399, "userType": "Location", "locationId": "LOC1", "companyId": "CO1",
               "scope": "contacts.readonly", "userId": "U1"})
    }

    #[test]
    fn round_trips_without_printing_secrets() {
        let g =
            OAuthGrant::from_response(&answer(), "app1-x", &Secret::new("shh-secret-value"), 1000)
                .unwrap();
        assert_eq!(g.resource().unwrap(), Resource::Location("LOC1".into()));
        assert_eq!(g.expires_at, 1000 + 86399);
        assert_eq!(OAuthGrant::from_json(&g.to_json()).unwrap(), g);
        let shown = format!("{g:?}");
        for secret in [
            "acc-1234567890abcdef",
            "ref-1234567890abcdef",
            "shh-secret-value",
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let err = OAuthGrant::from_json("{\"client_secret\": \"leak-me\"").unwrap_err();
        assert!(!err.message.contains("leak-me"));
    }

    #[test]
    fn refreshes_early_but_not_too_early() {
        let g = OAuthGrant::from_response(&answer(), "c", &Secret::new("s"), 0).unwrap();
        assert!(!g.needs_refresh(86399 - 301));
        assert!(g.needs_refresh(86399 - 300));
        let mut short = g.clone();
        short.expires_at = 10;
        assert!(!short.needs_refresh(7));
        assert!(short.needs_refresh(8));
    }

    #[test]
    fn answers_without_tokens_or_owner_are_refused() {
        let mut a = answer();
        a["refresh_token"] = json!("");
        assert!(OAuthGrant::from_response(&a, "c", &Secret::new("s"), 0).is_err());
        let mut a = answer();
        a.as_object_mut().unwrap().remove("locationId");
        assert!(OAuthGrant::from_response(&a, "c", &Secret::new("s"), 0).is_err());
    }

    #[test]
    fn app_ids_match_client_ids() {
        let mut g =
            OAuthGrant::from_response(&answer(), "66a0d5-lz7w", &Secret::new("s"), 0).unwrap();
        assert!(g.belongs_to_app("66a0d5"));
        assert!(!g.belongs_to_app("66a0"));
        g.client_id = "66a0d5".into();
        assert!(g.belongs_to_app("66a0d5"));
        assert!(Resource::location("../etc").is_err());
        assert_eq!(Resource::company("C_1").unwrap().key(), "company-C_1");
    }
}
