//! `POST /oauth/token` (catalog operation `oauth.get-access-token`) for the
//! two grants a signed-in app needs: trading the approval page's code, and
//! refreshing. The request is built and validated by the pipeline like any
//! other; it is sent without a bearer token (the client credentials are the
//! authentication) and outside policy: it changes nothing in the CRM.
//! Neither grant is ever retried: a refresh that may have reached HighLevel
//! may have spent the refresh token.

use crate::args::CallArgs;
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::grant::{OAuthGrant, UserType, now};
use crate::request::{self, Defaults};
use crate::secret::Secret;
use crate::transport::Transport;

pub const OPERATION: &str = "oauth.get-access-token";

async fn post(transport: &Transport, args: CallArgs) -> Result<serde_json::Value> {
    let op = ghl_catalog::find(OPERATION)
        .ok_or_else(|| Error::config(format!("catalog lacks {OPERATION}")))?;
    let req = request::prepare(op, &args, &Defaults::default())?;
    Ok(transport.send_anonymous(&req).await?.body)
}

/// Trade the code the approval page sent to `redirect_uri`.
pub async fn exchange_code(
    transport: &Transport,
    client_id: &str,
    client_secret: &Secret,
    code: &Secret,
    redirect_uri: &str,
    user_type: UserType,
) -> Result<OAuthGrant> {
    let args = CallArgs::new()
        .param("client_id", client_id)
        .param("client_secret", client_secret.expose())
        .param("grant_type", "authorization_code")
        .param("code", code.expose())
        .param("user_type", user_type.as_str())
        .param("redirect_uri", redirect_uri);
    let issued_at = now();
    let body = post(transport, args).await.map_err(|e| {
        let mut e = scrub(e, &[client_secret, code]);
        e.message = format!("HighLevel refused the sign-in code: {}", e.message);
        e.hint = Some(match e.code {
            ErrorCode::InvalidToken => "check the client id and secret (Marketplace > My Apps > your app > Auth), then run `ghl auth login` again".into(),
            _ => "run `ghl auth login` again; a code works once and for a few minutes".into(),
        });
        e
    })?;
    OAuthGrant::from_response(&body, client_id, client_secret, issued_at)
}

/// Spend `grant`'s refresh token for a new pair. The caller holds the
/// refresh lock and stores the answer before using it.
pub async fn refresh(transport: &Transport, grant: &OAuthGrant) -> Result<OAuthGrant> {
    let args = CallArgs::new()
        .param("client_id", grant.client_id.as_str())
        .param("client_secret", grant.client_secret.expose())
        .param("grant_type", "refresh_token")
        .param("refresh_token", grant.refresh_token.expose())
        .param("user_type", grant.user_type.as_str());
    let issued_at = now();
    let body = post(transport, args).await.map_err(|e| {
        let mut e = scrub(e, &[&grant.client_secret, &grant.refresh_token, &grant.access_token]);
        let resource = grant
            .resource()
            .map(|r| r.to_string())
            .unwrap_or_else(|_| "this account".into());
        e.message = format!("could not refresh the OAuth token for {resource}: {}", e.message);
        e.hint = Some(match e.code {
            ErrorCode::InvalidToken => format!(
                "the refresh token was refused (spent, revoked, or the app was uninstalled): sign in again with `ghl auth login --client-id {}`",
                grant.client_id
            ),
            ErrorCode::Timeout | ErrorCode::Network => format!(
                "the refresh may or may not have reached HighLevel; try again, and if the token is refused, sign in again with `ghl auth login --client-id {}`",
                grant.client_id
            ),
            _ => "try again in a moment".into(),
        });
        e
    })?;
    let mut fresh =
        OAuthGrant::from_response(&body, &grant.client_id, &grant.client_secret, issued_at)?;
    // HighLevel repeats who the token is for; keep what we knew if it does not.
    fresh.location_id = fresh.location_id.or_else(|| grant.location_id.clone());
    fresh.company_id = fresh.company_id.or_else(|| grant.company_id.clone());
    if fresh.resource()? != grant.resource()? {
        return Err(Error::new(
            ErrorCode::InvalidToken,
            "HighLevel refreshed the token for a different location or company",
        )
        .with_hint("sign in again with `ghl auth login`"));
    }
    Ok(fresh)
}

/// Error texts and details never carry the secrets the request held.
fn scrub(mut e: Error, secrets: &[&Secret]) -> Error {
    for s in secrets {
        e.message = s.scrub(&e.message);
        if let Some(d) = e.details.take() {
            e.details = serde_json::from_str(&s.scrub(&d.to_string())).ok();
        }
    }
    e
}
