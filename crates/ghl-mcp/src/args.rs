//! `ghl mcp` command-line arguments.

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportKind {
    /// JSON-RPC over stdin/stdout (what desktop assistants launch)
    Stdio,
    /// Streamable HTTP at http://LISTEN/mcp
    Http,
}

#[derive(Debug, Clone, Args)]
pub struct McpArgs {
    /// How the assistant connects
    #[arg(long, value_enum, default_value = "stdio")]
    pub transport: TransportKind,
    /// Address for --transport http (loopback unless --allow-remote)
    #[arg(long, default_value = "127.0.0.1:8765")]
    pub listen: String,
    /// Accept a non-loopback --listen address (the bearer secret still applies)
    #[arg(long)]
    pub allow_remote: bool,
    /// Bearer secret HTTP clients must send (required for --transport http)
    #[arg(long, env = "GHL_MCP_TOKEN", hide_env_values = true)]
    pub http_token: Option<String>,
    /// Browser Origin allowed to call the HTTP server (repeatable); others get 403
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// Expose reads only: write tools are hidden and refused
    #[arg(long)]
    pub read_only: bool,
    /// Tool families to list: contacts,conversations,calendars,opportunities,workflows,invoices,location,discovery
    /// (the default), events (webhooks received here, by name only), or all
    #[arg(long, value_delimiter = ',')]
    pub toolsets: Vec<String>,
    /// Only operations matching PATTERN may run, e.g. 'contacts.*' (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Operations matching PATTERN never run, e.g. '*.delete-*' (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub deny: Vec<String>,
    /// Run destructive and outbound calls without the two-step confirmation
    #[arg(long)]
    pub no_confirm: bool,
    /// Records per listing page (default 20, max 100)
    #[arg(long)]
    pub page_size: Option<usize>,
    /// Offer the `sync` tool, so the assistant may refresh the local mirror
    #[arg(long)]
    pub mirror_sync: bool,
    /// The local mirror the `query` and `report` tools read (set by the caller)
    #[arg(skip)]
    pub mirror: Option<crate::mirror_tools::MirrorAccess>,
    #[command(subcommand)]
    pub command: Option<McpCommand>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum McpCommand {
    /// Print the snippet that registers `ghl mcp` with an assistant
    Config {
        /// claude-desktop, claude-code, cursor or vscode
        #[arg(value_parser = ["claude-desktop", "claude-code", "cursor", "vscode"])]
        client: String,
    },
}
