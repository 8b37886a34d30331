//! The async runtime a command runs on.

use clap::Subcommand;
use tokio::runtime::{Builder, Runtime};

use crate::cli::{Command, GlobalArgs};

/// One thread for `ghl mcp` over stdio and for a command that makes a
/// request or walks some pages; two workers for servers, syncs, bulk work
/// and the embedded sandbox.
///
/// `ghl mcp` over stdio serves one client, request by request: one thread
/// does (tokio reads stdin and writes stdout on its blocking threads
/// anyway), and every idle worker would cost a thread, a stack and a malloc
/// arena for the whole conversation.
pub fn for_command(matches: &clap::ArgMatches, global: &GlobalArgs) -> std::io::Result<Runtime> {
    if serves_mcp_over_stdio(matches) || one_shot(matches, global) {
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

/// A friendly or compatible command that is not bulk work, without the
/// embedded sandbox.
fn one_shot(matches: &clap::ArgMatches, global: &GlobalArgs) -> bool {
    let fixed = matches
        .subcommand_name()
        .is_some_and(Command::has_subcommand);
    !fixed && !global.sandbox && !crate::commands::bulk::is_bulk(matches)
}
