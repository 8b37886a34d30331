//! `ghl mcp`: the whole HighLevel CRM for an AI assistant, in a handful of
//! safe tools.
//!
//! - [`server::GhlMcp`]: the rmcp handler; 30 curated tools, each a thin
//!   declaration over one catalog operation ([`tools`]), plus three
//!   discovery tools over all 576 operations ([`discovery`]).
//! - Every call goes through `ghl_core::Client` ([`exec`]): policy,
//!   validation, rate limits, custom fields by key, the two-step
//!   confirmation ([`confirm`]) and compact results ([`compact`]).
//! - Transports: stdio, or Streamable HTTP behind a bearer secret and an
//!   Origin allow-list ([`http`]).

pub mod args;
pub mod compact;
pub mod confirm;
pub mod discovery;
pub mod errors;
pub mod exec;
pub mod http;
pub mod mirror_tools;
pub mod options;
pub mod server;
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
        ..ServerOptions::default()
    };
    if let Some(n) = args.page_size {
        o.page_size = n.clamp(1, options::MAX_PAGE_SIZE);
    }
    Ok(o)
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
            let Some(token) = args.http_token.clone().filter(|t| !t.trim().is_empty()) else {
                return Err(Error::config("the HTTP transport needs a bearer secret")
                    .with_hint("pass --http-token SECRET or set GHL_MCP_TOKEN"));
            };
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
