//! The command line: global options and the fixed commands. Friendly
//! `<noun> <verb>` commands and the skill-compatible names are generated from
//! declarations (see `friendly` and `compat`) and added at start-up.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "ghl",
    version,
    about = "Your AI assistant's safe handle on HighLevel (GoHighLevel / LeadConnector)",
    long_about = "Run your HighLevel CRM from the shell or an AI assistant: every API v2 operation through validated commands, rate limits respected, no duplicated messages or payments.\n\nNew here? Try `ghl --sandbox contacts search Jane` (no account needed), then `ghl setup`.",
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    // The subcommands (the fixed `Command`s, friendly and compatible ones)
    // are added by `crate::command`, or only those the arguments name by
    // `crate::command_for`.
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Table,
    Jsonl,
    Csv,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, short = 'o', global = true, value_enum)]
    pub output: Option<OutputFormat>,
    /// Print the exact request (token redacted) and send nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Refuse any operation that changes data
    #[arg(long, global = true, env = "GHL_READ_ONLY", value_parser = clap::builder::BoolishValueParser::new())]
    pub read_only: bool,
    /// Confirm destructive or outbound operations (deletes, voids, sending messages, payments)
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// Location (sub-account) id to act on
    #[arg(long, global = true, value_name = "ID")]
    pub location: Option<String>,
    /// Agency (company) id, for agency-level operations and agency tokens
    #[arg(long, global = true, value_name = "ID")]
    pub company: Option<String>,
    /// The token is an agency token: sub-account calls use location tokens minted from it (needs --company and oauth.write)
    #[arg(long, global = true)]
    pub agency: bool,
    /// Profile from the config file
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// API base URL (for proxies, mocks and the sandbox)
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Run against the embedded sandbox: a demo CRM on loopback, no account needed
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Read the token from standard input instead of the environment or profile
    #[arg(long, global = true)]
    pub token_stdin: bool,
    /// Seconds the whole command may take, retries and rate-limit waits included [default: no limit]
    #[arg(long, global = true, env = "GHL_TIMEOUT", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: Option<u64>,
    /// Seconds to wait for one response before giving up on it
    #[arg(long, global = true, env = "GHL_RESPONSE_TIMEOUT", value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub response_timeout: u64,
    /// Refuse a response body larger than this many MB
    #[arg(long, global = true, env = "GHL_MAX_RESPONSE_MB", value_name = "MB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_response_mb: u64,
    /// Log each request and response to stderr (token redacted)
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Every HighLevel API v2 operation: list, describe, call
    #[command(subcommand)]
    Api(ApiCommand),
    /// The embedded HighLevel sandbox
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Serve the CRM to AI assistants over MCP (stdio by default)
    Mcp(ghl_mcp::McpArgs),
    /// Connect a HighLevel sub-account: a guided wizard, or
    /// `--token-stdin --location ID --profile NAME` without questions
    Setup,
    /// Check config, token, location, scopes, rate limits and clock; say how to fix each
    Doctor(crate::commands::doctor::DoctorArgs),
    /// The token of the profile in use: status, rotate, logout
    #[command(subcommand)]
    Auth(crate::commands::auth::AuthCommand),
    /// Profiles, one per location: list, show, use, remove
    #[command(subcommand)]
    Profiles(crate::commands::profiles::ProfilesCommand),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell
    Completion { shell: clap_complete::Shell },
    /// Receive HighLevel webhooks and inspect or replay the stored events
    #[command(subcommand)]
    Webhooks(crate::commands::webhooks::WebhooksCommand),
    /// Mirror the location into a local database (`ghl sql` and `ghl report` read it)
    Sync(crate::commands::mirror::SyncArgs),
    /// Ask the mirror anything in read-only SQL; `--schema` lists tables and views
    Sql(crate::commands::mirror::SqlArgs),
    /// Reports over the mirror: funnel, stale, sources, dedupe
    #[command(subcommand)]
    Report(crate::commands::mirror::ReportCommand),
}

