//! `ghl setup`: connect a HighLevel sub-account and save it as a profile.
//!
//! Interactive on a terminal (a wizard); with `--token-stdin` it asks
//! nothing. Either way the token is verified against the location first, and
//! the config file is written once, at the very end, atomically: Ctrl-C at
//! any prompt leaves the old file (or no file) untouched.

use std::io::IsTerminal;

use ghl_core::config::{self, Profile};
use ghl_core::{Error, ErrorCode, Secret};
use inquire::{Confirm, InquireError, Password, PasswordDisplayMode, Select, Text};
use serde_json::json;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::commands::guide::{self, SCOPE_SETS};
use crate::commands::probe::{self, Verified};
use crate::commands::session::{self, Mode, Session};
use crate::credentials::{self, Placement};

pub const DEFAULT_PROFILE: &str = "default";

pub async fn run(global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    if global.token_stdin {
        return non_interactive(global, fmt).await;
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::validation("`ghl setup` asks questions, but this is not a terminal")
            .with_hint("without a terminal: printf %s \"$TOKEN\" | ghl setup --token-stdin --location ID --profile NAME"));
    }
    interactive(global).await
}

// ---------------------------------------------------------------- location

/// A Location ID, or an app URL holding one (`.../location/{id}/...`).
pub fn parse_location_input(input: &str) -> Result<String, Error> {
    let text = input.trim();
    if text.is_empty() {
        return Err(Error::validation("the Location ID is empty"));
    }
    let id = if let Some(pos) = text.find("/location/") {
        let rest = &text[pos + "/location/".len()..];
        rest.split(['/', '?', '#']).next().unwrap_or("")
    } else if text.contains("://") || text.contains('/') {
        return Err(Error::validation("this URL holds no Location ID (no /location/<ID>/ in it)")
            .with_hint("open the sub-account in HighLevel and copy the address from there, or type the ID from Settings > Business Profile"));
    } else {
        text
    };
    let ok = (6..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(
            Error::validation(format!("{id:?} does not look like a Location ID"))
                .with_hint("a Location ID is letters and digits, like ve9EPM428h8vShlRW1KT"),
        );
    }
    Ok(id.to_string())
}

// ------------------------------------------------------------- interactive

fn cancelled() -> Error {
    Error::config("setup cancelled: nothing was saved")
}

/// Map a prompt's failure: Ctrl-C and Esc cancel the whole setup.
fn asked<T>(r: Result<T, InquireError>) -> Result<T, Error> {
    r.map_err(|e| match e {
        InquireError::OperationInterrupted | InquireError::OperationCanceled => cancelled(),
        InquireError::NotTTY => Error::validation("`ghl setup` needs a terminal")
            .with_hint("use --token-stdin --location ID --profile NAME"),
        other => Error::config(format!("prompt failed: {other}")),
    })
}

fn ask_token() -> Result<Secret, Error> {
    let raw = asked(
        Password::new("Private Integration token (input hidden):")
            .without_confirmation()
            .with_display_mode(PasswordDisplayMode::Hidden)
            .with_help_message("paste it and press Enter; it starts with pit-")
            .with_validator(|s: &str| {
                let t = s.trim();
                Ok(if t.is_empty() {
                    inquire::validator::Validation::Invalid("the token is empty".into())
                } else if t.chars().any(char::is_whitespace) {
                    inquire::validator::Validation::Invalid(
                        "a token has no spaces: paste it alone".into(),
                    )
                } else {
                    inquire::validator::Validation::Valid
                })
            })
            .prompt(),
    )?;
    Ok(Secret::new(raw))
}

fn ask_location(default: Option<&str>) -> Result<String, Error> {
    let mut prompt = Text::new("Location ID (or paste the sub-account's app URL):")
        .with_help_message("e.g. ve9EPM428h8vShlRW1KT or https://app.gohighlevel.com/v2/location/ve9EPM428h8vShlRW1KT/dashboard")
        .with_validator(|s: &str| {
            Ok(match parse_location_input(s) {
                Ok(_) => inquire::validator::Validation::Valid,
                Err(e) => inquire::validator::Validation::Invalid(e.message.clone().into()),
            })
        });
    if let Some(d) = default {
        prompt = prompt.with_default(d);
    }
    let raw = asked(prompt.prompt())?;
    let id = parse_location_input(&raw)?;
    if id != raw.trim() {
        println!("  Location ID: {id}");
    }
    Ok(id)
}

fn ask_profile_name(file: &config::ConfigFile, suggested: &str) -> Result<String, Error> {
    loop {
        let name = asked(
            Text::new("Save as profile:")
                .with_default(suggested)
                .with_help_message("one profile per sub-account; pick it later with --profile NAME")
                .with_validator(|s: &str| {
                    Ok(match config::validate_profile_name(s.trim()) {
                        Ok(()) => inquire::validator::Validation::Valid,
                        Err(e) => inquire::validator::Validation::Invalid(e.message.clone().into()),
                    })
                })
                .prompt(),
        )?;
        let name = name.trim().to_string();
        let Some(old) = file.profiles.get(&name) else {
            return Ok(name);
        };
        let replace = asked(
            Confirm::new(&format!(
                "Profile {name} exists (location {}). Replace it?",
                old.location_id.as_deref().unwrap_or("none")
            ))
            .with_default(false)
            .prompt(),
        )?;
        if replace {
            return Ok(name);
        }
    }
}

