//! `ghl profiles list|show|use|remove`: one profile per location (or agency
//! token). Tokens are only ever shown redacted.

use std::io::IsTerminal;

use clap::Subcommand;
use ghl_core::config::{self, Source, TokenStore};
use ghl_core::{Error, Secret};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::session::{self, Mode};
use crate::credentials;
use crate::keyring_store::OsKeyring;

#[derive(Subcommand, Debug, Clone)]
pub enum ProfilesCommand {
    /// Every profile, the default marked
    List,
    /// The settings in force (or profile NAME's) and where each value comes from
    Show { name: Option<String> },
    /// Make NAME the default profile
    Use { name: String },
    /// Delete profile NAME and its saved token
    Remove { name: String },
}

pub async fn run(
    cmd: ProfilesCommand,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    match cmd {
        ProfilesCommand::List => list(fmt),
        ProfilesCommand::Show { name } => show(name, global, fmt).await,
        ProfilesCommand::Use { name } => use_profile(&name, fmt),
        ProfilesCommand::Remove { name } => remove(&name, global, fmt),
    }
}

fn io(e: std::io::Error) -> Error {
    Error::config(format!("cannot write output: {e}"))
}

fn list(fmt: OutputFormat) -> Result<(), Error> {
    let path = config::config_path();
    let file = credentials::load_or_default(&path)?;
    let rows: Vec<Value> = file
        .profiles
        .iter()
        .map(|(name, p)| {
            let token = match (&p.token, p.in_keyring()) {
                (Some(t), _) => Some(Secret::new(t.as_str()).redacted()),
                (None, true) => OsKeyring.get(name).map(|t| t.redacted()),
                _ => None,
            };
            json!({
                "name": name,
                "default": file.default_profile.as_deref() == Some(name),
                "location_id": p.location_id,
                "location_name": p.location_name,
                "token": token,
                "token_stored_in": credentials::where_stored(p, &path),
                "base_url": p.base_url,
            })
        })
        .collect();
    if fmt == OutputFormat::Table && rows.is_empty() {
        println!("No profiles yet in {}: run `ghl setup`.", path.display());
        return Ok(());
    }
    if fmt == OutputFormat::Table {
        // A compact view; `-o json` has every field.
        let view: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": format!("{}{}", r["name"].as_str().unwrap_or(""), if r["default"] == json!(true) { " *" } else { "" }),
                    "location": r["location_id"],
                    "location name": r["location_name"],
                    "token": r["token"],
                    "stored in": r["token_stored_in"],
                })
            })
            .collect();
        crate::output::records(fmt, &view).map_err(io)?;
        println!("(* default)  config: {}", path.display());
        return Ok(());
    }
    crate::output::records(fmt, &rows).map_err(io)
}

fn source_name(key: &str, s: Option<&Source>) -> Value {
    match s {
        None => Value::Null,
        Some(Source::Default) if key == "profile" => json!("default_profile"),
        Some(Source::Flag) => json!("flag"),
        Some(Source::Env(v)) => json!(format!("environment ({v})")),
        Some(Source::Profile(p)) => json!(format!("profile ({p})")),
        Some(Source::Keyring(p)) => json!(format!("keyring ({p})")),
        Some(Source::Default) => json!("default"),
    }
}

async fn show(name: Option<String>, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let mut g = global.clone();
    if let Some(n) = name {
        if global.profile.as_ref().is_some_and(|p| *p != n) {
            return Err(Error::validation(
                "give the profile either as NAME or with --profile, not both",
            ));
        }
        g.profile = Some(n);
    }
    let token = if g.token_stdin {
        Some(session::read_stdin_token()?)
    } else {
        None
    };
    let mut s = session::open(&g, token, Mode::Strict)?;
    s.attach_sandbox(&g).await?;
    let r = &s.resolved;
    let field = |value: Value, key: &str| json!({"value": value, "source": source_name(key, r.sources.get(key))});
    let profile = r
        .profile
        .as_ref()
        .and_then(|n| s.file.as_ref()?.profiles.get(n));
    let report = json!({
        "profile": field(json!(r.profile), "profile"),
        "token": field(json!(r.token.as_ref().map(Secret::redacted)), "token"),
        "location_id": field(json!(r.location_id), "location_id"),
        "base_url": field(json!(r.base_url), "base_url"),
        "company_id": r.company_id,
        "location_name": profile.and_then(|p| p.location_name.clone()),
        "token_stored_in": profile.map(|p| credentials::where_stored(p, &s.path)),
        "config": s.path.display().to_string(),
    });
    if fmt != OutputFormat::Table {
        return crate::output::body(fmt, &report).map_err(io);
    }
    let rows = ["profile", "token", "location_id", "base_url"];
    for k in rows {
        let v = &report[k];
        let value = v["value"].as_str().unwrap_or("-");
        let src = v["source"].as_str().unwrap_or("unset");
        println!("{k:<12} {value:<40} from {src}");
    }
    if let Some(n) = report["location_name"].as_str() {
        println!("{:<12} {n}", "location");
    }
    if let Some(w) = report["token_stored_in"].as_str() {
        println!("{:<12} {w}", "stored in");
    }
    println!("{:<12} {}", "config", s.path.display());
    Ok(())
}

fn use_profile(name: &str, fmt: OutputFormat) -> Result<(), Error> {
    let path = config::config_path();
    let _lock = config::lock(&path)?;
    let mut file = credentials::load_or_default(&path)?;
    file.use_profile(name)?;
    config::save(&path, &file)?;
    if fmt == OutputFormat::Table {
        println!("✓ {name} is now the default profile.");
        Ok(())
    } else {
        crate::output::body(fmt, &json!({"default_profile": name})).map_err(io)
    }
}

fn remove(name: &str, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let path = config::config_path();
    let _lock = config::lock(&path)?;
    let mut file = credentials::load_or_default(&path)?;
    let p = credentials::profile_mut(&mut file, name)?;
    let location = p.location_id.clone().unwrap_or_else(|| "-".into());
    if !global.yes {
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            return Err(Error::new(
                ghl_core::ErrorCode::ConfirmationRequired,
                format!("removing profile {name} needs confirmation"),
            )
            .with_hint("add --yes"));
        }
        let ok = inquire::Confirm::new(&format!(
            "Remove profile {name} (location {location}) and its saved token?"
        ))
        .with_default(false)
        .prompt()
        .unwrap_or(false);
        if !ok {
            return Err(Error::config("nothing was removed"));
        }
    }
    let from = credentials::remove_token(name, p, &path)?;
    file.remove_profile(name);
    let was_default = file.default_profile.is_none();
    config::save(&path, &file)?;
    if fmt != OutputFormat::Table {
        return crate::output::body(fmt, &json!({"removed": name, "token_removed_from": from}))
            .map_err(io);
    }
    println!(
        "✓ Removed profile {name}{}.",
        from.map(|f| format!(" and its token (from {f})"))
            .unwrap_or_default()
    );
    if was_default && !file.profiles.is_empty() {
        println!("  There is no default profile now: `ghl profiles use NAME` picks one.");
    }
    Ok(())
}
