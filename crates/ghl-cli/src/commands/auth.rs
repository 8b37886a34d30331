//! `ghl auth status|rotate|logout`: the token of the profile in use;
//! `ghl auth login`: sign a marketplace app in (see `login`).

use std::io::IsTerminal;

use clap::Subcommand;
use ghl_core::config::{self, Source};
use ghl_core::{Error, Secret};
use inquire::{InquireError, Password, PasswordDisplayMode};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::probe;
use crate::commands::session::{self, Mode, Session};
use crate::credentials;

#[derive(Subcommand, Debug, Clone)]
pub enum AuthCommand {
    /// Profile, token (redacted), where it is stored, location, and whether it works
    Status,
    /// Replace the profile's token with a new one, verified against its location first
    /// (for "rotate and expire later" in HighLevel). Reads it hidden, or with --token-stdin
    Rotate,
    /// Remove the profile's token from the OS keyring or the config file
    Logout,
    /// Sign a marketplace app in with OAuth: approve it in the browser, tokens
    /// are stored for the location (or company) and refreshed as they expire
    Login(crate::commands::login::LoginArgs),
}

pub async fn run(cmd: AuthCommand, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    match cmd {
        AuthCommand::Status => status(global, fmt).await,
        AuthCommand::Rotate => rotate(global, fmt).await,
        AuthCommand::Logout => logout(global, fmt),
        AuthCommand::Login(args) => crate::commands::login::run(args, global, fmt).await,
    }
}

fn io(e: std::io::Error) -> Error {
    Error::config(format!("cannot write output: {e}"))
}

fn describe_source(key: &str, s: Option<&Source>, sandbox: bool) -> String {
    match s {
        Some(Source::Default) if key == "profile" => {
            "default_profile in the config file".to_string()
        }
        Some(Source::Default) if sandbox && key != "base_url" => "sandbox default".to_string(),
        Some(s) => s.to_string(),
        None => "unset".to_string(),
    }
}

// ------------------------------------------------------------------ status

async fn status(global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let token = if global.token_stdin {
        Some(session::read_stdin_token()?)
    } else {
        None
    };
    let mut s = session::open(global, token, Mode::Strict)?;
    s.attach_sandbox(global).await?;
    let r = &s.resolved;
    let src = |k: &str| describe_source(k, r.sources.get(k), global.sandbox);
    let stored = stored_in(&s);
    let mut report = json!({
        "profile": r.profile,
        "profile_source": r.profile.as_ref().map(|_| src("profile")),
        "token": r.token.as_ref().map(Secret::redacted),
        "token_source": r.token.as_ref().map(|_| src("token")),
        "token_stored_in": stored,
        "location_id": r.location_id,
        "location_source": r.location_id.as_ref().map(|_| src("location_id")),
        "base_url": r.base_url,
        "works": false,
    });
    if r.token.is_none()
        && let Some(app) = &r.oauth
    {
        report["token"] = json!(format!("OAuth tokens of app {}", app.client_id));
        report["token_source"] = json!("ghl auth login");
        report["token_stored_in"] = json!(crate::oauth_store::vault()?.describe());
    }
    let signed_in = r.token.is_some() || r.oauth.is_some();
    let outcome = match (signed_in, &r.location_id) {
        (false, _) => Err(Error::config("no token is configured")
            .with_hint("run `ghl setup`, set HIGHLEVEL_TOKEN, or add --sandbox")),
        (true, None) => Err(Error::config("no location is configured")
            .with_hint("pass --location ID, set HIGHLEVEL_LOCATION_ID, or run `ghl setup`")),
        (true, Some(loc)) => {
            let client = s.client(global)?;
            probe::verify(&client, loc).await.map_err(|e| {
                let why = probe::explain(&e, loc);
                let mut e = e;
                e.hint = Some(why);
                e
            })
        }
    };
    match &outcome {
        Ok(v) => {
            report["works"] = json!(true);
            report["location_name"] = json!(v.name);
            if let Some(w) = &v.warning {
                report["note"] = json!(w);
            }
        }
        Err(e) => {
            report["error"] = json!(e.code.as_str());
            report["problem"] = json!(e.hint.clone().unwrap_or_else(|| e.message.clone()));
        }
    }
    print_report(fmt, &report)?;
    outcome.map(|_| ())
}

