//! Friendly `ghl <noun> <verb>` commands. Each is a declaration: words,
//! positional arguments mapped to a catalog operation's parameters, and
//! fixed values. No request code lives here; `invoke` runs them all.

use clap::{Arg, ArgAction, ArgMatches, Command};
use ghl_core::{CallArgs, Error};
use serde_json::{Value, json};

/// Where a positional argument goes.
#[derive(Debug, Clone, Copy)]
pub enum Pos {
    /// A required parameter (path, query or body field) by name.
    Param(&'static str, &'static str),
    /// An optional parameter.
    Opt(&'static str, &'static str),
    /// A JSON object merged into the body.
    Json(&'static str),
    /// A comma-separated list, sent as an array.
    List(&'static str, &'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Friendly {
    pub words: &'static [&'static str],
    pub about: &'static str,
    pub op: &'static str,
    pub args: &'static [Pos],
    /// Values sent unless the user gives their own (`name=value`).
    pub fixed: &'static [(&'static str, FixedValue)],
}

#[derive(Debug, Clone, Copy)]
pub enum FixedValue {
    Str(&'static str),
    Bool(bool),
    /// Whatever another parameter ends up as (`subType` follows `type`).
    SameAs(&'static str),
}

use FixedValue::{Bool, SameAs, Str};
use Pos::{Json, List, Opt, Param};

pub const fn cmd(
    words: &'static [&'static str],
    about: &'static str,
    op: &'static str,
    args: &'static [Pos],
) -> Friendly {
    Friendly {
        words,
        about,
        op,
        args,
        fixed: &[],
    }
}

pub const fn with(
    words: &'static [&'static str],
    about: &'static str,
    op: &'static str,
    args: &'static [Pos],
    fixed: &'static [(&'static str, FixedValue)],
) -> Friendly {
    Friendly {
        words,
        about,
        op,
        args,
        fixed,
    }
}

const ID: &str = "the record's id";
/// The search that takes `--tag`, and the flag's id.
const TAG_SEARCH: &str = "contacts.search-contacts-advanced";
const TAG_FLAG: &str = "tag";
/// Internal id of `--body`, apart from a positional that may be named `body`.
const BODY_FLAG: &str = "--body";