fn env_value(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

async fn interactive(global: &GlobalArgs) -> Result<(), Error> {
    let mut session = session::open(global, None, Mode::NoProfiles)?;
    session.attach_sandbox(global).await?;
    println!("ghl setup connects ghl to one HighLevel sub-account (location).");
    println!("Nothing is saved until the end; Ctrl-C cancels at any point.");
    if global.sandbox {
        println!(
            "(sandbox: use token {} and location {})",
            ghl_sandbox::DEFAULT_TOKEN,
            ghl_sandbox::DEMO_LOCATION_ID
        );
    }
    println!();

    // 1. A token: from the environment, or a new Private Integration.
    let mut token = None;
    if let Some(t) = env_value(config::ENV_TOKEN) {
        let t = Secret::new(t);
        let use_it = asked(
            Confirm::new(&format!(
                "Found a token in {} ({}). Use it?",
                config::ENV_TOKEN,
                t.redacted()
            ))
            .with_default(true)
            .prompt(),
        )?;
        if use_it {
            token = Some(t);
        }
    }
    let mut token = match token {
        Some(t) => t,
        None => {
            let mut options: Vec<String> = SCOPE_SETS
                .iter()
                .map(|s| format!("{}: {}", s.name, s.about))
                .collect();
            options.push("I already have a token".to_string());
            let choice = asked(
                Select::new(
                    "What will you use ghl for? (decides the scopes to give the integration)",
                    options.clone(),
                )
                .with_help_message("↑↓ to move, Enter to pick")
                .prompt(),
            )?;
            if let Some(set) = SCOPE_SETS
                .iter()
                .zip(&options)
                .find(|(_, o)| **o == choice)
                .map(|(s, _)| s)
            {
                println!();
                println!("{}", guide::steps(set));
            }
            ask_token()?
        }
    };

    // 2. The location: the flag, the environment, or asked.
    let preset = global
        .location
        .clone()
        .map(|l| (l, "--location"))
        .or_else(|| env_value(config::ENV_LOCATION).map(|l| (l, config::ENV_LOCATION)));
    let mut location = None;
    if let Some((raw, from)) = preset {
        match parse_location_input(&raw) {
            Ok(id) => {
                let use_it = asked(
                    Confirm::new(&format!("Use location {id} (from {from})?"))
                        .with_default(true)
                        .prompt(),
                )?;
                if use_it {
                    location = Some(id);
                }
            }
            Err(e) => println!("Ignoring {from}: {}", e.message),
        }
    }
    let mut location = match location {
        Some(l) => l,
        None => ask_location(None)?,
    };

    // 3. Test the connection until it works or the user gives up.
    let verified = loop {
        println!("Checking the token against location {location}...");
        let client = session.client_with(global, &token, &location)?;
        match probe::verify(&client, &location).await {
            Ok(v) => break v,
            Err(e) => {
                println!("✗ {}", probe::explain(&e, &location));
                let (first, second) = match e.code {
                    ErrorCode::LocationForbidden | ErrorCode::NotFound => {
                        ("Enter the Location ID again", "Enter the token again")
                    }
                    _ => ("Enter the token again", "Enter the Location ID again"),
                };
                let next = asked(
                    Select::new("What now?", vec![first, second, "Try again", "Cancel"]).prompt(),
                )?;
                match next {
                    "Enter the token again" => token = ask_token()?,
                    "Enter the Location ID again" => location = ask_location(Some(&location))?,
                    "Try again" => {}
                    _ => return Err(cancelled()),
                }
            }
        }
    };
    let client = session.client_with(global, &token, &location)?;
    show_quick_win(&client, &location, &verified).await;

    // 4. Save: the one write, at the end.
    let file = credentials::load_or_default(&session.path)?;
    let name = match &global.profile {
        Some(p) => {
            config::validate_profile_name(p)?;
            p.clone()
        }
        None => ask_profile_name(&file, DEFAULT_PROFILE)?,
    };
    let saved = save(&session, global, &name, &token, &location, &verified)?;
    print_saved(&saved, &session);
    Ok(())
}

async fn show_quick_win(client: &ghl_core::Client, location: &str, v: &Verified) {
    match &v.name {
        Some(n) => println!("✓ Connected to \"{n}\" ({location})."),
        None => println!("✓ Connected to location {location}."),
    }
    if let Some(w) = &v.warning {
        println!("  note: {w}");
    }
    match probe::contacts(client, location, 5).await {
        Ok(list) if list.is_empty() => println!("  The location has no contacts yet."),
        Ok(list) => {
            println!("  Your first {} contacts:", list.len());
            for c in &list {
                println!("    • {}", probe::contact_line(c));
            }
        }
        Err(e) if e.code == ErrorCode::MissingScope => println!(
            "  (contacts are not shown: the token lacks {})",
            e.scopes.join(" or ")
        ),
        Err(e) => println!("  (contacts could not be listed: {})", e.message),
    }
}

// ------------------------------------------------------------------ saving

struct Saved {
    name: String,
    placement: Placement,
    made_default: bool,
    location: String,
    location_name: Option<String>,
    replaced: bool,
}

fn save(
    session: &Session,
    global: &GlobalArgs,
    name: &str,
    token: &Secret,
    location: &str,
    v: &Verified,
) -> Result<Saved, Error> {
    config::validate_profile_name(name)?;
    // Read the file again: it may have changed while the prompts waited;
    // the lock keeps a concurrent setup from writing in between.
    let _lock = config::lock(&session.path)?;
    let mut file = credentials::load_or_default(&session.path)?;
    let old = file.profiles.get(name).cloned();
    let mut profile = Profile {
        token_store: old.as_ref().and_then(|o| o.token_store.clone()),
        location_id: Some(location.to_string()),
        location_name: v.name.clone(),
        company_id: session.resolved.company_id.clone(),
        agency: session.resolved.agency,
        base_url: session.base_url_to_save(global),
        ..Profile::default()
    };
    let placement = credentials::place_token(name, &mut profile, token);
    let made_default = file.set_profile(name, profile);
    config::save(&session.path, &file)?;
    Ok(Saved {
        name: name.to_string(),
        placement,
        made_default,
        location: location.to_string(),
        location_name: v.name.clone(),
        replaced: old.is_some(),
    })
}

fn print_saved(s: &Saved, session: &Session) {
    println!();
    println!(
        "✓ {} profile \"{}\"{} in {}.",
        if s.replaced { "Updated" } else { "Saved" },
        s.name,
        if s.made_default {
            " (now the default profile)"
        } else {
            ""
        },
        session.path.display()
    );
    println!("  Token stored in: {}", s.placement.describe(&session.path));
    if let Placement::File { why } = &s.placement {
        println!("  (the OS keyring was not used: {why})");
    }
    let flag = if s.made_default {
        String::new()
    } else {
        format!(" --profile {}", s.name)
    };
    println!(
        "Next: ghl{flag} contacts search Jane   ·   ghl{flag} doctor   ·   ghl{flag} auth status"
    );
}

// --------------------------------------------------------- non-interactive

async fn non_interactive(global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    // Validate everything local before reading secrets or the network.
    let raw_location = global
        .location
        .clone()
        .or_else(|| env_value(config::ENV_LOCATION))
        .ok_or_else(|| {
            Error::validation("--location ID is required with --token-stdin").with_hint(
                "printf %s \"$TOKEN\" | ghl setup --token-stdin --location ID --profile NAME",
            )
        })?;
    let location = parse_location_input(&raw_location)?;
    let name = global
        .profile
        .clone()
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    config::validate_profile_name(&name)?;
    let token = session::read_stdin_token()?;
    let mut session = session::open(global, Some(token.clone()), Mode::NoProfiles)?;
    session.attach_sandbox(global).await?;
    let client = session.client_with(global, &token, &location)?;
    let verified = probe::verify(&client, &location).await.map_err(|e| {
        let why = probe::explain(&e, &location);
        let mut e = e;
        e.hint = Some(match e.hint.take() {
            Some(h) => format!("{why} {h}"),
            None => why,
        });
        e
    })?;
    if let Some(w) = &verified.warning {
        eprintln!("note: {w}");
    }
    let saved = save(&session, global, &name, &token, &location, &verified)?;
    if matches!(fmt, OutputFormat::Json | OutputFormat::Jsonl) {
        let v = json!({
            "profile": saved.name,
            "location_id": saved.location,
            "location_name": saved.location_name,
            "token_store": match saved.placement { Placement::Keyring => "keyring", Placement::File { .. } => "file" },
            "token_stored_in": saved.placement.describe(&session.path),
            "default": saved.made_default,
            "config": session.path.display().to_string(),
            "warning": verified.warning,
        });
        crate::output::json(&v).map_err(|e| Error::config(format!("cannot write output: {e}")))?;
    } else {
        print_saved(&saved, &session);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_location_input as p;

    #[test]
    fn location_ids_and_urls() {
        assert_eq!(p(" ve9EPM428h8vShlRW1KT ").unwrap(), "ve9EPM428h8vShlRW1KT");
        assert_eq!(
            p("https://app.gohighlevel.com/v2/location/ve9EPM428h8vShlRW1KT/dashboard").unwrap(),
            "ve9EPM428h8vShlRW1KT"
        );
        assert_eq!(
            p("app.gohighlevel.com/v2/location/ve9EPM428h8vShlRW1KT?x=1").unwrap(),
            "ve9EPM428h8vShlRW1KT"
        );
        for bad in [
            "",
            "https://app.gohighlevel.com/v2/dashboard",
            "ab",
            "has space",
            "a/b",
            "x/location//y",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
