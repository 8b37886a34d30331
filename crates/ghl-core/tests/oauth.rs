//! OAuth against the embedded sandbox: a code from the approval page is
//! traded for tokens, refresh tokens rotate (a spent one is refused), many
//! tasks needing a fresh token at once cause one refresh, a refused token is
//! refreshed once and the request resent, and uninstalling removes tokens.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ghl_core::oauth::{
    FileVault, OAuthGrant, OAuthSession, Resource, TokenVault, UserType, remove_tokens,
    token_endpoint,
};
use ghl_core::{CallArgs, Client, Defaults, ErrorCode, Policy, Secret, Transport, TransportConfig};
use serde_json::Value;

const LOC: &str = ghl_sandbox::DEMO_LOCATION_ID;

async fn sandbox(dir: &Path, access_ttl: Duration) -> ghl_sandbox::Sandbox {
    let mut opts = ghl_sandbox::SandboxOptions::new(dir.join("sandbox.db"));
    opts.seed = ghl_sandbox::Seed::Empty;
    opts.oauth_access_ttl = access_ttl;
    ghl_sandbox::start(opts).await.unwrap()
}

async fn stats(base: &str) -> Value {
    reqwest::get(format!("{base}/_sandbox/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Walk the approval page the way a browser would, stopping at the redirect.
async fn approve(base: &str, redirect_uri: &str, state: &str) -> String {
    approve_scoped(
        base,
        redirect_uri,
        state,
        "contacts.readonly contacts.write",
    )
    .await
}

async fn approve_scoped(base: &str, redirect_uri: &str, state: &str, scope: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(format!("{base}/oauth/chooselocation"))
        .query(&[
            ("response_type", "code"),
            ("client_id", ghl_sandbox::DEMO_CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("scope", scope),
            ("state", state),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    let to = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(to.as_str().starts_with(redirect_uri), "{to}");
    let q: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state);
    q["code"].clone()
}

fn transport(base: &str, token: &Secret) -> Arc<Transport> {
    Arc::new(Transport::new(TransportConfig::new(base, token.clone())).unwrap())
}

async fn sign_in(base: &str) -> OAuthGrant {
    let redirect = "http://127.0.0.1:9/callback";
    let code = approve(base, redirect, "st4te").await;
    let t = transport(base, &Secret::new("unused-bearer"));
    token_endpoint::exchange_code(
        &t,
        ghl_sandbox::DEMO_CLIENT_ID,
        &Secret::new(ghl_sandbox::DEMO_CLIENT_SECRET),
        &Secret::new(code),
        redirect,
        UserType::Location,
    )
    .await
    .unwrap()
}

fn client(base: &str, session: Arc<OAuthSession>, first: &Secret) -> Client {
    Client::new(
        transport(base, first),
        Policy::default(),
        Defaults {
            location_id: Some(LOC.into()),
            company_id: None,
        },
    )
    .with_oauth(session)
}

#[tokio::test]
async fn code_exchange_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), Duration::from_secs(86_399)).await;
    let base = sb.base_url();
    let grant = sign_in(&base).await;
    assert_eq!(grant.resource().unwrap(), Resource::Location(LOC.into()));
    assert_eq!(grant.scope, "contacts.readonly contacts.write");

    // A code works once.
    let redirect = "http://127.0.0.1:9/callback";
    let code = Secret::new(approve(&base, redirect, "s").await);
    let t = transport(&base, &Secret::new("unused-bearer"));
    let secret = Secret::new(ghl_sandbox::DEMO_CLIENT_SECRET);
    let id = ghl_sandbox::DEMO_CLIENT_ID;
    token_endpoint::exchange_code(&t, id, &secret, &code, redirect, UserType::Location)
        .await
        .unwrap();
    let again = token_endpoint::exchange_code(&t, id, &secret, &code, redirect, UserType::Location)
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::InvalidToken, "{again}");

    // Refresh rotates: the new pair works, the spent refresh token is
    // refused with HighLevel's error body.
    let fresh = token_endpoint::refresh(&t, &grant).await.unwrap();
    assert_ne!(fresh.refresh_token, grant.refresh_token);
    assert_ne!(fresh.access_token, grant.access_token);
    let spent = token_endpoint::refresh(&t, &grant).await.unwrap_err();
    assert_eq!(spent.code, ErrorCode::InvalidToken);
    assert_eq!(spent.status, Some(401));
    let body = spent.details.clone().unwrap();
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["message"], "Invalid grant: refresh token is invalid");
    let shown = format!("{} {:?} {}", spent.message, spent.hint, body);
    assert!(!shown.contains(grant.refresh_token.expose()), "{shown}");
    assert!(!shown.contains(ghl_sandbox::DEMO_CLIENT_SECRET), "{shown}");
    token_endpoint::refresh(&t, &fresh).await.unwrap();

    // A wrong client secret is refused before anything is spent.
    let mut wrong = fresh.clone();
    wrong.client_secret = Secret::new("not-the-secret");
    assert!(token_endpoint::refresh(&t, &wrong).await.is_err());
    let s = stats(&base).await;
    assert_eq!(s["oauth"]["refreshes"], 2, "{s}");
    assert_eq!(s["oauth"]["spent_refused"], 1, "{s}");
    sb.shutdown().await;
}