/// Where the token in use is kept, in words.
fn stored_in(s: &Session) -> String {
    let r = &s.resolved;
    match r.sources.get("token") {
        Some(Source::Flag) => "nowhere (given on the command line)".into(),
        Some(Source::Env(v)) => format!("the environment ({v})"),
        Some(Source::Default) => "nowhere (the sandbox's default token)".into(),
        Some(Source::Profile(_) | Source::Keyring(_)) => r
            .profile
            .as_ref()
            .and_then(|n| s.file.as_ref()?.profiles.get(n))
            .map(|p| credentials::where_stored(p, &s.path))
            .unwrap_or_else(|| "unknown".into()),
        None => "nowhere".into(),
    }
}

fn print_report(fmt: OutputFormat, report: &Value) -> Result<(), Error> {
    if fmt != OutputFormat::Table {
        return crate::output::body(fmt, report).map_err(io);
    }
    let g = |k: &str| match report.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => {
            if *b {
                "yes".into()
            } else {
                "no".into()
            }
        }
        _ => "-".into(),
    };
    let with_src = |k: &str, src: &str| {
        let v = g(k);
        if v == "-" {
            v
        } else {
            format!("{v}  (from {})", g(src))
        }
    };
    let works = if report["works"] == json!(true) {
        "yes".to_string()
    } else {
        format!("no: {}", g("problem"))
    };
    let mut lines = vec![
        ("profile", with_src("profile", "profile_source")),
        ("token", with_src("token", "token_source")),
        ("stored in", g("token_stored_in")),
        ("location", with_src("location_id", "location_source")),
    ];
    if report.get("location_name").is_some_and(Value::is_string) {
        lines.push(("location name", g("location_name")));
    }
    lines.push(("api", g("base_url")));
    lines.push(("works", works));
    if report.get("note").is_some_and(Value::is_string) {
        lines.push(("note", g("note")));
    }
    for (k, v) in lines {
        println!("{k:<14} {v}");
    }
    Ok(())
}

// ------------------------------------------------------------------ rotate

fn read_new_token(global: &GlobalArgs) -> Result<Secret, Error> {
    if global.token_stdin {
        return session::read_stdin_token();
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::validation("no terminal to read the new token from")
            .with_hint("pipe it: printf %s \"$NEW_TOKEN\" | ghl auth rotate --token-stdin"));
    }
    let raw = Password::new("New token (input hidden):")
        .without_confirmation()
        .with_display_mode(PasswordDisplayMode::Hidden)
        .with_help_message(
            "in HighLevel: Settings > Private Integrations > your integration > Rotate",
        )
        .prompt()
        .map_err(|e| match e {
            InquireError::OperationInterrupted | InquireError::OperationCanceled => {
                Error::config("rotation cancelled: the old token is still in place")
            }
            other => Error::config(format!("prompt failed: {other}")),
        })?;
    let t = Secret::new(raw);
    if t.is_empty() {
        return Err(Error::validation("the new token is empty"));
    }
    Ok(t)
}

