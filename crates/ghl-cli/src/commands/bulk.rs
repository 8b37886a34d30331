//! Bulk commands, thin over `ghl-bulk`: `contacts import`, `contacts
//! export`, `opportunities export`, and `--from FILE` on `contacts tags
//! add|remove` and `workflows add`. They join the friendly tree at start-up
//! ([`augment`]) and are dispatched before the friendly declarations
//! ([`run`]); the single-contact forms stay as they were.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use ghl_bulk::export::{Kind, Shape};
use ghl_bulk::input::{self, Format};
use ghl_bulk::normalize::Country;
use ghl_bulk::{Action, JobOptions, Journal, RunOptions, State, Summary};
use ghl_core::{Client, Confirm, Error, ErrorCode, PageOpts};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::context;

fn locations_arg() -> Arg {
    Arg::new("locations")
        .long("locations")
        .value_name("all|ID,ID")
        .help("Run for several sub-accounts (agency): `all`, or comma-separated location ids; each result names its location")
}

fn run_args(c: Command) -> Command {
    c.arg(
        Arg::new("resume")
            .long("resume")
            .action(ArgAction::SetTrue)
            .help("Continue the newest unfinished job of this kind (or --job ID) where it stopped"),
    )
    .arg(
        Arg::new("job")
            .long("job")
            .value_name("ID")
            .help("The job to resume (see the summary of the run that stopped)"),
    )
    .arg(
        Arg::new("concurrency")
            .long("concurrency")
            .value_name("N")
            .default_value("16")
            .value_parser(clap::value_parser!(u16).range(1..=64))
            .help("Rows in flight at once; the per-location rate limiter sets the pace"),
    )
    .arg(
        Arg::new("failures")
            .long("failures")
            .value_name("PATH")
            .value_parser(clap::value_parser!(PathBuf))
            .help("Where refused and failed rows go as CSV [default: FILE.failures.csv, or ./ghl-failures.csv for stdin]"),
    )
    .arg(locations_arg())
}

fn import_command() -> Command {
    run_args(
        Command::new("import")
            .about("Import contacts from CSV or JSON Lines: mapped by header, checked, upserted (matched by email, then phone) at the rate ceiling, resumable")
            .long_about("Import contacts from a .csv or .jsonl file (or - for stdin).\n\nCommon headers map by themselves (First Name, Last Name, Full Name, Email, Phone, Company Name, Tags, Source, Address, City, State, Postal Code, Country, Website, Timezone...), whatever their case and spacing; a header equal to a custom field's key or name fills that field. Each row is an upsert matched by email, then phone, so re-running a file never creates a second contact. Rows with a bad email or phone, an unknown custom field, or neither email nor phone are refused with the reason and the rest goes on. --dry-run looks each row up (reads only) and says what would be created, updated, skipped and refused.")
            .arg(Arg::new("file").value_name("FILE").help("a .csv or .jsonl file, or - for standard input"))
            .arg(Arg::new("format").long("format").value_parser(["csv", "jsonl"]).help("The input format when the file name does not say (stdin)"))
            .arg(Arg::new("map").long("map").value_name("HEADER=TARGET").action(ArgAction::Append).help("Map a column: \"Lead Source=contact.lead_source\", \"Interest=tags\", \"Notes=skip\", \"Mobile=phone\""))
            .arg(Arg::new("default-country").long("default-country").value_name("CC").help("Country for phone numbers without a country code, e.g. US, GB, AU"))
            .arg(Arg::new("tag").long("tag").value_name("TAG").action(ArgAction::Append).help("Add this tag to every imported contact")),
    )
}

fn export_command(kind: &str) -> Command {
    Command::new("export")
        .about(format!("Export every {kind} as CSV or JSON Lines (-o csv|jsonl), streamed, custom fields as columns by key"))
        .arg(Arg::new("query").long("query").value_name("WORDS").help("Only records matching these words"))
        .arg(locations_arg())
}

