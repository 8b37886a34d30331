//! `--timeout`: one deadline for the whole command, counted from the start
//! of the process, so retries and rate-limit waits cannot stretch a command
//! past what the user allowed. Long-running commands (`ghl mcp`,
//! `ghl sandbox serve`, the setup wizard) have none.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::cli::GlobalArgs;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Note the start of the process; call first thing.
pub fn start() {
    let _ = STARTED.set(Instant::now());
}

/// The instant the command must be done by, if `--timeout` was given.
pub fn of(global: &GlobalArgs) -> Option<Instant> {
    let secs = global.timeout?;
    let started = *STARTED.get_or_init(Instant::now);
    Some(started + Duration::from_secs(secs))
}

/// A copy of `global` without a deadline, for commands that run until
/// stopped.
pub fn without(global: &GlobalArgs) -> GlobalArgs {
    GlobalArgs {
        timeout: None,
        ..global.clone()
    }
}
