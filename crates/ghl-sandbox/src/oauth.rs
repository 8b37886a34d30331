//! OAuth for marketplace apps, as HighLevel does it: an approval page at
//! `/oauth/chooselocation` that sends the browser back to the app's loopback
//! `redirect_uri` with a one-time `code`, and `POST /oauth/token` that trades
//! a code (`authorization_code`) or a refresh token (`refresh_token`) for an
//! access token. Refresh tokens rotate: each is good for one refresh, and a
//! spent one is refused like HighLevel refuses it, so clients that race
//! their refreshes find out here rather than in production.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Value, json};

use crate::reply::ApiError;
use crate::{DEMO_COMPANY_ID, DEMO_LOCATION_ID};

/// The marketplace app every sandbox knows (the sandbox has no developer
/// portal to register one).
pub const DEMO_CLIENT_ID: &str = "6560a3b9c0ffee0000000001-sbxdemo1";
pub const DEMO_CLIENT_SECRET: &str = "sbx-client-secret-0000-4000-8000-000000000001";
/// The user the demo install is recorded under.
const DEMO_USER_ID: &str = "SbxDemoUser000000001";

/// How long a code from the approval page can be exchanged.
const CODE_TTL: Duration = Duration::from_secs(600);

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS oauth_codes(
  code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
  scopes TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS oauth_refresh(
  token TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_type TEXT NOT NULL,
  location_id TEXT, company_id TEXT NOT NULL, scopes TEXT NOT NULL,
  spent INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS oauth_access(token TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
";

pub const CLEAR: &str =
    "DELETE FROM oauth_codes; DELETE FROM oauth_refresh; DELETE FROM oauth_access;";

/// Counters tests read from `/_sandbox/stats`.
#[derive(Default)]
pub struct OAuthStats {
    /// Every `grant_type=refresh_token` request, granted or refused.
    pub refresh_requests: std::sync::atomic::AtomicU64,
    /// Refreshes that issued a new token pair.
    pub refreshes: std::sync::atomic::AtomicU64,
    /// Refresh requests refused because the refresh token was already spent.
    pub spent_refused: std::sync::atomic::AtomicU64,
    /// Codes exchanged for tokens.
    pub codes_exchanged: std::sync::atomic::AtomicU64,
}

impl OAuthStats {
    pub fn json(&self) -> Value {
        json!({
            "refresh_requests": self.refresh_requests.load(Ordering::Relaxed),
            "refreshes": self.refreshes.load(Ordering::Relaxed),
            "spent_refused": self.spent_refused.load(Ordering::Relaxed),
            "codes_exchanged": self.codes_exchanged.load(Ordering::Relaxed),
        })
    }
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn random_token(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Where the approval page may send the browser: an `http` address on
/// loopback (a native app's listener), with a port. Anything else could
/// hand the code to someone else.
fn loopback_redirect(uri: &str) -> Option<url::Url> {
    let u = url::Url::parse(uri).ok()?;
    let host_ok = match u.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    (u.scheme() == "http" && host_ok && u.port().is_some() && u.fragment().is_none()).then_some(u)
}

pub enum Approval {
    /// Send the browser here (the redirect URI with `code` and `state`).
    Redirect(String),
    Refused(ApiError),
}

/// `GET /oauth/chooselocation`: the sandbox's user is signed in and picks
/// the demo location at once, so the page answers with the redirect a
/// HighLevel admin's click would produce.
pub fn approve(conn: &Connection, query: &HashMap<String, String>) -> Approval {
    let get = |k: &str| query.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if get("response_type") != Some("code") {
        return Approval::Refused(ApiError::bad("response_type must be code"));
    }
    if get("client_id") != Some(DEMO_CLIENT_ID) {
        return Approval::Refused(ApiError::bad(
            "Unknown client_id: the sandbox knows one app, see `ghl sandbox` in the README",
        ));
    }
    let Some(redirect) = get("redirect_uri").and_then(loopback_redirect) else {
        return Approval::Refused(ApiError::bad(
            "redirect_uri must be an http address on loopback with a port",
        ));
    };
    let scopes = get("scope").unwrap_or("").to_string();
    let code = random_token("sbxcode");
    let stored = conn.execute(
        "INSERT INTO oauth_codes(code, client_id, redirect_uri, scopes, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code, DEMO_CLIENT_ID, redirect.as_str(), scopes, now() + CODE_TTL.as_secs() as i64],
    );
    if let Err(e) = stored {
        return Approval::Refused(ApiError::from(e));
    }
    let mut to = redirect;
    {
        let mut q = to.query_pairs_mut();
        q.append_pair("code", &code);
        if let Some(state) = get("state") {
            q.append_pair("state", state);
        }
    }
    Approval::Redirect(to.to_string())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(401, message)
}

/// `POST /oauth/token` with the form already parsed.
pub fn token(
    conn: &mut Connection,
    form: &Value,
    access_ttl: Duration,
    stats: &OAuthStats,
) -> Result<Value, ApiError> {
    let field = |k: &str| {
        form.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let missing: Vec<String> = ["client_id", "client_secret", "grant_type"]
        .into_iter()
        .filter(|k| field(k).is_none())
        .map(|k| format!("{k} should not be empty"))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::invalid(missing));
    }
    let grant = field("grant_type").unwrap_or("");
    if grant == "refresh_token" {
        stats.refresh_requests.fetch_add(1, Ordering::Relaxed);
    }
    if field("client_id") != Some(DEMO_CLIENT_ID)
        || field("client_secret") != Some(DEMO_CLIENT_SECRET)
    {
        return Err(unauthorized(
            "Invalid client: client_id or client_secret is wrong",
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let grant_row = match grant {
        "authorization_code" => {
            let code = field("code")
                .ok_or_else(|| ApiError::invalid(vec!["code should not be empty".into()]))?;
            let row: Option<(String, String, i64, i64)> = tx
                .query_row(
                    "SELECT redirect_uri, scopes, expires_at, used FROM oauth_codes WHERE code = ?1 AND client_id = ?2",
                    params![code, DEMO_CLIENT_ID],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((redirect_uri, scopes, expires_at, used)) = row else {
                return Err(unauthorized("Invalid grant: authorization code is invalid"));
            };
            if used != 0 || expires_at < now() {
                return Err(unauthorized("Invalid grant: authorization code is invalid"));
            }
            if field("redirect_uri").is_some_and(|r| r != redirect_uri) {
                return Err(ApiError::bad(
                    "redirect_uri does not match the one the code was issued for",
                ));
            }
            tx.execute("UPDATE oauth_codes SET used = 1 WHERE code = ?1", [code])?;
            let user_type = match field("user_type").unwrap_or("Location") {
                "Company" => "Company",
                "Location" => "Location",
                other => {
                    return Err(ApiError::invalid(vec![format!(
                        "user_type must be one of Company, Location (got {other})"
                    )]));
                }
            };
            stats.codes_exchanged.fetch_add(1, Ordering::Relaxed);
            let location = (user_type == "Location").then(|| DEMO_LOCATION_ID.to_string());
            (
                user_type.to_string(),
                location,
                DEMO_COMPANY_ID.to_string(),
                scopes,
            )
        }
        "refresh_token" => {
            let presented = field("refresh_token").ok_or_else(|| {
                ApiError::invalid(vec!["refresh_token should not be empty".into()])
            })?;
            let row: Option<(String, Option<String>, String, String, i64)> = tx
                .query_row(
                    "SELECT user_type, location_id, company_id, scopes, spent FROM oauth_refresh WHERE token = ?1 AND client_id = ?2",
                    params![presented, DEMO_CLIENT_ID],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((user_type, location, company, scopes, spent)) = row else {
                return Err(unauthorized("Invalid grant: refresh token is invalid"));
            };
            if spent != 0 {
                stats.spent_refused.fetch_add(1, Ordering::Relaxed);
                return Err(unauthorized("Invalid grant: refresh token is invalid"));
            }
            tx.execute(
                "UPDATE oauth_refresh SET spent = 1 WHERE token = ?1",
                [presented],
            )?;
            (user_type, location, company, scopes)
        }
        "client_credentials" => {
            return Err(ApiError::bad(
                "The sandbox does not support grant_type client_credentials",
            ));
        }
        other => {
            return Err(ApiError::invalid(vec![format!(
                "grant_type must be one of authorization_code, refresh_token, client_credentials (got {other})"
            )]));
        }
    };
    let (user_type, location, company, scopes) = grant_row;
    let access = random_token("sbxoauth");
    let refresh = random_token("sbxrefresh");
    // Company tokens are bound to the company, so location calls with them
    // fail as they do in HighLevel.
    let bound_to = location.clone().unwrap_or_else(|| company.clone());
    let scope_list: Option<Vec<String>> = (!scopes.trim().is_empty())
        .then(|| scopes.split_whitespace().map(str::to_string).collect());
    crate::auth::insert(&tx, &access, &bound_to, scope_list.as_deref())?;
    tx.execute(
        "INSERT INTO oauth_access(token, expires_at) VALUES (?1, ?2)",
        params![access, now() + access_ttl.as_secs() as i64],
    )?;
    tx.execute(
        "INSERT INTO oauth_refresh(token, client_id, user_type, location_id, company_id, scopes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![refresh, DEMO_CLIENT_ID, user_type, location, company, scopes],
    )?;
    tx.commit()?;
    if grant == "refresh_token" {
        stats.refreshes.fetch_add(1, Ordering::Relaxed);
    }
    let granted_scope = if scopes.trim().is_empty() {
        crate::all_scopes().join(" ")
    } else {
        scopes
    };
    let mut out = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": access_ttl.as_secs(),
        "refresh_token": refresh,
        "scope": granted_scope,
        "userType": user_type,
        "companyId": company,
        "userId": DEMO_USER_ID,
    });
    if let Some(loc) = location {
        out["locationId"] = json!(loc);
    } else {
        out["approvedLocations"] = json!([DEMO_LOCATION_ID]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::loopback_redirect;

    #[test]
    fn only_loopback_listeners_receive_codes() {
        assert!(loopback_redirect("http://127.0.0.1:8041/callback").is_some());
        assert!(loopback_redirect("http://localhost:9/cb").is_some());
        assert!(loopback_redirect("http://[::1]:9/cb").is_some());
        for bad in [
            "https://evil.example/cb",
            "http://127.0.0.1/cb",
            "http://10.0.0.1:80/cb",
            "javascript:alert(1)",
            "http://127.0.0.1:8041/cb#frag",
        ] {
            assert!(loopback_redirect(bad).is_none(), "{bad}");
        }
    }
}