pub const COMMANDS: &[Friendly] = &[
    // Contacts
    cmd(
        &["contacts", "search"],
        "Search contacts by name, email, phone or company",
        "contacts.search-contacts-advanced",
        &[Opt("query", "words to look for")],
    ),
    cmd(
        &["contacts", "get"],
        "Show one contact",
        "contacts.get-contact",
        &[Param("contactId", ID)],
    ),
    cmd(
        &["contacts", "create"],
        "Create a contact from JSON",
        "contacts.create-contact",
        &[Json(
            "contact fields, e.g. '{\"firstName\":\"Jane\",\"email\":\"jane@example.com\"}'",
        )],
    ),
    cmd(
        &["contacts", "update"],
        "Update a contact with JSON fields",
        "contacts.update-contact",
        &[Param("contactId", ID), Json("fields to change")],
    ),
    cmd(
        &["contacts", "upsert"],
        "Create or update a contact, matched by email or phone",
        "contacts.upsert-contact",
        &[Json("contact fields")],
    ),
    cmd(
        &["contacts", "delete"],
        "Delete a contact",
        "contacts.delete-contact",
        &[Param("contactId", ID)],
    ),
    cmd(
        &["contacts", "tags", "add"],
        "Add tags to a contact",
        "contacts.add-tags",
        &[Param("contactId", ID), List("tags", "comma-separated tags")],
    ),
    cmd(
        &["contacts", "tags", "remove"],
        "Remove tags from a contact",
        "contacts.remove-tags",
        &[Param("contactId", ID), List("tags", "comma-separated tags")],
    ),
    cmd(
        &["contacts", "notes", "list"],
        "List a contact's notes",
        "contacts.get-all-notes",
        &[Param("contactId", ID)],
    ),
    cmd(
        &["contacts", "notes", "add"],
        "Add a note to a contact",
        "contacts.create-note",
        &[Param("contactId", ID), Param("body", "the note's text")],
    ),
    cmd(
        &["contacts", "tasks", "list"],
        "List a contact's tasks",
        "contacts.get-all-tasks",
        &[Param("contactId", ID)],
    ),
    with(
        &["contacts", "tasks", "add"],
        "Add a task to a contact",
        "contacts.create-task",
        &[
            Param("contactId", ID),
            Param("title", "what to do"),
            Param("dueDate", "when, ISO 8601 (2025-03-01T15:00:00Z)"),
        ],
        &[("completed", Bool(false))],
    ),
    cmd(
        &["contacts", "appointments"],
        "List a contact's appointments",
        "contacts.get-appointments-for-contact",
        &[Param("contactId", ID)],
    ),
    // Conversations
    cmd(
        &["conversations", "search"],
        "Search conversations",
        "conversations.search-conversation",
        &[Opt("query", "words to look for")],
    ),
    cmd(
        &["conversations", "messages"],
        "List a conversation's messages",
        "conversations.get-messages",
        &[Param("conversationId", "the conversation's id")],
    ),
    with(
        &["conversations", "send"],
        "Send an SMS to a contact (type=WhatsApp etc. for other channels)",
        "conversations.send-a-new-message",
        &[
            Param("contactId", "the contact's id"),
            Param("message", "the text to send"),
        ],
        &[("type", Str("SMS"))],
    ),
    with(
        &["conversations", "email"],
        "Send an email to a contact",
        "conversations.send-a-new-message",
        &[
            Param("contactId", "the contact's id"),
            Param("subject", "subject line"),
            Param("html", "the message (HTML or text)"),
        ],
        &[("type", Str("Email"))],
    ),
    // Calendars and appointments
    cmd(
        &["calendars", "list"],
        "List calendars",
        "calendars.get-calendars",
        &[],
    ),
    cmd(
        &["calendars", "slots"],
        "Free slots of a calendar between two dates (ISO dates or epoch ms)",
        "calendars.get-slots",
        &[
            Param("calendarId", "the calendar's id"),
            Param("startDate", "from, e.g. 2025-03-01"),
            Param("endDate", "to, e.g. 2025-03-07"),
        ],
    ),
    cmd(
        &["appointments", "create"],
        "Book an appointment from JSON (calendarId, contactId, startTime...)",
        "calendars.create-appointment",
        &[Json("appointment fields")],
    ),
    cmd(
        &["appointments", "book"],
        "Book a contact into a calendar slot",
        "calendars.create-appointment",
        &[
            Param("calendarId", "the calendar's id"),
            Param("contactId", "the contact's id"),
            Param("startTime", "start, ISO 8601 with offset"),
            Opt(
                "endTime",
                "end, ISO 8601 (default: the calendar's slot length)",
            ),
        ],
    ),
    cmd(
        &["appointments", "get"],
        "Show an appointment",
        "calendars.get-appointment",
        &[Param("eventId", "the appointment's id")],
    ),
    cmd(
        &["appointments", "update"],
        "Change an appointment with JSON fields (startTime, appointmentStatus...)",
        "calendars.edit-appointment",
        &[
            Param("eventId", "the appointment's id"),
            Json("fields to change"),
        ],
    ),
    cmd(
        &["appointments", "delete"],
        "Delete an appointment",
        "calendars.delete-event",
        &[Param("eventId", "the appointment's id")],
    ),
    // Opportunities and pipelines
    cmd(
        &["opportunities", "search"],
        "Search opportunities (pipeline_id=, status=, contact_id= filters)",
        "opportunities.search-opportunity",
        &[Opt("q", "words to look for")],
    ),
    cmd(
        &["opportunities", "get"],
        "Show an opportunity",
        "opportunities.get-opportunity",
        &[Param("id", ID)],
    ),
    cmd(
        &["opportunities", "create"],
        "Create an opportunity from JSON (pipelineId, name, status, contactId...)",
        "opportunities.create-opportunity",
        &[Json("opportunity fields")],
    ),
    cmd(
        &["opportunities", "update"],
        "Update an opportunity with JSON fields",
        "opportunities.update-opportunity",
        &[Param("id", ID), Json("fields to change")],
    ),
    cmd(
        &["opportunities", "status"],
        "Set an opportunity's status: open, won, lost, abandoned",
        "opportunities.update-opportunity-status",
        &[
            Param("id", ID),
            Param("status", "open, won, lost or abandoned"),
        ],
    ),
    cmd(
        &["opportunities", "stage"],
        "Move an opportunity to another pipeline stage",
        "opportunities.update-opportunity",
        &[
            Param("id", ID),
            Param(
                "pipelineStageId",
                "the stage's id (see `ghl pipelines list`)",
            ),
        ],
    ),
    cmd(
        &["opportunities", "delete"],
        "Delete an opportunity",
        "opportunities.delete-opportunity",
        &[Param("id", ID)],
    ),
    cmd(
        &["pipelines", "list"],
        "List pipelines and their stages",
        "opportunities.get-pipelines",
        &[],
    ),
    // Workflows and campaigns
    cmd(
        &["workflows", "list"],
        "List workflows",
        "workflows.get-workflow",
        &[],
    ),
    cmd(
        &["workflows", "add"],
        "Enroll a contact in a workflow",
        "contacts.add-contact-to-workflow",
        &[
            Param("contactId", "the contact's id"),
            Param("workflowId", "the workflow's id"),
        ],
    ),
    cmd(
        &["workflows", "remove"],
        "Remove a contact from a workflow",
        "contacts.delete-contact-from-workflow",
        &[
            Param("contactId", "the contact's id"),
            Param("workflowId", "the workflow's id"),
        ],
    ),
    cmd(
        &["campaigns", "list"],
        "List campaigns",
        "campaigns.get-campaigns",
        &[],
    ),
    // Invoices and products
    cmd(
        &["invoices", "list"],
        "List invoices",
        "invoices.list-invoices",
        &[],
    ),
    cmd(
        &["invoices", "get"],
        "Show an invoice",
        "invoices.get-invoice",
        &[Param("invoiceId", "the invoice's id")],
    ),
    cmd(
        &["invoices", "create"],
        "Create an invoice from JSON",
        "invoices.create-invoice",
        &[Json("invoice fields")],
    ),
    with(
        &["invoices", "send"],
        "Send an invoice (action=sms, sms_and_email or send_manually to change how)",
        "invoices.send-invoice",
        &[
            Param("invoiceId", "the invoice's id"),
            Param("userId", "the user sending it"),
        ],
        &[("action", Str("email")), ("liveMode", Bool(true))],
    ),
    cmd(
        &["invoices", "void"],
        "Void an invoice",
        "invoices.void-invoice",
        &[Param("invoiceId", "the invoice's id")],
    ),
    cmd(
        &["products", "list"],
        "List products",
        "products.list-invoices",
        &[Opt("search", "words to look for")],
    ),
    cmd(
        &["products", "get"],
        "Show a product",
        "products.get-product-by-id",
        &[Param("productId", "the product's id")],
    ),
    // The location
    cmd(
        &["location", "get"],
        "Show the location (sub-account)",
        "locations.get-location",
        &[],
    ),
    cmd(
        &["location", "custom-fields"],
        "List the location's custom fields",
        "locations.get-custom-fields",
        &[],
    ),
    cmd(
        &["location", "custom-values"],
        "List the location's custom values",
        "locations.get-custom-values",
        &[],
    ),
    cmd(
        &["location", "tags"],
        "List the location's tags",
        "locations.get-location-tags",
        &[],
    ),
    // Users, forms, courses
    cmd(
        &["users", "list"],
        "List the location's users",
        "users.get-user-by-location",
        &[],
    ),
    cmd(
        &["users", "get"],
        "Show a user",
        "users.get-user",
        &[Param("userId", "the user's id")],
    ),
    cmd(&["forms", "list"], "List forms", "forms.get-forms", &[]),
    cmd(
        &["forms", "submissions"],
        "List form submissions",
        "forms.get-forms-submissions",
        &[Opt("formId", "only this form")],
    ),
    cmd(
        &["courses", "import"],
        "Import courses from JSON (the API offers import only)",
        "courses.import-courses",
        &[Json("import payload: products with their posts")],
    ),
];