#[tokio::test]
async fn concurrent_tasks_refresh_once() {
    let dir = tempfile::tempdir().unwrap();
    // A slow sandbox, so every task is waiting while the refresh is out.
    let mut opts = ghl_sandbox::SandboxOptions::new(dir.path().join("sandbox.db"));
    opts.seed = ghl_sandbox::Seed::Empty;
    opts.latency_ms = 150;
    let sb = ghl_sandbox::start(opts).await.unwrap();
    let base = sb.base_url();
    let mut grant = sign_in(&base).await;
    // Due for refresh.
    grant.expires_at = ghl_core::oauth::grant::now() - 1;
    let vault: Arc<dyn TokenVault> = Arc::new(FileVault::new(dir.path().join("oauth")));
    let r = grant.resource().unwrap();
    vault.save(&r, &grant).unwrap();
    let session =
        Arc::new(OAuthSession::open(r.clone(), vault.clone(), dir.path().join("oauth")).unwrap());
    let c = client(&base, session.clone(), &grant.access_token);

    let calls = (0..12).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.call("contacts.get-contacts", CallArgs::new()).await })
    });
    for h in futures::future::join_all(calls).await {
        h.unwrap().unwrap();
    }
    let s = stats(&base).await;
    assert_eq!(s["oauth"]["refresh_requests"], 1, "{s}");
    let stored = vault.load(&r).unwrap().unwrap();
    assert_ne!(stored.refresh_token, grant.refresh_token);
    assert_eq!(session.peek().await, stored.access_token);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_request_resent() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), Duration::from_secs(1)).await;
    let base = sb.base_url();
    let mut grant = sign_in(&base).await;
    // The client believes the token is good for long; HighLevel disagrees.
    grant.expires_at = ghl_core::oauth::grant::now() + 10_000;
    let vault: Arc<dyn TokenVault> = Arc::new(FileVault::new(dir.path().join("oauth")));
    let r = grant.resource().unwrap();
    vault.save(&r, &grant).unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let session =
        Arc::new(OAuthSession::open(r.clone(), vault.clone(), dir.path().join("oauth")).unwrap());
    let c = client(&base, session, &grant.access_token);
    c.call("contacts.get-contacts", CallArgs::new())
        .await
        .unwrap();
    let s = stats(&base).await;
    assert_eq!(s["oauth"]["refreshes"], 1, "{s}");
    assert_ne!(
        vault.load(&r).unwrap().unwrap().access_token,
        grant.access_token
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn uninstall_removes_the_locations_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), Duration::from_secs(86_399)).await;
    let grant = sign_in(&sb.base_url()).await;
    let oauth_dir = dir.path().join("oauth");
    let vault = FileVault::new(&oauth_dir);
    let r = grant.resource().unwrap();
    vault.save(&r, &grant).unwrap();
    let app = ghl_sandbox::DEMO_CLIENT_ID.split('-').next().unwrap();

    // Another app's uninstall leaves these tokens alone.
    assert!(!remove_tokens(&vault, &oauth_dir, &r, Some("someOtherApp")).unwrap());
    assert!(vault.load(&r).unwrap().is_some());
    assert!(remove_tokens(&vault, &oauth_dir, &r, Some(app)).unwrap());
    assert!(!vault.path(&r).exists());
    assert!(!remove_tokens(&vault, &oauth_dir, &r, None).unwrap());
    let v: Arc<dyn TokenVault> = Arc::new(vault);
    let e = OAuthSession::open(r, v, oauth_dir).unwrap_err();
    assert!(
        e.hint.as_deref().unwrap_or("").contains("ghl auth login"),
        "{e}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn an_early_refresh_that_fails_in_passing_keeps_the_valid_token() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(503).set_body_json(serde_json::json!({
            "statusCode": 503, "message": "Service Unavailable"})))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/"))
        .and(header("authorization", "Bearer acc-still-good-0000000000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"contacts": []})))
        .expect(1)
        .mount(&server)
        .await;
    let body = serde_json::json!({"access_token": "acc-still-good-0000000000",
        "refresh_token": "ref-0000000000000000", "expires_in": 86399,
        "userType": "Location", "locationId": LOC});
    let now = ghl_core::oauth::grant::now();
    // Due for an early refresh: two minutes left of a day.
    let grant =
        OAuthGrant::from_response(&body, "app-x", &Secret::new("sec-x"), now - 86_279).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault: Arc<dyn TokenVault> = Arc::new(FileVault::new(dir.path().join("oauth")));
    let r = grant.resource().unwrap();
    vault.save(&r, &grant).unwrap();
    let session =
        Arc::new(OAuthSession::open(r.clone(), vault.clone(), dir.path().join("oauth")).unwrap());
    let c = client(&server.uri(), session, &grant.access_token);
    c.call("contacts.get-contacts", CallArgs::new())
        .await
        .unwrap();

    // Once it has expired, the failure is the caller's to see.
    let mut expired = grant.clone();
    expired.expires_at = now - 1;
    vault.save(&r, &expired).unwrap();
    let session = Arc::new(OAuthSession::open(r, vault, dir.path().join("oauth")).unwrap());
    let c = client(&server.uri(), session, &grant.access_token);
    let e = c
        .call("contacts.get-contacts", CallArgs::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Server, "{e}");
}

#[tokio::test]
async fn a_company_sign_in_mints_location_tokens_with_its_oauth_token() {
    let dir = tempfile::tempdir().unwrap();
    let sb = sandbox(dir.path(), Duration::from_secs(86_399)).await;
    let base = sb.base_url();
    let redirect = "http://127.0.0.1:9/callback";
    let scope = "oauth.write contacts.readonly";
    let code = Secret::new(approve_scoped(&base, redirect, "s", scope).await);
    let t = transport(&base, &Secret::new("unused-bearer"));
    let mut grant = token_endpoint::exchange_code(
        &t,
        ghl_sandbox::DEMO_CLIENT_ID,
        &Secret::new(ghl_sandbox::DEMO_CLIENT_SECRET),
        &code,
        redirect,
        UserType::Company,
    )
    .await
    .unwrap();
    let r = grant.resource().unwrap();
    assert_eq!(r, Resource::Company(ghl_sandbox::DEMO_COMPANY_ID.into()));
    // Due for refresh, so the mint runs with the refreshed company token.
    grant.expires_at = ghl_core::oauth::grant::now() - 1;
    let vault: Arc<dyn TokenVault> = Arc::new(FileVault::new(dir.path().join("oauth")));
    vault.save(&r, &grant).unwrap();
    let session =
        Arc::new(OAuthSession::open(r.clone(), vault.clone(), dir.path().join("oauth")).unwrap());
    // The company token alone cannot act inside the location...
    let direct = client(&base, session.clone(), &grant.access_token)
        .call("contacts.get-contacts", CallArgs::new())
        .await
        .unwrap_err();
    assert_eq!(direct.code, ErrorCode::LocationForbidden, "{direct}");
    // ...but mints a location token that can.
    let c = client(&base, session, &grant.access_token).with_agency(ghl_sandbox::DEMO_COMPANY_ID);
    c.call("contacts.get-contacts", CallArgs::new())
        .await
        .unwrap();
    let s = stats(&base).await;
    assert_eq!(s["oauth"]["refresh_requests"], 1, "{s}");
    sb.shutdown().await;
}