/// Add the bulk forms to one top-level friendly command (`contacts`,
/// `opportunities`, ...), as it is built.
pub fn augment(cmd: Command) -> Command {
    let from = |c: Command, first: &'static str, second: &'static str| {
        run_args(
            c.mut_arg(first, |a| {
                a.required(false)
                    .required_unless_present_any(["from", "resume"])
            })
            .mut_arg(second, |a| {
                a.required(false)
                    .required_unless_present_any(["from", "resume"])
            })
                .arg(
                    Arg::new("from")
                        .long("from")
                        .value_name("FILE")
                        .help("Act on every contact in FILE (- for stdin): one id or email per line, or a CSV with an id or email column; then give only the second argument"),
                ),
        )
    };
    let mut cmd = cmd;
    let name = cmd.get_name().to_string();
    for f in crate::commands::friendly::COMMANDS {
        if let [first, rest @ ..] = f.words
            && *first == name
            && ghl_catalog::summary::find(f.op)
                .is_some_and(|op| op.effect() == ghl_catalog::Effect::Read)
        {
            cmd = with_locations(cmd, rest);
        }
    }
    match name.as_str() {
        "contacts" => {
            let c = cmd
                .subcommand(import_command())
                .subcommand(export_command("contact"));
            if_present(c, "tags", |t| {
                let t = if_present(t, "add", |a| from(a, "contactId", "tags"));
                if_present(t, "remove", |a| from(a, "contactId", "tags"))
            })
        }
        "opportunities" => cmd.subcommand(export_command("opportunity")),
        "workflows" => if_present(cmd, "add", |a| from(a, "contactId", "workflowId")),
        _ => cmd,
    }
}

/// Change the subcommand `name` when the tree has it: a tree built for one
/// command line holds only the branches it names.
fn if_present(cmd: Command, name: &str, change: impl FnOnce(Command) -> Command) -> Command {
    if cmd.find_subcommand(name).is_some() {
        cmd.mut_subcommand(name, change)
    } else {
        cmd
    }
}

/// Add `--locations` to the leaf command that `words` name.
fn with_locations(cmd: Command, words: &[&'static str]) -> Command {
    match words {
        [] => cmd.arg(locations_arg()),
        [first, rest @ ..] => if_present(cmd, first, |c| with_locations(c, rest)),
    }
}

enum Which {
    Import,
    Export(Kind),
    List(fn(String) -> Action),
}

/// Whether `matches` names a bulk command (many records, many requests).
pub fn is_bulk(matches: &ArgMatches) -> bool {
    classify(matches).is_some()
}

/// The bulk command `matches` names, with the leaf's matches; `None` (in
/// the `Which`) for a read across `--locations`.
fn classify(matches: &ArgMatches) -> Option<(Option<Which>, &ArgMatches)> {
    let mut words = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        words.push(name);
        m = sub;
    }
    let listed = || {
        m.try_get_one::<String>("from").ok().flatten().is_some()
            || m.try_get_one::<bool>("resume").ok().flatten() == Some(&true)
    };
    let which = match words.as_slice() {
        ["contacts", "import"] => Which::Import,
        ["contacts", "export"] => Which::Export(Kind::Contacts),
        ["opportunities", "export"] => Which::Export(Kind::Opportunities),
        ["contacts", "tags", "add"] if listed() => Which::List(|tags| Action::AddTags {
            tags: split_tags(&tags),
        }),
        ["contacts", "tags", "remove"] if listed() => Which::List(|tags| Action::RemoveTags {
            tags: split_tags(&tags),
        }),
        ["workflows", "add"] if listed() => {
            Which::List(|workflow_id| Action::Enroll { workflow_id })
        }
        _ => {
            text(m, "locations")?;
            return Some((None, m));
        }
    };
    Some((Some(which), m))
}

/// Run a bulk command, or `None` when `matches` names another command.
pub async fn run(
    matches: &ArgMatches,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Option<Result<(), Error>> {
    let (which, m) = classify(matches)?;
    let Some(which) = which else {
        let (decl, sub) =
            crate::commands::friendly::lookup(crate::commands::friendly::COMMANDS, matches)?;
        return Some(read_across(decl, sub, global, fmt).await);
    };
    Some(match which {
        Which::Import => import(m, global, fmt).await,
        Which::Export(kind) => export(m, global, fmt, kind).await,
        Which::List(make) => list(m, global, fmt, make).await,
    })
}

fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn text<'a>(m: &'a ArgMatches, id: &str) -> Option<&'a str> {
    m.try_get_one::<String>(id)
        .ok()
        .flatten()
        .map(String::as_str)
}