#[derive(Subcommand, Debug)]
pub enum ApiCommand {
    /// List operations
    List {
        /// Only this group (e.g. contacts, calendars)
        #[arg(long)]
        group: Option<String>,
        /// Only operations matching all these words
        #[arg(long)]
        search: Option<String>,
        /// Only one API version: v2 (`apps/`) or v3 (`apps/v3/`, groups named `<group>-v3`)
        #[arg(long, value_parser = ["v2", "v3"])]
        api: Option<String>,
    },
    /// Show an operation's parameters, scopes, pagination and safety class
    Describe { name: String },
    /// Call an operation: ghl api call NAME [param=value ...] [--body JSON|@FILE]
    Call(CallArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct CallArgs {
    /// Operation name, as `ghl api list` shows it (e.g. contacts.get-contact)
    pub name: String,
    /// Parameters as name=value (name:=json for raw JSON)
    pub params: Vec<String>,
    #[command(flatten)]
    pub paging: PagingArgs,
    /// JSON body, or @FILE to read it from a file
    #[arg(long)]
    pub body: Option<String>,
    /// Attach a file to a multipart upload: FIELD=PATH
    #[arg(long, value_name = "FIELD=PATH")]
    pub file: Vec<String>,
}

#[derive(Args, Debug, Clone, Copy, Default)]
pub struct PagingArgs {
    /// Follow every page
    #[arg(long)]
    pub all: bool,
    /// Follow pages up to N records in all
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,
    /// Records per page
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub page_size: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum SimulateCommand {
    /// A contact texts in: CONTACT (id) TEXT
    InboundSms {
        contact: String,
        text: String,
        #[arg(long)]
        db: Option<std::path::PathBuf>,
    },
    /// A contact emails in: CONTACT (id) TEXT
    InboundEmail {
        contact: String,
        text: String,
        #[arg(long)]
        db: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Serve the sandbox until interrupted
    Serve {
        #[arg(long, default_value = "127.0.0.1:8040")]
        listen: std::net::SocketAddr,
        /// SQLite database [default: <data dir>/ghl/sandbox.db]
        #[arg(long)]
        db: Option<std::path::PathBuf>,
        /// Data for a new database
        #[arg(long, default_value = "demo", value_parser = ["demo", "empty"])]
        seed: String,
        /// Delay every response by N ms
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Share of requests (0..1) that fail: 5xx, dropped connection or timeout
        #[arg(long, default_value_t = 0.0)]
        fail_rate: f64,
        /// Requests per window per location, e.g. 100/10s
        #[arg(long, default_value = "100/10s")]
        rate_limit: String,
        /// Lifetime in seconds of the OAuth access tokens it issues (short ones let refresh be tried)
        #[arg(long, value_name = "SECS", default_value_t = 86_399, value_parser = clap::value_parser!(u64).range(1..))]
        oauth_ttl: u64,
        /// Accept a non-loopback --listen address (the sandbox's default token is well known)
        #[arg(long)]
        allow_remote: bool,
        /// Send a signed webhook to URL for every change, like HighLevel
        #[arg(long, value_name = "URL")]
        webhook_url: Option<String>,
        /// Wait before retrying a webhook answered 429, in ms (HighLevel: 10 minutes)
        #[arg(long, default_value_t = 600_000, value_name = "MS")]
        webhook_retry_ms: u64,
    },
    /// Give the demo agency more sub-accounts (SbxAgencyLoc00000001…), for `ghl --sandbox --agency --company SbxDemoCompany0000001 sync --locations all`
    AddLocations {
        /// How many sub-accounts the agency should have besides the demo location
        #[arg(value_parser = clap::value_parser!(u32).range(1..=1000))]
        count: u32,
        /// Synthetic contacts in each new sub-account
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=100_000))]
        contacts: u32,
        #[arg(long)]
        db: Option<std::path::PathBuf>,
    },
    /// Print the public key the sandbox signs webhooks with (for `ghl webhooks listen --public-key`)
    WebhookKey {
        #[arg(long)]
        db: Option<std::path::PathBuf>,
    },
    /// Make something happen in the sandbox that only a customer could do
    #[command(subcommand)]
    Simulate(SimulateCommand),
    /// Empty the sandbox database, or reseed it
    Reset {
        #[arg(long)]
        db: Option<std::path::PathBuf>,
        #[arg(long, default_value = "demo", value_parser = ["demo", "empty"])]
        seed: String,
    },
    /// Mint a sandbox token (all scopes unless --scopes); printed alone on the last line
    Token {
        /// Comma-separated scopes, e.g. contacts.readonly,contacts.write
        #[arg(long)]
        scopes: Option<String>,
        #[arg(long)]
        db: Option<std::path::PathBuf>,
    },
}
