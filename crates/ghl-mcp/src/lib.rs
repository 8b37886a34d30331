//! `ghl mcp`: the whole HighLevel CRM for an AI assistant, in a handful of
//! safe tools.
//!
//! - [`server::GhlMcp`]: the rmcp handler; 36 curated tools, each a thin
//!   declaration over one catalog operation ([`tools`]), plus three
//!   discovery tools over all 576 operations ([`discovery`]).
//! - Every call goes through `ghl_core::Client` ([`exec`]): policy,
//!   validation, rate limits, custom fields by key, the two-step
//!   confirmation ([`confirm`]) and compact results ([`compact`]).
//! - Transports: stdio, or Streamable HTTP behind a bearer secret and an
//!   Origin allow-list ([`http`]).

pub mod args;
pub mod bulk;
pub mod compact;
pub mod confirm;
pub mod discovery;
pub mod elicit;
pub mod errors;
pub mod exec;
pub mod http;
pub mod mirror_tools;
pub mod options;
pub mod preview;
pub mod schemas;
pub mod scope_memo;
pub mod scopes;
pub mod server;
pub mod sessions;
pub mod slots;
pub mod snippets;
pub mod tools;

use ghl_core::{Error, ErrorCode, Pattern};
use rmcp::ServiceExt;

pub use args::{McpArgs, McpCommand, TransportKind};
pub use options::{ServerOptions, Toolset};
/// The MCP SDK this crate is built on, for clients in tests (ghl-cli has no
/// direct dependency on it).
pub use rmcp;
pub use server::GhlMcp;
pub use snippets::config_snippet;

/// Server options from the command line.
pub fn options_from_args(args: &McpArgs) -> Result<ServerOptions, Error> {
    let mut toolsets = Vec::new();
    for t in args.toolsets.iter().filter(|t| !t.trim().is_empty()) {
        if t.trim().eq_ignore_ascii_case("all") {
            toolsets.extend(Toolset::ALL);
            continue;
        }
        toolsets.push(Toolset::parse(t).ok_or_else(|| {
            Error::validation(format!("unknown toolset {t}")).with_hint(format!(
                "choose from {}",
                Toolset::ALL.map(Toolset::name).join(", ")
            ))
        })?);
    }
    let mut o = ServerOptions {
        toolsets: (!toolsets.is_empty()).then_some(toolsets),
        read_only: args.read_only,
        allow: args.allow.iter().map(|p| Pattern::new(p)).collect(),
        deny: args.deny.iter().map(|p| Pattern::new(p)).collect(),
        confirm: !args.no_confirm,
        mirror: args.mirror.clone(),
        memo_dir: Some(ghl_store::default_dir()),
        ..ServerOptions::default()
    };
    if let Some(n) = args.page_size {
        o.page_size = n.clamp(1, options::MAX_PAGE_SIZE);
    }
    Ok(o)
}

/// The bearer secret for HTTP: `GHL_MCP_TOKEN` first (a flag shows in
/// `ps` to every user of the machine), then `--http-token`; at least
/// [`http::MIN_SECRET_BYTES`] bytes.
fn http_secret(args: &McpArgs) -> Result<String, Error> {
    let from_env = std::env::var("GHL_MCP_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let token = match (from_env, args.http_token.clone()) {
        (Some(env), flag) => {
            if flag.is_some_and(|f| f != env) {
                eprintln!("note: GHL_MCP_TOKEN is set, so --http-token is ignored");
            }
            env
        }
        (None, Some(flag)) => {
            eprintln!(
                "note: --http-token is visible to every user of this machine (ps); prefer GHL_MCP_TOKEN"
            );
            flag
        }
        (None, None) => String::new(),
    };
    http::check_secret(&token)?;
    Ok(token.trim().to_string())
}

/// Serve until EOF (stdio) or ctrl-c (HTTP), or print a config snippet.
pub async fn run(args: McpArgs, client: ghl_core::Client, sandbox: bool) -> Result<(), Error> {
    if let Some(McpCommand::Config { client: kind }) = &args.command {
        println!("{}", config_snippet(kind, sandbox)?);
        return Ok(());
    }
    let options = options_from_args(&args)?;
    match args.transport {
        TransportKind::Stdio => {
            let server = GhlMcp::new(client, options);
            let running = server.serve(rmcp::transport::stdio()).await.map_err(|e| {
                Error::new(ErrorCode::Network, format!("MCP handshake failed: {e}"))
            })?;
            running
                .waiting()
                .await
                .map_err(|e| Error::new(ErrorCode::Network, format!("MCP server stopped: {e}")))?;
            Ok(())
        }
        TransportKind::Http => {
            // Refuse before building anything: an open CRM endpoint is worse
            // than none.
            let token = http_secret(&args)?;
            http::resolve_listen(&args.listen, args.allow_remote).await?;
            let server = GhlMcp::new(client, options);
            let gate = http::Gate {
                token,
                allowed_origins: args.allowed_origins.clone(),
            };
            http::serve(server, gate, &args.listen, args.allow_remote).await
        }
    }
}
