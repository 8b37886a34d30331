//! Turns global options, environment and config into a ready `Client`:
//! credentials, the sandbox when asked, policy, and the request log.

use std::io::IsTerminal;
use std::sync::Arc;

use ghl_core::config::{self, Overrides, Resolved, Source};
use ghl_core::{Client, Confirm, Defaults, Error, Policy, Secret, Transport, TransportConfig};

use crate::cli::GlobalArgs;
use crate::sandbox_link;

/// Everything a command needs to run.
pub struct Context {
    pub client: Client,
    pub resolved: Resolved,
    /// Keeps an in-process sandbox alive for the length of the command.
    pub _sandbox: Option<sandbox_link::Running>,
}

/// Read settings the way every command does; no network.
pub fn resolve(global: &GlobalArgs) -> Result<Resolved, Error> {
    let token = if global.token_stdin {
        Some(crate::commands::session::read_stdin_token()?)
    } else {
        None
    };
    let flags = Overrides {
        token,
        location_id: global.location.clone(),
        company_id: global.company.clone(),
        agency: global.agency,
        base_url: global.base_url.clone(),
        profile: global.profile.clone(),
    };
    let path = config::config_path();
    let file = config::load(&path)?;
    let env = |k: &str| std::env::var(k).ok();
    config::resolve(
        &flags,
        &env,
        file.as_ref(),
        &crate::keyring_store::OsKeyring,
    )
}

/// Environment beats profile, as documented, even a profile named with
/// `--profile`; an exported token from another account then silently wins.
/// Say so on stderr, since acting on the wrong sub-account is a real harm.
fn warn_env_over_chosen_profile(r: &Resolved) {
    let (Some(Source::Flag), Some(profile)) = (r.sources.get("profile"), r.profile.as_deref())
    else {
        return;
    };
    let from_env: Vec<&str> = ["token", "location_id"]
        .into_iter()
        .filter(|k| matches!(r.sources.get(k), Some(Source::Env(_))))
        .collect();
    if !from_env.is_empty() {
        eprintln!(
            "warning: --profile {profile} is in use, but its {} come from the environment ({}), which overrides profiles; unset them to use the profile's",
            from_env.join(" and "),
            from_env
                .iter()
                .map(|k| if *k == "token" {
                    config::ENV_TOKEN
                } else {
                    config::ENV_LOCATION
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// What every token the sandbox mints starts with.
pub const SANDBOX_TOKEN_PREFIX: &str = "pit-sandbox-";

/// `--sandbox`: point `resolved` at a sandbox (reused or started here), with
/// its default token and location unless a flag or the environment gave
/// them, so restricted sandbox tokens can be tried. Profile values belong to
/// the real API and are replaced.
pub async fn attach_sandbox(resolved: &mut Resolved) -> Result<sandbox_link::Running, Error> {
    let running = sandbox_link::connect_or_start().await?;
    if !matches!(resolved.sources.get("base_url"), Some(Source::Flag)) {
        resolved.base_url = running.base_url.clone();
        resolved.sources.insert("base_url", Source::Flag);
    }
    let explicit =
        |r: &Resolved, k: &str| matches!(r.sources.get(k), Some(Source::Flag | Source::Env(_)));
    // A marketplace app signed in against the sandbox keeps its own tokens.
    let sandbox_app = resolved.oauth.as_ref().is_some_and(|o| o.sandbox);
    if !sandbox_app {
        resolved.oauth = None;
    }
    // Only sandbox tokens go to a sandbox: a real token from the
    // environment must not reach whatever listens at the sandbox address.
    let sandbox_token = resolved
        .token
        .as_ref()
        .is_some_and(|t| t.expose().starts_with(SANDBOX_TOKEN_PREFIX));
    if explicit(resolved, "token") && !sandbox_token && !sandbox_app {
        let from = match resolved.sources.get("token") {
            Some(Source::Env(name)) => name.clone(),
            _ => "the given token".to_string(),
        };
        eprintln!(
            "note: --sandbox ignores {from}: it is not a sandbox token; using the default sandbox token (mint others with `ghl sandbox token`)"
        );
    }
    if (!explicit(resolved, "token") || !sandbox_token) && !sandbox_app {
        resolved.token = Some(Secret::new(ghl_sandbox::DEFAULT_TOKEN));
        resolved.sources.insert("token", Source::Default);
    }
    if !explicit(resolved, "location_id") && !sandbox_app {
        resolved.location_id = Some(ghl_sandbox::DEMO_LOCATION_ID.to_string());
        resolved.sources.insert("location_id", Source::Default);
    }
    Ok(running)
}

pub async fn build(global: &GlobalArgs) -> Result<Context, Error> {
    let mut resolved = resolve(global)?;
    warn_env_over_chosen_profile(&resolved);
    let sandbox = match global.sandbox {
        true => Some(attach_sandbox(&mut resolved).await?),
        false => None,
    };
    let client = client_for(global, &resolved)?;
    Ok(Context {
        client,
        resolved,
        _sandbox: sandbox,
    })
}

pub fn client_for(global: &GlobalArgs, resolved: &Resolved) -> Result<Client, Error> {
    if resolved.token.is_none()
        && let Some(app) = &resolved.oauth
    {
        return crate::oauth_client::client(global, resolved, app);
    }
    let token = resolved.token.clone().ok_or_else(|| {
        Error::config("no HighLevel token is configured")
            .with_hint("run `ghl setup`, set HIGHLEVEL_TOKEN, or practise with `--sandbox`")
    })?;
    let tc = transport_config(global, resolved.base_url.clone(), token);
    let transport = Transport::new(tc)?;
    let client = Client::new(
        Arc::new(transport),
        policy(global),
        Defaults {
            location_id: resolved.location_id.clone(),
            company_id: resolved.company_id.clone(),
        },
    );
    if !resolved.agency {
        return Ok(client);
    }
    let company = resolved.company_id.as_deref().ok_or_else(|| {
        Error::config("an agency token needs the agency's company id")
            .with_hint("pass --company ID, set HIGHLEVEL_COMPANY_ID, or save it in the profile")
    })?;
    Ok(client.with_agency(company))
}

pub(crate) fn policy(global: &GlobalArgs) -> Policy {
    let confirm = if global.yes {
        Confirm::Granted
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        Confirm::Ask(Arc::new(crate::output::ask_confirmation))
    } else {
        Confirm::Refuse
    };
    Policy {
        read_only: global.read_only,
        allow: Vec::new(),
        deny: Vec::new(),
        confirm,
        dry_run: global.dry_run,
    }
}

/// How every transport of this command is configured: per-response wait,
/// response size bound, the command's overall deadline, announced waits.
pub(crate) fn transport_config(
    global: &GlobalArgs,
    base_url: String,
    token: Secret,
) -> TransportConfig {
    let mut tc = TransportConfig::new(base_url, token);
    tc.timeout = std::time::Duration::from_secs(global.response_timeout.max(1));
    tc.max_response_bytes = (global.max_response_mb as usize).saturating_mul(1024 * 1024);
    if let Some(deadline) = crate::deadline::of(global) {
        tc.deadline = Some(deadline);
        tc.timeout = tc
            .timeout
            .min(deadline.saturating_duration_since(std::time::Instant::now()));
    }
    // Long waits are never silent, verbose or not.
    tc.notice = Some(Arc::new(|line: &str| eprintln!("note: {line}")));
    if global.verbose {
        tc.logger = Some(Arc::new(|line: &str| eprintln!("{line}")));
    }
    tc
}
