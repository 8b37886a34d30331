//! `ghl api list|describe|call`: the whole catalog, by operation name.

use ghl_catalog::{Operation, ParamIn};
use ghl_core::{CallArgs, Error};
use serde_json::{Value, json};

use crate::cli::{self, ApiCommand, OutputFormat};
use crate::commands::invoke;
use crate::context;
use crate::output;

pub async fn run(
    cmd: ApiCommand,
    global: &cli::GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let io = |e: std::io::Error| {
        Error::new(
            ghl_core::ErrorCode::Network,
            format!("cannot write output: {e}"),
        )
    };
    match cmd {
        ApiCommand::List { group, search, api } => {
            if let Some(g) = &group
                && !ghl_catalog::catalog()
                    .groups
                    .iter()
                    .any(|x| x.name.eq_ignore_ascii_case(g))
            {
                let groups: Vec<&str> = ghl_catalog::catalog()
                    .groups
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect();
                return Err(Error::validation(format!("no group named {g}"))
                    .with_hint(format!("groups: {}", groups.join(", "))));
            }
            let ops: Vec<Value> = ghl_catalog::search(search.as_deref(), group.as_deref())
                .filter(|op| api.as_deref().is_none_or(|a| op.api.as_str() == a))
                .map(summary)
                .collect();
            output::records(fmt, &ops).map_err(io)
        }
        ApiCommand::Describe { name } => {
            let op = ghl_core::Client::operation(&name)?;
            if fmt == OutputFormat::Table {
                print!("{}", describe_text(op));
                return Ok(());
            }
            output::body(fmt, &describe(op)).map_err(io)
        }
        ApiCommand::Call(call) => {
            let mut args = CallArgs::from_pairs(&call.params)?;
            if let Some(b) = &call.body {
                args.body = Some(CallArgs::parse_body(b)?);
            }
            for f in &call.file {
                let (field, path) = f
                    .split_once('=')
                    .ok_or_else(|| Error::validation(format!("--file {f}: write FIELD=PATH")))?;
                args.files.push((field.to_string(), path.into()));
            }
            // Validate before touching credentials or the network.
            ghl_core::Client::operation(&call.name)?;
            let ctx = context::build(global).await?;
            invoke::run(&ctx.client, &call.name, args, call.paging, fmt).await
        }
    }
}

/// One line of `ghl api list`.
pub fn summary(op: &Operation) -> Value {
    json!({
        "name": op.name,
        "api": op.api.as_str(),
        "group": op.group,
        "method": op.method.as_str(),
        "path": op.path,
        "version": op.version,
        "scopes": op.scopes,
        "effect": op.effect,
        "title": op.title,
    })
}

/// Everything a caller needs to call an operation right.
pub fn describe(op: &Operation) -> Value {
    let param = |p: &ghl_catalog::Param| {
        let mut v = json!({
            "name": p.name,
            "in": p.location,
            "type": p.value_type.as_str(),
            "required": p.required,
        });
        if let Some(i) = p.items {
            v["items"] = json!(i.as_str());
        }
        if !p.enum_values.is_empty() {
            v["enum"] = json!(p.enum_values);
        }
        if let Some(f) = &p.format {
            v["format"] = json!(f);
        }
        if let Some(e) = &p.example {
            v["example"] = e.clone();
        }
        if let Some(m) = p.minimum {
            v["minimum"] = json!(m);
        }
        if let Some(m) = p.maximum {
            v["maximum"] = json!(m);
        }
        v
    };
    let location = op.location_param.as_ref().map(|l| {
        json!({"name": l.name, "in": l.location, "alt": l.alt, "filled_from": "--location / HIGHLEVEL_LOCATION_ID / profile"})
    });
    json!({
        "name": op.name,
        "api": op.api.as_str(),
        "title": op.title,
        "method": op.method.as_str(),
        "path": op.path,
        "version": op.version,
        "effect": op.effect,
        "idempotent": op.idempotent,
        "needs_confirmation": op.needs_confirmation(),
        "deprecated": op.deprecated,
        "scopes": op.scopes,
        "security": op.security.iter().map(|s| s.scheme.as_str()).collect::<Vec<_>>(),
        "pagination": op.pagination.as_ref().map(|p| p.style_name()),
        "location": location,
        "params": op.params.iter().filter(|p| p.location != ParamIn::Body).map(param).collect::<Vec<_>>(),
        "body": op.body.as_ref().map(|b| json!({
            "kind": b.kind,
            "required": b.required,
            "fields": b.fields.iter().map(param).collect::<Vec<_>>(),
        })),
        "example": format!("ghl api call {}{}", op.name, op.params.iter().filter(|p| p.required).map(|p| format!(" {}=…", p.name)).collect::<String>()),
    })
}

