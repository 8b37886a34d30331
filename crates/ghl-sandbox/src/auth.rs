//! Bearer tokens: which location a token is bound to and which scopes it holds.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use ghl_catalog::Operation;
use rusqlite::{Connection, OptionalExtension, params};

use crate::reply::ApiError;
use crate::{DEFAULT_TOKEN, DEMO_LOCATION_ID};

pub struct Token {
    pub location_id: String,
    /// `None` means every scope.
    pub scopes: Option<HashSet<String>>,
    /// Unix seconds after which the token is refused (OAuth access tokens).
    pub expires_at: Option<i64>,
}

impl Token {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(scope))
    }
}

/// Tokens seen so far; minted tokens never change, so caching is safe (a token
/// minted by another process is found in the database on first use).
#[derive(Default)]
pub struct TokenCache {
    known: RwLock<HashMap<String, Arc<Token>>>,
}

impl TokenCache {
    pub fn cached(&self, token: &str) -> Option<Arc<Token>> {
        if token == DEFAULT_TOKEN {
            return Some(Arc::new(Token {
                location_id: DEMO_LOCATION_ID.to_string(),
                scopes: None,
                expires_at: None,
            }));
        }
        self.known.read().ok()?.get(token).cloned()
    }

    pub fn remember(&self, token: &str, t: Arc<Token>) {
        if let Ok(mut m) = self.known.write() {
            m.insert(token.to_string(), t);
        }
    }
}

pub fn lookup(conn: &Connection, token: &str) -> rusqlite::Result<Option<Token>> {
    let row: Option<(String, String, Option<i64>)> = conn
        .query_row(
            "SELECT t.location_id, t.scopes, a.expires_at FROM tokens t
             LEFT JOIN oauth_access a ON a.token = t.token WHERE t.token = ?1",
            [token],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(row.map(|(location_id, scopes, expires_at)| Token {
        expires_at,
        location_id,
        scopes: if scopes == "*" {
            None
        } else {
            Some(scopes.split_whitespace().map(str::to_string).collect())
        },
    }))
}

pub fn insert(
    conn: &Connection,
    token: &str,
    location_id: &str,
    scopes: Option<&[String]>,
) -> rusqlite::Result<()> {
    let scopes = scopes.map(|s| s.join(" ")).unwrap_or_else(|| "*".into());
    conn.execute(
        "INSERT OR REPLACE INTO tokens(token, location_id, scopes) VALUES (?1, ?2, ?3)",
        params![token, location_id, scopes],
    )?;
    Ok(())
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, rest) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

pub fn invalid_token() -> ApiError {
    ApiError::new(401, "Invalid JWT")
}

/// The token passes when it holds every scope of at least one security
/// alternative; an alternative with no scopes (or no security at all) passes.
pub fn check_scopes(op: &Operation, token: &Token) -> Result<(), ApiError> {
    if op.security.is_empty()
        || op
            .security
            .iter()
            .any(|alt| alt.scopes.iter().all(|s| token.has(s)))
    {
        return Ok(());
    }
    Err(ApiError::new(
        401,
        "The token is not authorized for this scope.",
    ))
}
