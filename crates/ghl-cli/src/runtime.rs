//! The async runtime a command runs on.

use tokio::runtime::{Builder, Runtime};

/// `ghl mcp` over stdio serves one client, request by request: one thread
/// does (tokio reads stdin and writes stdout on its blocking threads
/// anyway), and every idle worker would cost a thread, a stack and a malloc
/// arena for the whole conversation. Everything else, the HTTP transport
/// included, gets two workers.
pub fn for_command(matches: &clap::ArgMatches) -> std::io::Result<Runtime> {
    if serves_mcp_over_stdio(matches) {
        return Builder::new_current_thread().enable_all().build();
    }
    Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

fn serves_mcp_over_stdio(matches: &clap::ArgMatches) -> bool {
    let Some(("mcp", sub)) = matches.subcommand() else {
        return false;
    };
    sub.subcommand().is_none()
        && matches!(
            sub.try_get_one::<ghl_mcp::TransportKind>("transport"),
            Ok(Some(ghl_mcp::TransportKind::Stdio))
        )
}