/// `ghl api describe` for people: a header, then one line per parameter.
pub fn describe_text(op: &Operation) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", op.name, op.title);
    let _ = writeln!(
        out,
        "API {}: {} {}   Version: {}   {}{}{}",
        op.api.as_str(),
        op.method.as_str(),
        op.path,
        op.version.as_deref().unwrap_or("none"),
        effect_label(op),
        if op.idempotent { ", safe to retry" } else { "" },
        if op.deprecated { ", DEPRECATED" } else { "" },
    );
    let _ = writeln!(
        out,
        "scopes: {}",
        if op.scopes.is_empty() {
            "none named".into()
        } else {
            op.scopes.join(" or ")
        }
    );
    if let Some(p) = &op.pagination {
        let _ = writeln!(out, "pagination: {} (use --all or --max N)", p.style_name());
    }
    if let Some(l) = &op.location_param {
        let _ = writeln!(
            out,
            "location: {} in {:?}, filled from --location / profile",
            l.name, l.location
        );
    }
    let line = |p: &ghl_catalog::Param| {
        let mut notes = Vec::new();
        if !p.enum_values.is_empty() {
            notes.push(format!("one of {}", p.enum_values.join("|")));
        }
        match (p.minimum, p.maximum) {
            (Some(lo), Some(hi)) => notes.push(format!("{lo}..{hi}")),
            (None, Some(hi)) => notes.push(format!("at most {hi}")),
            (Some(lo), None) => notes.push(format!("at least {lo}")),
            _ => {}
        }
        if let Some(e) = &p.example {
            notes.push(format!(
                "e.g. {}",
                e.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| e.to_string())
            ));
        }
        let ty = match p.items {
            Some(i) => format!("{}[{}]", p.value_type.as_str(), i.as_str()),
            None => p.value_type.as_str().to_string(),
        };
        format!(
            "  {:<24} {:<6} {:<14} {:<9} {}\n",
            p.name,
            format!("{:?}", p.location).to_lowercase(),
            ty,
            if p.required { "required" } else { "" },
            notes.join("; ")
        )
    };
    if !op.params.is_empty() {
        out.push_str("parameters:\n");
        for p in &op.params {
            out.push_str(&line(p));
        }
    }
    if let Some(b) = &op.body {
        let _ = writeln!(
            out,
            "body ({:?}{}):",
            b.kind,
            if b.required { ", required" } else { "" }
        );
        if b.fields.is_empty() {
            out.push_str("  (fields not described by the spec)\n");
        }
        for f in &b.fields {
            out.push_str(&line(f));
        }
    }
    let required: String = op
        .params
        .iter()
        .chain(op.body.iter().flat_map(|b| b.fields.iter()))
        .filter(|p| {
            p.required
                && op.location_param.as_ref().is_none_or(|l| l.name != p.name)
                && p.name != "altType"
        })
        .map(|p| format!(" {}=…", p.name))
        .collect();
    let _ = writeln!(out, "example: ghl api call {}{required}", op.name);
    out
}

fn effect_label(op: &Operation) -> &'static str {
    match op.effect {
        ghl_catalog::Effect::Read => "reads only",
        ghl_catalog::Effect::Write => "changes data",
        ghl_catalog::Effect::Destructive => "destructive: asks first (--yes)",
        ghl_catalog::Effect::Outbound => "outbound, reaches people or money: asks first (--yes)",
    }
}