fn flag(m: &ArgMatches, id: &str) -> bool {
    m.try_get_one::<bool>(id)
        .ok()
        .flatten()
        .copied()
        .unwrap_or(false)
}

fn job_options(m: &ArgMatches, default_failures: PathBuf) -> JobOptions {
    JobOptions {
        run: RunOptions {
            concurrency: m
                .try_get_one::<u16>("concurrency")
                .ok()
                .flatten()
                .map_or(16, |n| *n as usize),
        },
        progress: true,
        failures: Some(
            m.try_get_one::<PathBuf>("failures")
                .ok()
                .flatten()
                .cloned()
                .unwrap_or(default_failures),
        ),
    }
}

fn failures_beside(file: Option<&str>) -> PathBuf {
    match file {
        Some(f) if f != "-" => {
            let p = PathBuf::from(f);
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "import".into());
            p.with_file_name(format!("{stem}.failures.csv"))
        }
        _ => PathBuf::from("ghl-failures.csv"),
    }
}

fn open_journal() -> Result<Journal, Error> {
    Journal::open(None).map_err(|e| {
        Error::config(format!("cannot open the bulk journal: {e}"))
            .with_hint("set GHL_STORE_URL to a writable SQLite file, or check GHL_DATA_DIR")
    })
}

fn location_of(client: &Client) -> Result<String, Error> {
    client.defaults().location_id.clone().ok_or_else(|| {
        Error::config("no location (sub-account) is set")
            .with_hint("pass --location ID, set HIGHLEVEL_LOCATION_ID, or run `ghl setup`")
    })
}

/// The locations `--locations` names (`all`: every sub-account of the
/// agency, through `locations.search-locations`), else the one in use.
async fn locations(m: &ArgMatches, client: &Client) -> Result<Vec<String>, Error> {
    let Some(spec) = text(m, "locations") else {
        return Ok(vec![location_of(client)?]);
    };
    if spec.trim() != "all" {
        return crate::locations::listed(spec);
    }
    crate::locations::of_agency(client).await
}

/// One summary per location, printed as the output format asks.
fn print_summaries(fmt: OutputFormat, results: &[(String, Summary)], dry: bool) {
    match fmt {
        OutputFormat::Table => {
            for (loc, s) in results {
                let prefix = if results.len() > 1 {
                    format!("{loc}: ")
                } else {
                    String::new()
                };
                println!("{prefix}{}{}", if dry { "would: " } else { "" }, s.line());
                if let Some(f) = &s.failures_file {
                    println!("{prefix}refused and failed rows: {f}");
                }
                if s.pending > 0 || s.retryable > 0 {
                    println!("{prefix}job {}: `--resume` continues it", s.job);
                }
            }
        }
        _ => {
            let items: Vec<Value> = results
                .iter()
                .map(|(loc, s)| {
                    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
                    v["locationId"] = json!(loc);
                    if dry {
                        v["dryRun"] = json!(true);
                    }
                    v
                })
                .collect();
            let out = if items.len() == 1 {
                items.into_iter().next().unwrap_or(Value::Null)
            } else {
                Value::Array(items)
            };
            let _ = crate::output::json(&out);
        }
    }
}

fn exit_for(results: &[(String, Summary)]) -> Result<(), Error> {
    let failed: u64 = results.iter().map(|(_, s)| s.failed + s.pending).sum();
    if failed > 0 {
        return Err(Error::new(
            ErrorCode::Partial,
            format!("{failed} rows were not applied"),
        )
        .with_hint("see the failures file; `--resume` sends the rows that can be retried"));
    }
    Ok(())
}

