//! What a server instance may do and how it answers: toolsets, extra
//! policy, confirmation, page size.

use std::time::Duration;

use ghl_core::Pattern;

/// A family of tools that `--toolsets` can switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Toolset {
    Contacts,
    Conversations,
    Calendars,
    Opportunities,
    Workflows,
    Invoices,
    Location,
    Discovery,
    /// Webhook events received on this machine.
    Events,
}

impl Toolset {
    pub const ALL: [Toolset; 9] = [
        Toolset::Contacts,
        Toolset::Conversations,
        Toolset::Calendars,
        Toolset::Opportunities,
        Toolset::Workflows,
        Toolset::Invoices,
        Toolset::Location,
        Toolset::Discovery,
        Toolset::Events,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Toolset::Contacts => "contacts",
            Toolset::Conversations => "conversations",
            Toolset::Calendars => "calendars",
            Toolset::Opportunities => "opportunities",
            Toolset::Workflows => "workflows",
            Toolset::Invoices => "invoices",
            Toolset::Location => "location",
            Toolset::Discovery => "discovery",
            Toolset::Events => "events",
        }
    }

    /// Listed when `--toolsets` is not given. `events` is asked for by
    /// name (or `all`): it reads this machine's webhook spool, not the CRM,
    /// and the default list stays within its context budget.
    pub fn on_by_default(self) -> bool {
        self != Toolset::Events
    }

    pub fn parse(s: &str) -> Option<Toolset> {
        let s = s.trim().to_ascii_lowercase();
        Toolset::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// Default records per listing: enough to act on, small enough for a
/// model's context.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// Largest page a tool call may ask for.
pub const MAX_PAGE_SIZE: usize = 100;
/// How long a confirmation token stays valid.
pub const CONFIRM_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Tool families listed; `None` lists all.
    pub toolsets: Option<Vec<Toolset>>,
    /// Refuse everything but reads (OR'ed with the client's policy).
    pub read_only: bool,
    /// When not empty, only matching operations may run (on top of the
    /// client's own allow list).
    pub allow: Vec<Pattern>,
    /// Merged into the client's deny list.
    pub deny: Vec<Pattern>,
    /// Two-step confirmation for destructive and outbound operations.
    pub confirm: bool,
    pub confirm_ttl: Duration,
    pub page_size: usize,
    /// The local mirror behind the `query` and `report` tools, if any.
    pub mirror: Option<crate::mirror_tools::MirrorAccess>,
    /// Where what the scope probes found is kept between starts
    /// ([`crate::scope_memo`]); `None` probes on every start.
    pub memo_dir: Option<std::path::PathBuf>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            toolsets: None,
            read_only: false,
            allow: Vec::new(),
            deny: Vec::new(),
            confirm: true,
            confirm_ttl: CONFIRM_TTL,
            page_size: DEFAULT_PAGE_SIZE,
            mirror: None,
            memo_dir: None,
        }
    }
}

impl ServerOptions {
    pub fn toolset_enabled(&self, t: Toolset) -> bool {
        match &self.toolsets {
            None => t.on_by_default(),
            Some(ts) => ts.contains(&t),
        }
    }
}
