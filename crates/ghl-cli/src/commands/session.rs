//! Settings for `setup`, `auth`, `profiles` and `doctor`: like
//! `context::build`, but the config file's problems can be reported instead
//! of stopping everything (the doctor must run on a broken setup), and a
//! token can be handed in (a new one being verified).

use std::io::Read;
use std::path::PathBuf;

use ghl_core::config::{self, ConfigFile, Overrides, Resolved, Source};
use ghl_core::{Client, Error, Secret};

use crate::cli::GlobalArgs;
use crate::context;
use crate::keyring_store::OsKeyring;
use crate::sandbox_link::Running;

pub struct Session {
    pub path: PathBuf,
    /// The config file when it could be read (`None`: there is none).
    pub file: Option<ConfigFile>,
    /// Why the config file could not be read, when it could not.
    pub file_error: Option<Error>,
    pub resolved: Resolved,
    /// Keeps an in-process sandbox alive while the session lasts.
    pub sandbox: Option<Running>,
}

/// Read a token from standard input (`--token-stdin`).
pub fn read_stdin_token() -> Result<Secret, Error> {
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| Error::config(format!("cannot read the token from stdin: {e}")))?;
    let token = Secret::new(text.trim());
    if token.is_empty() {
        return Err(Error::validation("--token-stdin got an empty token")
            .with_hint("pipe the token in: `printf %s \"$TOKEN\" | ghl ... --token-stdin`"));
    }
    if token
        .expose()
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(
            Error::validation("the token read from stdin contains spaces or line breaks")
                .with_hint("pipe exactly one token"),
        );
    }
    Ok(token)
}

/// How to treat the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A config file that cannot be read is an error.
    Strict,
    /// Its error is kept in `file_error` and the file ignored (the doctor).
    Lenient,
    /// Read it (errors stop), but take nothing from its profiles: `setup`
    /// creates the profile `--profile` names.
    NoProfiles,
}

/// Resolve settings from flags, environment and (per `mode`) the profile.
pub fn open(global: &GlobalArgs, token: Option<Secret>, mode: Mode) -> Result<Session, Error> {
    let path = config::config_path();
    let (file, file_error) = match config::load(&path) {
        Ok(f) => (f, None),
        Err(e) if mode != Mode::Lenient => return Err(e),
        Err(e) => (None, Some(e)),
    };
    let flags = Overrides {
        token,
        location_id: global.location.clone(),
        company_id: global.company.clone(),
        agency: global.agency,
        base_url: global.base_url.clone(),
        profile: (mode != Mode::NoProfiles)
            .then(|| global.profile.clone())
            .flatten(),
    };
    let env = |k: &str| {
        if mode == Mode::NoProfiles && k == config::ENV_PROFILE {
            return None;
        }
        std::env::var(k).ok()
    };
    let from_file = if mode == Mode::NoProfiles {
        None
    } else {
        file.as_ref()
    };
    let resolved = config::resolve(&flags, &env, from_file, &OsKeyring)?;
    Ok(Session {
        path,
        file,
        file_error,
        resolved,
        sandbox: None,
    })
}

impl Session {
    /// With `--sandbox`: point at the sandbox, with its default token and
    /// location unless given by flag or environment (as `context::build`).
    pub async fn attach_sandbox(&mut self, global: &GlobalArgs) -> Result<(), Error> {
        if !global.sandbox || self.sandbox.is_some() {
            return Ok(());
        }
        let running = context::attach_sandbox(&mut self.resolved).await?;
        self.sandbox = Some(running);
        Ok(())
    }

    /// A client for the resolved settings.
    pub fn client(&self, global: &GlobalArgs) -> Result<Client, Error> {
        context::client_for(global, &self.resolved)
    }

    /// A client for the same base URL with another token and location.
    pub fn client_with(
        &self,
        global: &GlobalArgs,
        token: &Secret,
        location_id: &str,
    ) -> Result<Client, Error> {
        let mut r = self.resolved.clone();
        r.token = Some(token.clone());
        r.location_id = Some(location_id.to_string());
        context::client_for(global, &r)
    }

    /// The base URL worth saving in a profile: only one given explicitly
    /// (flag or environment), never the sandbox's or the default.
    pub fn base_url_to_save(&self, global: &GlobalArgs) -> Option<String> {
        if global.sandbox {
            return None;
        }
        match self.resolved.sources.get("base_url") {
            Some(Source::Flag | Source::Env(_)) => Some(self.resolved.base_url.clone()),
            _ => None,
        }
    }
}