async fn import(m: &ArgMatches, global: &GlobalArgs, fmt: OutputFormat) -> Result<(), Error> {
    let file = text(m, "file");
    let resume = flag(m, "resume");
    let maps: Vec<String> = m
        .get_many::<String>("map")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let country = match text(m, "default-country") {
        Some(cc) => Some(Country::parse(cc).ok_or_else(|| {
            Error::validation(format!("--default-country {cc} is not one ghl knows"))
                .with_hint(format!("known: {}", Country::known()))
        })?),
        None => None,
    };
    let tags: Vec<String> = m
        .get_many::<String>("tag")
        .map(|v| v.flat_map(|t| split_tags(t)).collect())
        .unwrap_or_default();
    let opts = job_options(m, failures_beside(file));
    // Read and parse the file before credentials or the network.
    let parsed = match (file, resume) {
        (Some(f), _) => {
            let format = match text(m, "format").and_then(Format::parse) {
                Some(f) => f,
                None => Format::from_path(f).ok_or_else(|| {
                    Error::validation(format!("cannot tell the format of {f}"))
                        .with_hint("name the file .csv or .jsonl, or pass --format csv|jsonl")
                })?,
            };
            let bytes = input::read_source(f).map_err(Error::validation)?;
            Some(input::parse(&bytes, format).map_err(Error::validation)?)
        }
        (None, true) => None,
        (None, false) => {
            return Err(
                Error::validation("which file? give FILE (or - for stdin)").with_hint(
                    "ghl contacts import leads.csv, or --resume to continue a stopped import",
                ),
            );
        }
    };
    let ctx = context::build(global).await?;
    let client = &ctx.client;
    if resume {
        let journal = open_journal()?;
        let job = ghl_bulk::find_resumable(&journal, "import", text(m, "job"))?;
        eprintln!("resuming {} ({})", job.id, job.label);
        let client = client_for_location(client, &job.location_id);
        let summary = ghl_bulk::run(&client, &journal, &job, &opts).await?;
        let results = vec![(job.location_id.clone(), summary)];
        print_summaries(fmt, &results, false);
        return exit_for(&results);
    }
    let Some(parsed) = parsed else {
        return Err(Error::validation("nothing to import"));
    };
    let label = file.unwrap_or("-").to_string();
    let mut results = Vec::new();
    let targets = locations(m, client).await?;
    let journal = if global.dry_run {
        None
    } else {
        client
            .policy()
            .permits(Client::operation(ghl_bulk::action::UPSERT)?)?;
        Some(open_journal()?)
    };
    for loc in &targets {
        let client = client_for_location(client, loc);
        let mapping = ghl_bulk::import::mapping(&client, loc, &maps).await?;
        let plan = ghl_bulk::import::plan(
            &parsed,
            &mapping,
            &ghl_bulk::contact_row::RowOptions {
                default_country: country,
                tags: tags.clone(),
            },
        );
        if !plan.ignored_headers.is_empty() {
            eprintln!(
                "note: these columns fill nothing and are left out: {} (map them with --map \"HEADER=TARGET\")",
                plan.ignored_headers.join(", ")
            );
        }
        let Some(journal) = &journal else {
            results.push((loc.clone(), dry_import(&client, loc, &plan, &opts).await?));
            continue;
        };
        let (_, summary) = ghl_bulk::start(
            &client,
            journal,
            &Action::Upsert,
            loc,
            &label,
            &plan.rows,
            &opts,
        )
        .await?;
        results.push((loc.clone(), summary));
    }
    print_summaries(fmt, &results, global.dry_run);
    if global.dry_run {
        return Ok(());
    }
    exit_for(&results)
}

/// `--dry-run`: the plan's refusals and repeats, and for the rest what
/// HighLevel's duplicate lookup says (reads only).
async fn dry_import(
    client: &Client,
    loc: &str,
    plan: &ghl_bulk::import::Plan,
    opts: &JobOptions,
) -> Result<Summary, Error> {
    let pending = plan.count(State::Pending) as u64;
    let bar = ghl_bulk::progress::bar(pending, "lookup", opts.progress);
    let started = std::time::Instant::now();
    let (created, updated) =
        ghl_bulk::import::would_create_or_update(client, loc, plan, opts.run.concurrency, &bar)
            .await?;
    bar.finish_and_clear();
    let mut s = Summary {
        job: "dry-run".into(),
        rows: plan.rows.len() as u64,
        skipped: plan.count(State::Skipped) as u64,
        refused: plan.count(State::Refused) as u64,
        seconds: started.elapsed().as_secs_f64(),
        ..Summary::default()
    };
    s.done.insert("created".into(), created);
    s.done.insert("updated".into(), updated);
    for r in plan
        .rows
        .iter()
        .filter(|r| r.state == State::Refused)
        .take(20)
    {
        eprintln!(
            "row {} (line {}): {}: {}",
            r.row,
            r.line,
            r.code.as_deref().unwrap_or(""),
            r.message.as_deref().unwrap_or("")
        );
    }
    Ok(s)
}

