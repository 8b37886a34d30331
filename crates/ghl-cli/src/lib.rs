//! The `ghl` command line: clap front end, command declarations and
//! rendering over the `ghl-core` pipeline. `main.rs` only calls [`main`].

pub mod cli;
pub mod commands;
pub mod context;
pub mod credentials;
pub mod deadline;
pub mod keyring_store;
pub mod locations;
pub mod oauth_client;
pub mod oauth_redirect;
pub mod oauth_shared;
pub mod oauth_store;
pub mod output;
pub mod process_guard;
pub mod runtime;
pub mod sandbox_link;
pub mod stop_signal;

use clap::{CommandFactory, FromArgMatches, Subcommand};
use ghl_core::Error;

use cli::{Cli, Command, GlobalArgs};
use commands::{api, compat, friendly, invoke};

/// Run `ghl` with the process arguments and exit.
pub fn main() {
    deadline::start();
    process_guard::no_core_dumps();
    restore_sigpipe();
    // Parse before starting the runtime: `--version`, `--help` and usage
    // errors need no threads.
    let code = match parse() {
        Err(code) => code,
        Ok((matches, global)) => match runtime::for_command(&matches, &global) {
            // Boxed: the future holds every command's state (tens of KB),
            // and it is moved once onto the heap, not through stack frames.
            Ok(rt) => rt.block_on(Box::pin(run(matches, global))),
            Err(e) => {
                eprintln!("error: cannot start the runtime: {e}");
                1
            }
        },
    };
    std::process::exit(code);
}

/// `ghl … | head` should stop quietly when the reader goes away, as other
/// Unix tools do, instead of reporting a write error.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL
    // is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The full command tree, friendly and compatible commands included. The
/// generated commands are shells that clap fills in only when the command
/// line reaches them, so start-up builds one of them at most.
pub fn command() -> clap::Command {
    Command::augment_subcommands(Cli::command()).subcommands(generated_shells())
}

/// The tree clap needs to parse `args`: the global options and only the
/// top-level commands the arguments name. Clap copies every global option
/// into every top-level command before parsing, which was most of the
/// start-up; parsing a pruned tree gives the same matches. Help, version
/// and errors with no command named get the full tree (help lists it, and
/// suggestions for a typo come from it).
pub fn command_for(args: &[std::ffi::OsString]) -> clap::Command {
    let words: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    let names = |c: &clap::Command| {
        words
            .iter()
            .any(|w| *w == c.get_name() || c.get_all_aliases().any(|a| a == *w))
    };
    let fixed_named = words.iter().any(|w| Command::has_subcommand(w));
    let shells: Vec<clap::Command> = generated_shells()
        .into_iter()
        .filter(names)
        .map(|shell| {
            // Built now, with only the branches the arguments name.
            let name = shell.get_name().to_string();
            if friendly::COMMANDS
                .iter()
                .any(|f| f.words.first() == Some(&name.as_str()))
            {
                // A fresh command: the shell would fill itself in again.
                let about = shell.get_about().cloned().unwrap_or_default();
                fill_friendly_named(clap::Command::new(name).about(about), &words)
            } else {
                shell
            }
        })
        .collect();
    if !fixed_named && shells.is_empty() {
        return if words == ["--version"] || words == ["-V"] {
            Cli::command()
        } else {
            command()
        };
    }
    let mut cmd = Cli::command();
    if fixed_named {
        let fixed = Command::augment_subcommands(clap::Command::new("ghl"));
        cmd = cmd.subcommands(fixed.get_subcommands().filter(|c| names(c)).cloned());
    }
    cmd.subcommands(shells)
}

/// The friendly and compatible commands, as shells clap fills in only when
/// the command line reaches them.
fn generated_shells() -> Vec<clap::Command> {
    let mut shells = friendly::deferred(friendly::COMMANDS, fill_friendly);
    shells.extend(
        friendly::deferred(compat::COMMANDS, fill_compat)
            .into_iter()
            .map(|c| c.hide(true)),
    );
    shells.push(
        clap::Command::new(compat::LIST_COURSES)
            .hide(true)
            .about("Not available: HighLevel API v2 has no course listing"),
    );
    shells
}

fn fill_friendly(shell: clap::Command) -> clap::Command {
    fill_friendly_named(shell, &[])
}

fn fill_friendly_named(shell: clap::Command, named: &[&str]) -> clap::Command {
    let c = friendly::fill_named(shell, friendly::COMMANDS, named);
    // `contacts dedupe` reads the mirror, not the API.
    let c = if c.get_name() == "contacts" {
        c.subcommand(commands::mirror::dedupe_command())
    } else {
        c
    };
    commands::bulk::augment(c)
}

fn fill_compat(shell: clap::Command) -> clap::Command {
    friendly::fill(shell, compat::COMMANDS)
}

/// The command line, or the exit code when it was help, a version or wrong.
fn parse() -> Result<(clap::ArgMatches, GlobalArgs), i32> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let matches = match parse_from(&args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return Err(if shown_to_user(&e) { 0 } else { 2 });
        }
    };
    match GlobalArgs::from_arg_matches(&matches) {
        Ok(g) => Ok((matches, g)),
        Err(e) => {
            let _ = e.print();
            Err(2)
        }
    }
}

