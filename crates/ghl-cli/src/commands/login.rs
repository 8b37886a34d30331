//! `ghl auth login --client-id ID`: sign a marketplace app in with the
//! authorization-code flow. ghl listens on a loopback redirect URI, prints
//! HighLevel's approval page (and opens it when a browser is at hand),
//! checks the `state` that comes back, trades the code through the
//! pipeline, stores the tokens for the location (or company) and saves a
//! profile that uses them.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use clap::{Args, ValueEnum};
use ghl_core::config::{self, OAuthProfile, Profile};
use ghl_core::oauth::{Resource, UserType, token_endpoint};
use ghl_core::{Error, Secret, Transport};
use serde_json::json;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::session::{self, Mode};
use crate::{credentials, oauth_redirect, oauth_store};

/// Where HighLevel's approval page lives (`marketplace.leadconnectorhq.com`
/// for white-labelled apps: pass --authorize-url).
const MARKETPLACE: &str = "https://marketplace.gohighlevel.com";
const DEFAULT_REDIRECT: &str = "http://127.0.0.1:8041/oauth/callback";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoginUserType {
    /// A sub-account's token
    Location,
    /// An agency's token
    Company,
}

#[derive(Args, Debug, Clone)]
pub struct LoginArgs {
    /// The app's client id (Marketplace > My Apps > your app > Auth)
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// Read the client secret from standard input (else: the keyring or
    /// ghl's private store from an earlier sign-in, or a hidden prompt)
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Scopes to ask for, space separated (default: the app's own)
    #[arg(long, value_name = "SCOPES")]
    pub scope: Option<String>,
    /// Loopback redirect URI registered with the app; ghl listens there
    #[arg(long, value_name = "URL", default_value = DEFAULT_REDIRECT)]
    pub redirect_uri: String,
    /// The kind of token to ask for
    #[arg(long, value_enum, default_value = "location")]
    pub user_type: LoginUserType,
    /// The approval page's host [default: HighLevel's marketplace; the API base URL for the sandbox or a mock]
    #[arg(long, value_name = "URL")]
    pub authorize_url: Option<String>,
    /// Only print the approval address; do not open a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Seconds to wait for the approval
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub wait: u64,
}

fn scope_ok(scope: &str) -> bool {
    scope.len() <= 8192
        && scope
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ./-_".contains(c))
}

pub async fn run(args: LoginArgs, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    // Everything checkable is checked before listening or asking for secrets.
    oauth_store::validate_client_id(&args.client_id)?;
    // Opened before the browser step: a shared store that cannot be
    // reached fails now, not after the code is spent.
    let vault = oauth_store::vault()?;
    if let Some(s) = &args.scope
        && !scope_ok(s)
    {
        return Err(
            Error::validation(format!("scope {s:?} has unexpected characters")).with_hint(
                "scopes look like `contacts.readonly contacts.write`, separated by spaces",
            ),
        );
    }
    let redirect = oauth_redirect::parse_redirect(&args.redirect_uri)?;
    if let Some(p) = &global.profile {
        config::validate_profile_name(p)?;
    }
    let secret = client_secret(&args, global)?;

    // The profile is what this sign-in creates: take nothing from it.
    let mut session = session::open(global, None, Mode::NoProfiles)?;
    session.attach_sandbox(global).await?;
    let resolved = session.resolved.clone();
    let authorize_base = match &args.authorize_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None if resolved.base_url.trim_end_matches('/')
            == ghl_core::transport::DEFAULT_BASE_URL =>
        {
            MARKETPLACE.to_string()
        }
        None => resolved.base_url.trim_end_matches('/').to_string(),
    };
    let mut authorize = url::Url::parse(&format!("{authorize_base}/v2/oauth/chooselocation"))
        .map_err(|e| Error::validation(format!("--authorize-url is not a URL: {e}")))?;

    let listener = oauth_redirect::bind(&redirect).await?;
    let state = random_state();
    {
        let mut q = authorize.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("redirect_uri", listener.redirect_uri.as_str())
            .append_pair("client_id", &args.client_id);
        if let Some(s) = &args.scope {
            q.append_pair("scope", s.trim());
        }
        q.append_pair("state", &state);
    }
    eprintln!("Open this address in a browser signed in to HighLevel and approve the app:");
    eprintln!("  {authorize}");
    eprintln!(
        "Waiting up to {} s for HighLevel to send the browser back to {} (Ctrl-C to stop).",
        args.wait, listener.redirect_uri
    );
    if !args.no_browser {
        open_browser(authorize.as_str());
    }

    let callback = listener
        .wait(&state, Duration::from_secs(args.wait))
        .await?;
    let user_type = match args.user_type {
        LoginUserType::Location => UserType::Location,
        LoginUserType::Company => UserType::Company,
    };
    // The token endpoint takes no bearer token; the transport wants one to
    // redact, so it gets the client id (not a secret).
    let tc = crate::context::transport_config(
        global,
        resolved.base_url.clone(),
        Secret::new(&args.client_id),
    );
    let transport = Transport::new(tc)?;
    let grant = match token_endpoint::exchange_code(
        &transport,
        &args.client_id,
        &secret,
        &callback.code,
        listener.redirect_uri.as_str(),
        user_type,
    )
    .await
    {
        Ok(g) => g,
        Err(e) => {
            callback
                .answer(false, "Signing in failed; ghl says why in the terminal.")
                .await;
            return Err(e);
        }
    };
    let resource = grant.resource()?;
    let stored = vault.save(&resource, &grant).and_then(|_| {
        oauth_store::save_client_secret(&args.client_id, &secret)?;
        save_profile(
            global,
            &args,
            &grant,
            &resource,
            base_url_to_save(global, &resolved),
        )
    });
    let profile = match stored {
        Ok(p) => p,
        Err(e) => {
            callback
                .answer(false, "Signing in failed; ghl says why in the terminal.")
                .await;
            return Err(e);
        }
    };
    callback
        .answer(true, "Signed in to HighLevel. You can close this tab.")
        .await;