/// The same client, acting on `loc`.
fn client_for_location(client: &Client, loc: &str) -> Client {
    if client.defaults().location_id.as_deref() == Some(loc) {
        return client.clone();
    }
    let mut defaults = client.defaults().clone();
    defaults.location_id = Some(loc.to_string());
    Client::new(
        client.transport().clone(),
        client.policy().clone(),
        defaults,
    )
}

async fn export(
    m: &ArgMatches,
    global: &GlobalArgs,
    fmt: OutputFormat,
    kind: Kind,
) -> Result<(), Error> {
    let shape = match fmt {
        OutputFormat::Csv | OutputFormat::Table => Shape::Csv,
        OutputFormat::Jsonl | OutputFormat::Json => Shape::Jsonl,
    };
    let ctx = context::build(global).await?;
    let targets = locations(m, &ctx.client).await?;
    let many = text(m, "locations").is_some();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut total = 0;
    for (i, loc) in targets.iter().enumerate() {
        let client = client_for_location(&ctx.client, loc);
        total += ghl_bulk::export::export(
            &client,
            kind,
            loc,
            text(m, "query"),
            shape,
            many,
            i == 0,
            &mut out,
        )
        .await?;
    }
    out.flush()
        .map_err(|e| Error::validation(format!("cannot write the export: {e}")))?;
    if std::io::stderr().is_terminal() {
        eprintln!("{total} records exported");
    }
    Ok(())
}

async fn list(
    m: &ArgMatches,
    global: &GlobalArgs,
    fmt: OutputFormat,
    make: fn(String) -> Action,
) -> Result<(), Error> {
    let resume = flag(m, "resume");
    let from = text(m, "from");
    // With --from, the one positional given is the second argument (tags
    // or workflow id); clap put it in the first slot.
    let (first, second) = ["contactId", "tags", "workflowId"]
        .iter()
        .filter_map(|id| text(m, id))
        .fold((None, None), |acc, v| match acc {
            (None, _) => (Some(v), None),
            (a, _) => (a, Some(v)),
        });
    if second.is_some() {
        return Err(Error::validation(
            "with --from, give only the tags or the workflow id, not a contact id",
        )
        .with_hint("ghl contacts tags add --from list.txt vip,event"));
    }
    let opts = job_options(m, failures_beside(from));
    let rows = match (from, resume) {
        (Some(f), false) => {
            let target = first.ok_or_else(|| {
                Error::validation("give the tags (or the workflow id) after --from FILE")
            })?;
            let action = make(target.to_string());
            if let Action::AddTags { tags } | Action::RemoveTags { tags } = &action
                && tags.is_empty()
            {
                return Err(Error::validation("tags needs at least one value"));
            }
            let bytes = input::read_source(f).map_err(Error::validation)?;
            Some((
                action,
                ghl_bulk::list::plan(&bytes).map_err(Error::validation)?,
            ))
        }
        (_, true) => None,
        (None, false) => return Err(Error::validation("give --from FILE or --resume")),
    };
    let ctx = context::build(global).await?;
    let journal = (!global.dry_run).then(open_journal).transpose()?;
    let Some((action, rows)) = rows else {
        let journal =
            journal.ok_or_else(|| Error::validation("--resume sends requests; drop --dry-run"))?;
        let kind = make(String::new()).kind();
        let job = ghl_bulk::find_resumable(&journal, kind, text(m, "job"))?;
        let action: Action = serde_json::from_str(&job.spec)
            .map_err(|e| Error::config(format!("job {} is unreadable: {e}", job.id)))?;
        let left = journal
            .rows(&job.id)
            .map_err(|e| Error::config(e.to_string()))?
            .iter()
            .filter(|r| !matches!(r.state, State::Done | State::Skipped | State::Refused))
            .count();
        let client = confirm_once(&ctx.client, global, &action, left)?;
        let client = client_for_location(&client, &job.location_id);
        let summary = ghl_bulk::run(&client, &journal, &job, &opts).await?;
        let results = vec![(job.location_id.clone(), summary)];
        print_summaries(fmt, &results, false);
        return exit_for(&results);
    };
    let targets = locations(m, &ctx.client).await?;
    let pending: Vec<&ghl_bulk::NewRow> =
        rows.iter().filter(|r| r.state == State::Pending).collect();
    if global.dry_run {
        let mut results = Vec::new();
        for loc in &targets {
            let mut s = Summary {
                job: "dry-run".into(),
                rows: rows.len() as u64,
                skipped: rows.iter().filter(|r| r.state == State::Skipped).count() as u64,
                refused: rows.iter().filter(|r| r.state == State::Refused).count() as u64,
                ..Summary::default()
            };
            s.done.insert(action.describe(), pending.len() as u64);
            results.push((loc.clone(), s));
        }
        let sample: Vec<&str> = pending.iter().take(5).map(|r| r.payload.as_str()).collect();
        eprintln!(
            "would {} for {} contacts, e.g. {}",
            action.describe(),
            pending.len(),
            sample.join(", ")
        );
        print_summaries(fmt, &results, true);
        return Ok(());
    }
    ctx.client
        .policy()
        .permits(Client::operation(action.operation())?)?;
    let client = confirm_once(&ctx.client, global, &action, pending.len() * targets.len())?;
    let journal = journal.ok_or_else(|| Error::config("no journal"))?;
    let mut results = Vec::new();
    for loc in &targets {
        let client = client_for_location(&client, loc);
        let (_, summary) = ghl_bulk::start(
            &client,
            &journal,
            &action,
            loc,
            from.unwrap_or("-"),
            &rows,
            &opts,
        )
        .await?;
        results.push((loc.clone(), summary));
    }
    print_summaries(fmt, &results, false);
    exit_for(&results)
}