async fn rotate(global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    // Which profile, before asking for anything.
    let path = config::config_path();
    let file = credentials::load_or_default(&path)?;
    let name = credentials::selected_name(global.profile.as_deref(), &file)?;
    let profile = credentials::profile(&file, &name)?.clone();
    let location = global
        .location
        .clone()
        .or_else(|| profile.location_id.clone())
        .or_else(|| {
            global
                .sandbox
                .then(|| ghl_sandbox::DEMO_LOCATION_ID.to_string())
        })
        .ok_or_else(|| {
            Error::config(format!(
                "profile {name} has no location to verify the new token against"
            ))
            .with_hint("pass --location ID")
        })?;
    let new = read_new_token(global)?;
    let old = crate::keyring_store::OsKeyring;
    let current = profile
        .token
        .clone()
        .map(Secret::new)
        .or_else(|| ghl_core::config::TokenStore::get(&old, &name));
    if current.as_ref() == Some(&new) {
        return Err(
            Error::validation(format!("that is the token profile {name} already has"))
                .with_hint("copy the new token HighLevel showed after Rotate"),
        );
    }

    // Verify the new token before touching the old one.
    let mut scoped = global.clone();
    scoped.profile = Some(name.clone());
    let mut s = session::open(&scoped, Some(new.clone()), Mode::Strict)?;
    s.attach_sandbox(global).await?;
    let client = s.client_with(global, &new, &location)?;
    let verified = probe::verify(&client, &location).await.map_err(|e| {
        let why = probe::explain(&e, &location);
        let mut e = e;
        e.hint = Some(format!("{why} The old token was kept."));
        e
    })?;

    // Replace: re-read the file, change only this profile's token.
    let _lock = config::lock(&path)?;
    let mut file = credentials::load_or_default(&path)?;
    let p = credentials::profile_mut(&mut file, &name)?;
    let placement = credentials::place_token(&name, p, &new);
    if let Some(n) = &verified.name {
        p.location_name = Some(n.clone());
    }
    config::save(&path, &file)?;
    let report = json!({
        "profile": name,
        "rotated": true,
        "token": new.redacted(),
        "token_stored_in": placement.describe(&path),
        "location_id": location,
        "location_name": verified.name,
    });
    if fmt == OutputFormat::Table {
        println!(
            "✓ New token for profile {name} verified against {location} and saved ({}).",
            new.redacted()
        );
        println!("  Stored in: {}", placement.describe(&path));
        println!(
            "  The old token keeps working until HighLevel expires it (7 days with \"rotate and expire later\")."
        );
        Ok(())
    } else {
        crate::output::body(fmt, &report).map_err(io)
    }
}

// ------------------------------------------------------------------ logout

/// A marketplace app's profile: its stored OAuth tokens go (under the
/// refresh lock), and the profile stops signing in as the app.
fn logout_app(
    name: &str,
    profile: config::Profile,
    app: config::OAuthProfile,
    path: &std::path::Path,
    file: &mut config::ConfigFile,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let location = profile.location_id.as_deref();
    let company = profile.company_id.as_deref();
    let removed = if app.user_type.eq_ignore_ascii_case("company") {
        crate::oauth_store::remove_app_tokens(None, company, None)?
    } else {
        crate::oauth_store::remove_app_tokens(location, None, None)?
    };
    config::save(path, file)?;
    if fmt != OutputFormat::Table {
        return crate::output::body(
            fmt,
            &json!({"profile": name, "client_id": app.client_id, "tokens_removed": removed}),
        )
        .map_err(io);
    }
    if removed {
        println!(
            "✓ Removed the OAuth tokens of app {} (profile {name}).",
            app.client_id
        );
    } else {
        println!("Profile {name} had no stored OAuth tokens.");
    }
    println!("  The app stays installed in HighLevel until it is uninstalled there.");
    Ok(())
}

fn logout(global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let path = config::config_path();
    let _lock = config::lock(&path)?;
    let mut file = credentials::load_or_default(&path)?;
    let name = credentials::selected_name(global.profile.as_deref(), &file)?;
    let p = credentials::profile_mut(&mut file, &name)?;
    if let Some(app) = p.oauth.take() {
        return logout_app(&name, p.clone(), app, &path, &mut file, fmt);
    }
    let removed = credentials::remove_token(&name, p, &path)?;
    if removed.is_some() {
        config::save(&path, &file)?;
    }
    let env_set = std::env::var(config::ENV_TOKEN).is_ok_and(|v| !v.trim().is_empty());
    if fmt != OutputFormat::Table {
        return crate::output::body(
            fmt,
            &json!({"profile": name, "removed_from": removed, "env_token_still_set": env_set}),
        )
        .map_err(io);
    }
    match &removed {
        Some(from) => println!("✓ Removed the token of profile {name} from {from}."),
        None => println!("Profile {name} had no saved token."),
    }
    println!("  The profile and its location stay (`ghl profiles remove {name}` deletes it).");
    println!("  The token itself still works in HighLevel until you delete or rotate it there.");
    if env_set {
        println!(
            "  Note: {} is still set in this environment.",
            config::ENV_TOKEN
        );
    }
    Ok(())
}