    let stored_in = vault.describe();
    let try_it = format!(
        "ghl {}--profile {profile} contacts search",
        if global.sandbox { "--sandbox " } else { "" }
    );
    if fmt == OutputFormat::Table {
        println!("✓ App {} signed in to {resource}.", args.client_id);
        println!("  Profile:   {profile}");
        println!("  Tokens in: {stored_in}");
        println!(
            "  Scopes:    {}",
            if grant.scope.is_empty() {
                "-"
            } else {
                &grant.scope
            }
        );
        println!("  Try:       {try_it}");
        Ok(())
    } else {
        crate::output::body(
            fmt,
            &json!({
                "signed_in": true,
                "profile": profile,
                "client_id": args.client_id,
                "user_type": grant.user_type.as_str(),
                "location_id": grant.location_id,
                "company_id": grant.company_id,
                "scope": grant.scope,
                "expires_at": grant.expires_at,
                "tokens_stored_in": stored_in,
            }),
        )
        .map_err(|e| Error::config(format!("cannot write output: {e}")))
    }
}

/// The secret: standard input when asked, else a stored one, else (for the
/// sandbox's demo app) the sandbox's, else a hidden prompt on a terminal.
/// Never a flag value, which `ps` would show to every user.
fn client_secret(args: &LoginArgs, global: &GlobalArgs) -> Result<Secret, Error> {
    if args.client_secret_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(8 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Error::config(format!("cannot read the client secret from stdin: {e}")))?;
        let s = Secret::new(text.trim());
        if s.is_empty()
            || s.expose()
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::validation("stdin held no single client secret")
                .with_hint("pipe exactly the secret: printf %s \"$SECRET\" | ghl auth login --client-id ID --client-secret-stdin"));
        }
        return Ok(s);
    }
    if let Some(s) = oauth_store::client_secret(&args.client_id)? {
        return Ok(s);
    }
    if global.sandbox && args.client_id == ghl_sandbox::DEMO_CLIENT_ID {
        return Ok(Secret::new(ghl_sandbox::DEMO_CLIENT_SECRET));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        let raw = inquire::Password::new("Client secret (input hidden):")
            .without_confirmation()
            .with_display_mode(inquire::PasswordDisplayMode::Hidden)
            .prompt()
            .map_err(|e| Error::config(format!("sign-in cancelled: {e}")))?;
        let s = Secret::new(raw);
        if !s.is_empty() {
            return Ok(s);
        }
    }
    Err(Error::validation(format!("no client secret is stored for {}", args.client_id))
        .with_hint("pipe it in: printf %s \"$SECRET\" | ghl auth login --client-id ID --client-secret-stdin"))
}

/// Unguessable, so that only the approval page this run opened can finish it.
fn random_state() -> String {
    let bytes: [u8; 24] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Open the page where a browser can be: a desktop session on Linux, always
/// on macOS. Failing to open is fine: the address is printed.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if cfg!(unix)
        && (std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some())
    {
        Some("xdg-open")
    } else {
        None
    };
    if let Some(cmd) = opener {
        let _ = std::process::Command::new(cmd)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

/// A base URL given explicitly (a proxy, a mock) goes with the profile;
/// the sandbox's changes from run to run and is never saved.
fn base_url_to_save(global: &GlobalArgs, resolved: &config::Resolved) -> Option<String> {
    if global.sandbox {
        return None;
    }
    matches!(
        resolved.sources.get("base_url"),
        Some(config::Source::Flag | config::Source::Env(_))
    )
    .then(|| resolved.base_url.clone())
}

/// Save (or replace) the profile that uses these tokens; returns its name.
fn save_profile(
    global: &GlobalArgs,
    args: &LoginArgs,
    grant: &ghl_core::oauth::OAuthGrant,
    resource: &Resource,
    base_url: Option<String>,
) -> Result<String, Error> {
    let name = global
        .profile
        .clone()
        .unwrap_or_else(|| format!("app-{}", resource.id()));
    config::validate_profile_name(&name)?;
    let path = config::config_path();
    let mut file = credentials::load_or_default(&path)?;
    let mut profile = Profile {
        location_id: grant.location_id.clone(),
        company_id: grant.company_id.clone(),
        base_url,
        // A company sign-in acts in locations through minted location tokens.
        agency: grant.user_type == UserType::Company,
        oauth: Some(OAuthProfile {
            client_id: args.client_id.clone(),
            user_type: grant.user_type.as_str().to_string(),
            sandbox: global.sandbox,
        }),
        ..Profile::default()
    };
    if let Some(old) = file.profiles.get(&name) {
        // The profile now signs in as the app: drop a token it held.
        let mut old = old.clone();
        credentials::remove_token(&name, &mut old, &path)?;
        profile.location_name = old
            .location_name
            .filter(|_| old.location_id == profile.location_id);
    }
    file.set_profile(&name, profile);
    config::save(&path, &file)?;
    Ok(name)
}