/// Parse `args` (program name first) as `ghl` does: with the tree pruned
/// to what they name, and again with the full tree when that fails, so an
/// error and its suggestions are the full tree's.
pub fn parse_from(args: &[std::ffi::OsString]) -> Result<clap::ArgMatches, clap::Error> {
    match command_for(args).try_get_matches_from(args) {
        Err(e) if !shown_to_user(&e) => command().try_get_matches_from(args),
        parsed => parsed,
    }
}

/// Help or a version the user asked for, as opposed to a usage error.
fn shown_to_user(e: &clap::Error) -> bool {
    matches!(
        e.kind(),
        clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

async fn run(matches: clap::ArgMatches, global: GlobalArgs) -> i32 {
    let fmt = output::format(global.output);
    let outcome = match deadline::of(&global) {
        Some(by) if !runs_until_stopped(&matches) => {
            match tokio::time::timeout_at(by.into(), dispatch(&matches, &global, fmt)).await {
                Ok(r) => r,
                Err(_) => Err(Error::new(
                    ghl_core::ErrorCode::Timeout,
                    format!(
                        "the command did not finish within --timeout {} s",
                        global.timeout.unwrap_or_default()
                    ),
                )
                .with_hint("raise --timeout (it bounds the whole command), or try again later")),
            }
        }
        _ => dispatch(&matches, &global, fmt).await,
    };
    match outcome {
        Ok(()) => 0,
        Err(e) => {
            output::error(fmt, &e);
            e.exit_code()
        }
    }
}

/// Commands with no overall deadline: servers and the setup wizard.
fn runs_until_stopped(matches: &clap::ArgMatches) -> bool {
    matches!(
        matches.subcommand_name(),
        Some("mcp" | "sandbox" | "setup" | "completion")
    )
}

async fn dispatch(
    matches: &clap::ArgMatches,
    global: &GlobalArgs,
    fmt: cli::OutputFormat,
) -> Result<(), Error> {
    let Some((name, _)) = matches.subcommand() else {
        return Err(Error::validation("no command given").with_hint("see `ghl --help`"));
    };
    if Command::has_subcommand(name) {
        let cmd =
            Command::from_arg_matches(matches).map_err(|e| Error::validation(e.to_string()))?;
        return match cmd {
            Command::Api(c) => api::run(c, global, fmt).await,
            Command::Sandbox(c) => commands::sandbox::run(c).await,
            Command::Setup => commands::setup::run(&deadline::without(global), fmt).await,
            Command::Doctor(args) => commands::doctor::run(args, global, fmt).await,
            Command::Auth(c) => commands::auth::run(c, global, fmt).await,
            Command::Profiles(c) => commands::profiles::run(c, global, fmt).await,
            Command::Webhooks(c) => commands::webhooks::run(c, global, fmt).await,
            Command::Sync(args) => commands::mirror::sync(args, global, fmt).await,
            Command::Sql(args) => commands::mirror::sql(args, global, fmt).await,
            Command::Report(c) => commands::mirror::report(c, global, fmt).await,
            Command::Completion { shell } => {
                // The full tree, friendly and compatible commands included.
                clap_complete::generate(shell, &mut command(), "ghl", &mut std::io::stdout());
                Ok(())
            }
            Command::Mcp(args) => {
                // Printing a client's config snippet needs no credentials.
                if let Some(ghl_mcp::McpCommand::Config { client }) = &args.command {
                    println!("{}", ghl_mcp::config_snippet(client, global.sandbox)?);
                    return Ok(());
                }
                let ctx = context::build(&deadline::without(global)).await?;
                let mut args = args;
                args.mirror = commands::mirror::for_mcp(global, args.mirror_sync)?;
                ghl_mcp::run(args, ctx.client.clone(), global.sandbox).await
            }
        };
    }
    if let Some(("contacts", sub)) = matches.subcommand()
        && let Some(("dedupe", args)) = sub.subcommand()
    {
        return commands::mirror::dedupe(args, global, fmt).await;
    }
    if name == compat::LIST_COURSES {
        return Err(Error::new(ghl_core::ErrorCode::UnknownOperation, "HighLevel API v2 has no operation that lists courses")
            .with_hint("courses can only be imported: `ghl courses import JSON`; `ghl api list --group courses` shows what exists"));
    }
    if let Some(result) = commands::bulk::run(matches, global, fmt).await {
        return result;
    }
    let (decl, sub) = friendly::lookup(friendly::COMMANDS, matches)
        .or_else(|| friendly::lookup(compat::COMMANDS, matches))
        .ok_or_else(|| {
            Error::validation(format!("unknown command {name}")).with_hint("see `ghl --help`")
        })?;
    // Parse and check the user's input before credentials or the network.
    let mut args = friendly::call_args(decl, sub)?;
    let paging = friendly::paging(sub);
    let ctx = context::build(global).await?;
    commands::mirror::resolve_named_ids(&mut args, global, &ctx.client).await?;
    if fmt == cli::OutputFormat::Table {
        commands::mirror::load_names_for_tables(global);
    }
    invoke::run(&ctx.client, decl.op, args, paging, fmt).await
}