/// The clap commands for every declaration, nested by words.
pub fn commands(decls: &'static [Friendly]) -> Vec<Command> {
    let entries: Vec<(&[&'static str], &Friendly)> = decls.iter().map(|f| (f.words, f)).collect();
    level(&entries, &[])
}

/// Commands for one level of words: a leaf where the words end, else a
/// group holding the next level. With `named` words, only the branches
/// they name are built (all of them when they name none): a command line
/// needs no more, and building the rest was most of the start-up.
fn level(entries: &[(&[&'static str], &Friendly)], named: &[&str]) -> Vec<Command> {
    let mut names: Vec<&'static str> = Vec::new();
    for (words, _) in entries {
        if let Some(first) = words.first()
            && !names.contains(first)
        {
            names.push(first);
        }
    }
    if names.iter().any(|n| named.contains(n)) {
        names.retain(|n| named.contains(n));
    }
    names
        .into_iter()
        .map(|name| {
            let here: Vec<(&[&'static str], &Friendly)> = entries
                .iter()
                .filter(|(w, _)| w.first() == Some(&name))
                .map(|(w, f)| (&w[1..], *f))
                .collect();
            match here.as_slice() {
                [([], f)] => leaf(name, f),
                _ => Command::new(name)
                    .about(group_about(name))
                    .subcommand_required(true)
                    .arg_required_else_help(true)
                    .subcommands(level(&here, named)),
            }
        })
        .collect()
}

/// The top-level commands of `decls` as shells (name and one-line help)
/// whose contents clap builds only when the command line reaches them
/// (`defer`): `ghl --version` or `ghl contacts get` never builds the
/// hundred other commands. `fill` receives the shell, which clap has
/// already given the global options, and must add to it (see [`fill`]).
pub fn deferred(decls: &'static [Friendly], fill: fn(Command) -> Command) -> Vec<Command> {
    let mut names: Vec<&'static str> = Vec::new();
    for f in decls {
        if let Some(first) = f.words.first()
            && !names.contains(first)
        {
            names.push(first);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let about = match decls.iter().find(|f| f.words == [name]) {
                Some(f) => leaf_about(f),
                None => group_about(name),
            };
            Command::new(name).about(about).defer(fill)
        })
        .collect()
}

/// The contents of the top-level command `shell` names, from `decls`.
pub fn fill(shell: Command, decls: &'static [Friendly]) -> Command {
    fill_named(shell, decls, &[])
}

/// [`fill`] with only the branches the `named` words name at each level.
pub fn fill_named(shell: Command, decls: &'static [Friendly], named: &[&str]) -> Command {
    let name = shell.get_name().to_string();
    let here: Vec<(&[&'static str], &Friendly)> = decls
        .iter()
        .filter(|f| f.words.first() == Some(&name.as_str()))
        .map(|f| (&f.words[1..], f))
        .collect();
    match here.as_slice() {
        [([], f)] => leaf_args(shell, f),
        _ => shell
            .subcommand_required(true)
            .arg_required_else_help(true)
            .subcommands(level(&here, named)),
    }
}

/// One line for each group of commands in `--help`.
fn group_about(name: &str) -> String {
    let about = match name {
        "contacts" => "People: search, view, create, update, upsert, delete, tags, notes, tasks",
        "conversations" => "Message threads: search, read, send SMS and email",
        "calendars" => "Calendars and their free slots",
        "appointments" => "Book, view, change and delete appointments",
        "opportunities" => "Deals in pipelines: search, create, update, set status, move stage",
        "pipelines" => "Pipelines and their stages",
        "workflows" => "Automations: list, enroll or remove a contact",
        "campaigns" => "Campaigns",
        "invoices" => "Invoices: list, view, create, send, void",
        "products" => "Products and prices",
        "location" => "The sub-account: details, custom fields, custom values, tags",
        "users" => "The sub-account's users",
        "forms" => "Forms and their submissions",
        "courses" => "Courses (import only in API v2)",
        "tags" => "Add or remove a contact's tags",
        "notes" => "A contact's notes",
        "tasks" => "A contact's tasks",
        other => return format!("{other} commands"),
    };
    about.to_string()
}

fn leaf_about(f: &Friendly) -> String {
    format!("{} [{}]", f.about, f.op)
}

fn leaf(name: &'static str, f: &Friendly) -> Command {
    leaf_args(Command::new(name).about(leaf_about(f)), f)
}

fn leaf_args(c: Command, f: &Friendly) -> Command {
    // The build-time summary, not the parsed operation: a group's help or
    // one of its commands must not parse every operation of the group.
    let op = ghl_catalog::summary::find(f.op);
    let mut c = c;
    for (i, p) in f.args.iter().enumerate() {
        let (id, help, required) = match p {
            Param(n, h) => (*n, *h, true),
            Opt(n, h) => (*n, *h, false),
            Json(h) => ("json", *h, true),
            List(n, h) => (*n, *h, true),
        };
        c = c.arg(
            Arg::new(id)
                .help(help)
                .required(required)
                .index(i + 1)
                .value_name(id.to_uppercase()),
        );
    }
    c = c.arg(
        Arg::new("params")
            .help("more parameters as name=value (see `ghl api describe`)")
            .num_args(0..)
            .index(f.args.len() + 1)
            .value_name("NAME=VALUE")
            .action(ArgAction::Append),
    );
    if op.is_some_and(|o| o.has_body()) {
        c = c.arg(
            Arg::new(BODY_FLAG)
                .long("body")
                .value_name("JSON")
                .help("JSON body, or @FILE"),
        );
    }
    if f.op == TAG_SEARCH {
        c = c.arg(
            Arg::new(TAG_FLAG)
                .long("tag")
                .value_name("TAG")
                .action(ArgAction::Append)
                .help("Only contacts with this tag (repeatable: any of them)"),
        );
    }
    if op.is_some_and(|o| o.paged()) {
        c = c
            .arg(
                Arg::new("all")
                    .long("all")
                    .action(ArgAction::SetTrue)
                    .help("Follow every page"),
            )
            .arg(
                Arg::new("max")
                    .long("max")
                    .value_name("N")
                    .value_parser(clap::value_parser!(usize))
                    .help("Follow pages up to N records in all"),
            )
            .arg(
                Arg::new("page_size")
                    .long("page-size")
                    .value_name("N")
                    .value_parser(clap::value_parser!(u64).range(1..))
                    .help("Records per page"),
            );
    }
    c
}

/// Find the declaration a parsed command line names.
pub fn lookup<'a>(
    decls: &'static [Friendly],
    m: &'a ArgMatches,
) -> Option<(&'static Friendly, &'a ArgMatches)> {
    let mut words = Vec::new();
    let mut cur = m;
    while let Some((name, sub)) = cur.subcommand() {
        words.push(name.to_string());
        cur = sub;
    }
    decls
        .iter()
        .find(|f| f.words.len() == words.len() && f.words.iter().zip(&words).all(|(a, b)| a == b))
        .map(|f| (f, cur))
}

/// Arguments for the declaration's operation from what the user typed.
pub fn call_args(f: &Friendly, m: &ArgMatches) -> Result<CallArgs, Error> {
    let extra: Vec<String> = m
        .get_many::<String>("params")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    let mut args = CallArgs::from_pairs(&extra)?;
    if let Ok(Some(b)) = m.try_get_one::<String>(BODY_FLAG) {
        args.body = Some(CallArgs::parse_body(b)?);
    }
    for p in f.args {
        match p {
            // `ghl opportunities search status=won`: a parameter typed where
            // an optional positional sits is a parameter, not a query.
            Opt(n, _) if m.get_one::<String>(n).is_some_and(|v| looks_like_pair(v)) => {
                if let Some(v) = m.get_one::<String>(n) {
                    let pair = CallArgs::from_pairs([v])?;
                    for (k, v) in pair.params {
                        args.params.entry(k).or_insert(v);
                    }
                }
            }
            Param(n, _) | Opt(n, _) => {
                if let Some(v) = m.get_one::<String>(n) {
                    args.params.entry(n.to_string()).or_insert(json!(v));
                }
            }
            List(n, _) => {
                if let Some(v) = m.get_one::<String>(n) {
                    let items: Vec<Value> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| json!(s))
                        .collect();
                    if items.is_empty() {
                        return Err(Error::validation(format!("{n} needs at least one value")));
                    }
                    args.params.insert(n.to_string(), Value::Array(items));
                }
            }
            Json(_) => {
                if let Some(v) = m.get_one::<String>("json") {
                    let parsed = CallArgs::parse_body(v)?;
                    let Value::Object(obj) = parsed else {
                        return Err(Error::validation("expected a JSON object")
                            .with_hint("e.g. '{\"firstName\":\"Jane\"}'"));
                    };
                    let body = args.body.get_or_insert_with(|| json!({}));
                    if let Value::Object(b) = body {
                        for (k, v) in obj {
                            b.insert(k, v);
                        }
                    }
                }
            }
        }
    }
    if let Ok(Some(tags)) = m.try_get_many::<String>(TAG_FLAG) {
        let tags: Vec<String> = tags
            .flat_map(|t| t.split(','))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if !tags.is_empty() {
            let filter = ghl_core::catalog::contact_search::tag_filter(&tags);
            let body = args.body.get_or_insert_with(|| json!({}));
            if let Value::Object(b) = body {
                match b.get_mut("filters") {
                    Some(Value::Array(list)) => list.push(filter),
                    _ => {
                        b.insert("filters".into(), json!([filter]));
                    }
                }
            }
        }
    }
    let given = |args: &CallArgs, k: &str| {
        args.params
            .get(k)
            .or_else(|| args.body.as_ref().and_then(|b| b.get(k)))
            .cloned()
    };
    // Plain values first, so `SameAs` sees the final value of its source.
    for (k, v) in f.fixed {
        let value = match v {
            Str(s) => json!(s),
            Bool(b) => json!(b),
            SameAs(_) => continue,
        };
        if given(&args, k).is_none() {
            args.params.insert(k.to_string(), value);
        }
    }
    for (k, v) in f.fixed {
        if let SameAs(source) = v
            && given(&args, k).is_none()
            && let Some(value) = given(&args, source)
        {
            args.params.insert(k.to_string(), value);
        }
    }
    Ok(args)
}

fn looks_like_pair(v: &str) -> bool {
    v.split_once('=').is_some_and(|(name, _)| {
        let name = name.strip_suffix(':').unwrap_or(name);
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

pub fn paging(m: &ArgMatches) -> crate::cli::PagingArgs {
    crate::cli::PagingArgs {
        all: m
            .try_get_one::<bool>("all")
            .ok()
            .flatten()
            .copied()
            .unwrap_or(false),
        max: m.try_get_one::<usize>("max").ok().flatten().copied(),
        page_size: m.try_get_one::<u64>("page_size").ok().flatten().copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declaration_names_a_catalog_operation_and_its_parameters() {
        for f in COMMANDS.iter().chain(crate::commands::compat::COMMANDS) {
            let op = ghl_catalog::find(f.op)
                .unwrap_or_else(|| panic!("{} names unknown {}", f.words.join(" "), f.op));
            for p in f.args {
                let name = match p {
                    Param(n, _) | Opt(n, _) | List(n, _) => *n,
                    Json(_) => continue,
                };
                let known = op.param(name).is_some()
                    || op.body.as_ref().is_some_and(|b| {
                        b.fields.is_empty() || b.fields.iter().any(|x| x.name == name)
                    });
                assert!(
                    known,
                    "{}: {} has no parameter {name}",
                    f.words.join(" "),
                    f.op
                );
            }
        }
    }

    #[test]
    fn commands_build() {
        let root = commands(COMMANDS)
            .into_iter()
            .chain(commands(crate::commands::compat::COMMANDS))
            .fold(Command::new("ghl"), |c, s| c.subcommand(s));
        root.debug_assert();
    }
}
