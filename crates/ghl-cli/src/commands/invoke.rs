//! Call one catalog operation for a command and render the result. Every
//! command that talks to HighLevel ends here.

use ghl_core::{CallArgs, Client, Error, PageOpts};
use serde_json::Value;

use crate::cli::{OutputFormat, PagingArgs};
use crate::output;

pub async fn run(
    client: &Client,
    op_name: &str,
    args: CallArgs,
    paging: PagingArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let op = Client::operation(op_name)?;
    let io = |e: std::io::Error| {
        Error::new(
            ghl_core::ErrorCode::Network,
            format!("cannot write output: {e}"),
        )
    };
    if op.pagination.is_none() || client.policy().dry_run {
        if op.pagination.is_none() && (paging.all || paging.max.is_some()) {
            output::note(
                fmt,
                &format!("note: {op_name} returns one page; --all/--max ignored"),
            );
        }
        let mut body = match op.pagination {
            Some(_) => {
                let mut shown = Value::Null;
                client
                    .walk(op_name, args, page_opts(paging), |p| {
                        shown = p.body;
                        Ok(())
                    })
                    .await?;
                shown
            }
            None => {
                say_what_will_happen(client, op, &args).await?;
                client.call(op_name, args).await?
            }
        };
        if fmt == OutputFormat::Table {
            crate::commands::mirror::name_ids_in_body(&mut body);
        }
        return output::body(fmt, &body).map_err(io);
    }
    let opts = page_opts(paging);
    // JSON Lines streams page by page, so a 10,000-record export never sits
    // in memory whole; the other formats need every record first.
    if fmt == OutputFormat::Jsonl {
        let summary = client
            .walk(op_name, args, opts, |page| {
                output::records(fmt, &page.records).map_err(io)
            })
            .await?;
        report(fmt, &summary);
        return Ok(());
    }
    let (mut records, summary) = client.collect(op_name, args, opts).await?;
    if fmt == OutputFormat::Table {
        crate::commands::mirror::name_ids_in_table(&mut records);
    }
    output::records(fmt, &records).map_err(io)?;
    report(fmt, &summary);
    Ok(())
}

/// Before a person is asked on the terminal, name what will happen in the
/// words the MCP server uses ("Send SMS to Jane Doe (+1 312 555 1001):
/// 'hi'"). A call the read shows cannot succeed (unknown contact,
/// do-not-disturb) is refused before the question.
async fn say_what_will_happen(
    client: &Client,
    op: &ghl_catalog::Operation,
    args: &CallArgs,
) -> Result<(), Error> {
    let asks = matches!(client.policy().confirm, ghl_core::Confirm::Ask(_));
    if !asks || !op.needs_confirmation() || client.policy().dry_run {
        return Ok(());
    }
    match ghl_mcp::preview::sentence(client, op, args).await {
        Ok(sentence) => {
            eprintln!("{sentence}");
            Ok(())
        }
        Err(mut e)
            if matches!(
                e.code,
                ghl_core::ErrorCode::NotFound
                    | ghl_core::ErrorCode::Policy
                    | ghl_core::ErrorCode::Validation
            ) =>
        {
            e.hint = Some("nothing was sent; check the id and the contact's settings".into());
            Err(e)
        }
        // The read failed for another reason: the request itself is still
        // shown in the question.
        Err(_) => Ok(()),
    }
}

fn page_opts(p: PagingArgs) -> PageOpts {
    PageOpts {
        all: p.all,
        max: p.max,
        page_size: p.page_size,
        ..PageOpts::default()
    }
}

fn report(fmt: OutputFormat, s: &ghl_core::Summary) {
    let total = s.total.map(|t| format!(" of {t}")).unwrap_or_default();
    if s.more {
        // Always said, on stderr: a script must not mistake one page for
        // the whole list.
        eprintln!(
            "note: {} records{total} returned; more exist: add --all to fetch every page",
            s.records
        );
    } else if fmt == OutputFormat::Table {
        output::note(fmt, &format!("{} records{total}", s.records));
    }
}
