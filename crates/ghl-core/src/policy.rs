//! What a caller is allowed to do, decided before anything is sent.

use std::sync::Arc;

use ghl_catalog::{Effect, Operation};

use crate::error::{Error, ErrorCode, Result};

/// Asks a person whether to run an operation, shown what would be sent.
pub type AskFn = Arc<dyn Fn(&Operation, &serde_json::Value) -> bool + Send + Sync>;

/// How destructive and outbound operations are confirmed.
#[derive(Clone, Default)]
pub enum Confirm {
    /// Refuse unless confirmed some other way (`--yes`): scripts, pipes.
    #[default]
    Refuse,
    /// Already confirmed (`--yes`, an MCP confirmation token, `--no-confirm`).
    Granted,
    /// Ask a person; the callback returns whether they agreed.
    Ask(AskFn),
}

impl std::fmt::Debug for Confirm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confirm::Refuse => "Refuse",
            Confirm::Granted => "Granted",
            Confirm::Ask(_) => "Ask",
        })
    }
}

/// An operation-name pattern: `contacts.*`, `*.delete-*`, or an exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(p: &str) -> Self {
        Pattern(p.trim().to_string())
    }

    pub fn matches(&self, name: &str) -> bool {
        glob(self.0.as_bytes(), name.as_bytes())
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub read_only: bool,
    /// When not empty, only matching operations may run.
    pub allow: Vec<Pattern>,
    pub deny: Vec<Pattern>,
    pub confirm: Confirm,
    /// Build and show the request, send nothing.
    pub dry_run: bool,
}

impl Policy {
    /// Checks that do not depend on the request itself.
    pub fn permits(&self, op: &Operation) -> Result<()> {
        self.permits_effect(&op.name, op.effect)
    }

    /// [`Policy::permits`] from the two facts it reads, for callers that
    /// hold the catalog's summary of an operation rather than the parsed
    /// operation.
    pub fn permits_effect(&self, name: &str, effect: Effect) -> Result<()> {
        if self.deny.iter().any(|p| p.matches(name)) {
            return Err(Error::new(
                ErrorCode::Policy,
                format!("{name} is denied by --deny"),
            ));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|p| p.matches(name)) {
            return Err(Error::new(
                ErrorCode::Policy,
                format!("{name} is not in the --allow list"),
            ));
        }
        if self.read_only && effect != Effect::Read {
            return Err(Error::new(
                ErrorCode::Policy,
                format!(
                    "{} changes data ({}) and read-only mode is on",
                    name,
                    effect_word(effect)
                ),
            )
            .with_hint("drop --read-only (or GHL_READ_ONLY) to make changes"));
        }
        Ok(())
    }

    /// The confirmation step for destructive and outbound operations;
    /// `preview` is what would be sent.
    pub fn confirmed(&self, op: &Operation, preview: &serde_json::Value) -> Result<()> {
        if !op.needs_confirmation() || self.dry_run {
            return Ok(());
        }
        let ok = match &self.confirm {
            Confirm::Granted => true,
            Confirm::Refuse => false,
            Confirm::Ask(ask) => ask(op, preview),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::new(
                ErrorCode::ConfirmationRequired,
                format!(
                    "{} is {} and was not confirmed",
                    op.name,
                    effect_word(op.effect)
                ),
            )
            .with_hint("re-run with --yes to confirm, or --dry-run to see the request"))
        }
    }
}

impl Policy {
    /// Confirmation for a request that loses data although its operation
    /// is a plain write (replacing a contact's tags drops the others):
    /// asked as for a destructive operation, `what` saying what is lost.
    pub fn confirmed_loss(
        &self,
        op: &Operation,
        preview: &serde_json::Value,
        what: &str,
    ) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        let ok = match &self.confirm {
            Confirm::Granted => true,
            Confirm::Refuse => false,
            Confirm::Ask(ask) => ask(op, preview),
        };
        if ok {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::ConfirmationRequired,
            format!("{} {what} and was not confirmed", op.name),
        )
        .with_hint(
            "re-run with --yes to confirm, or add tags without removing any with `ghl contacts tags add`",
        ))
    }
}

pub fn effect_word(e: Effect) -> &'static str {
    match e {
        Effect::Read => "read-only",
        Effect::Write => "a write",
        Effect::Destructive => "destructive",
        Effect::Outbound => "outbound (it reaches people or money)",
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn patterns() {
        assert!(Pattern::new("contacts.*").matches("contacts.get-contact"));
        assert!(Pattern::new("*.delete-*").matches("contacts.delete-contact"));
        assert!(!Pattern::new("contacts.*").matches("calendars.get-slots"));
        assert!(Pattern::new("calendars.get-slots").matches("calendars.get-slots"));
    }
}