/// Outbound and destructive bulk actions are asked once, with the count;
/// off a terminal they need --yes. The client returned does not ask again
/// for each row.
fn confirm_once(
    client: &Client,
    global: &GlobalArgs,
    action: &Action,
    count: usize,
) -> Result<Client, Error> {
    let mut policy = client.policy().clone();
    if !action.needs_confirmation() || count == 0 {
        return Ok(client.clone());
    }
    let agreed = if global.yes {
        true
    } else if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        eprint!("{} for {count} contacts? [y/N] ", action.describe());
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).is_ok()
            && matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    } else {
        false
    };
    if !agreed {
        return Err(Error::new(
            ErrorCode::ConfirmationRequired,
            format!(
                "{} for {count} contacts was not confirmed",
                action.describe()
            ),
        )
        .with_hint("re-run with --yes to confirm, or --dry-run to see the list"));
    }
    policy.confirm = Confirm::Granted;
    Ok(client.with_policy(policy))
}

/// A friendly read run for each location of `--locations`, every record
/// tagged with the location it came from (`_location`).
async fn read_across(
    decl: &crate::commands::friendly::Friendly,
    sub: &ArgMatches,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let args = crate::commands::friendly::call_args(decl, sub)?;
    let paging = crate::commands::friendly::paging(sub);
    let ctx = context::build(global).await?;
    let targets = locations(sub, &ctx.client).await?;
    let opts = PageOpts {
        all: paging.all,
        max: paging.max,
        page_size: paging.page_size,
        ..PageOpts::default()
    };
    let mut all = Vec::new();
    for loc in &targets {
        let client = client_for_location(&ctx.client, loc);
        let (records, summary) = client.collect(decl.op, args.clone(), opts).await?;
        if summary.more {
            eprintln!("note: {loc}: more records exist; add --all to fetch every page");
        }
        for mut r in records {
            if let Value::Object(m) = &mut r {
                m.insert("_location".into(), json!(loc));
            }
            all.push(r);
        }
    }
    crate::output::records(fmt, &all)
        .map_err(|e| Error::new(ErrorCode::Network, format!("cannot write output: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_augmented_tree_builds() {
        crate::command().debug_assert();
    }
}
