//! Run a plan through `ghl_core::Client`: server policy, custom fields by
//! key, the two-step confirmation, paging and compact results.

use ghl_catalog::Operation;
use ghl_core::custom_fields::Resolver;
use ghl_core::{CallArgs, Client, Error, ErrorCode, PageOpts, Resume};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use rmcp::service::{Peer, RoleServer};

use crate::compact::{self, Cursor};
use crate::confirm::ConfirmStore;
use crate::elicit::{self, Answer};
use crate::options::{MAX_PAGE_SIZE, ServerOptions};
use crate::preview;
use crate::scopes::Scopes;
use crate::tools::Plan;

/// Arguments every tool may carry besides its own.
#[derive(Debug, Default, Deserialize)]
pub struct Common {
    pub confirm: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub fields: Option<Vec<String>>,
}

pub struct Executor {
    /// Confirmation refused: destructive and outbound calls can only run
    /// through `granted`, after a token was redeemed.
    pub client: Client,
    /// The same client with confirmation granted.
    pub granted: Client,
    pub options: ServerOptions,
    pub confirm: ConfirmStore,
    pub fields: Resolver,
    pub scopes: Scopes,
}

impl Executor {
    /// The server's own allow list, on top of the client's policy.
    pub fn permitted(&self, op: &Operation) -> Result<(), Error> {
        self.permitted_effect(&op.name, op.effect)
    }

    /// [`Executor::permitted`] from the operation's name and effect (what
    /// the catalog's summary holds), so listing tools parses no operation.
    pub fn permitted_effect(&self, name: &str, effect: ghl_catalog::Effect) -> Result<(), Error> {
        if !self.options.allow.is_empty() && !self.options.allow.iter().any(|p| p.matches(name)) {
            return Err(Error::new(
                ErrorCode::Policy,
                format!("{name} is not in this MCP server's --allow list"),
            ));
        }
        self.client.policy().permits_effect(name, effect)
    }

    pub async fn run(
        &self,
        tool: &str,
        force_confirm: bool,
        plan: Plan,
        common: &Common,
        peer: Option<&Peer<RoleServer>>,
    ) -> Result<Value, Error> {
        let op = Client::operation(&plan.op)?;
        let out = self
            .run_inner(tool, force_confirm, plan, common, peer)
            .await;
        if let Err(e) = &out
            && e.code == ErrorCode::MissingScope
        {
            let refused = e
                .operation
                .as_deref()
                .and_then(ghl_catalog::find)
                .unwrap_or(op);
            self.scopes.learn(refused);
        }
        out
    }

    async fn run_inner(
        &self,
        tool: &str,
        force_confirm: bool,
        mut plan: Plan,
        common: &Common,
        peer: Option<&Peer<RoleServer>>,
    ) -> Result<Value, Error> {
        let op = Client::operation(&plan.op)?;
        self.permitted(op).map_err(|e| e.with_operation(&op.name))?;
        let location = self.location(&plan);
        if let Some(field) = plan.location_in_body {
            let loc = location.clone().ok_or_else(|| {
                Error::validation(format!("{} needs a location", op.name))
                    .with_hint("configure a location: `ghl setup` or --location")
            })?;
            let body = plan.args.body.get_or_insert_with(|| json!({}));
            if let Value::Object(m) = body {
                m.entry(field).or_insert(json!(loc));
            }
        }
        if let Some((input, model)) = plan.custom_fields.take() {
            let loc = location.clone().ok_or_else(|| {
                Error::validation("custom fields by key need a location")
                    .with_hint("configure a location: `ghl setup` or --location")
            })?;
            let resolved = self
                .fields
                .resolve(&self.client, &loc, &input, Some(model))
                .await
                .map_err(|e| all_scopes_at_once(e, op))?;
            plan.args.set("customFields", resolved);
        }
        if self.client.policy().dry_run {
            let req = self.client.prepare(&plan.op, &plan.args)?;
            return Ok(self.client.describe(&req));
        }
        let fields = common.fields.clone().unwrap_or_default();
        if let Some(days) = plan.slots.take() {
            let window = crate::slots::window(&plan.args)?;
            let zone = crate::slots::zone(&self.client, &plan.args, location.as_deref()).await;
            let body = self
                .single(
                    tool,
                    force_confirm,
                    op,
                    plan,
                    common,
                    &fields,
                    location,
                    peer,
                )
                .await?;
            return Ok(crate::slots::finish(
                body,
                Some(&days),
                zone.as_deref(),
                window,
            ));
        }
        if plan.list {
            return self.list(op, plan, common, &fields, location).await;
        }
        self.single(
            tool,
            force_confirm,
            op,
            plan,
            common,
            &fields,
            location,
            peer,
        )
        .await
    }

    fn location(&self, plan: &Plan) -> Option<String> {
        ["locationId", "location_id", "altId"]
            .iter()
            .find_map(|k| plan.args.params.get(*k).and_then(Value::as_str))
            .map(String::from)
            .or_else(|| self.client.defaults().location_id.clone())
    }

    #[allow(clippy::too_many_arguments)]
    async fn single(
        &self,
        tool: &str,
        force_confirm: bool,
        op: &'static Operation,
        plan: Plan,
        common: &Common,
        fields: &[String],
        location: Option<String>,
        peer: Option<&Peer<RoleServer>>,
    ) -> Result<Value, Error> {
        let req = self.client.prepare(&plan.op, &plan.args)?;
        // Replacing a contact's tags removes those left out: confirmed as
        // removing tags is.
        let removed = ghl_core::tag_guard::removed_tags(&self.client, &req).await?;
        let needs = op.needs_confirmation() || force_confirm || !removed.is_empty();
        let body = if needs && self.options.confirm {
            let mut request = self.client.describe(&req);
            if let Value::Object(m) = &mut request {
                m.remove("dry_run");
                if !removed.is_empty() {
                    m.insert("removesTags".into(), json!(removed));
                }
            }
            let binding = format!("{tool}\n{}", canonical(&request));
            match common.confirm.as_deref().filter(|t| !t.trim().is_empty()) {
                None => {
                    if self.scopes.refuses(op) {
                        let mut e = Error::new(
                            ErrorCode::MissingScope,
                            format!(
                                "the token lacks {} for {}: nothing was prepared",
                                op.scopes.join(" or "),
                                op.name
                            ),
                        )
                        .with_operation(&op.name);
                        e.scopes = op.scopes.clone();
                        return Err(e);
                    }
                    let mut sentence = preview::sentence(&self.client, op, &req.args).await?;
                    if !removed.is_empty() {
                        sentence = format!(
                            "{sentence}. This replaces the contact's tags and removes: {}",
                            removed.join(", ")
                        );
                    }
                    if let Some(peer) = peer.filter(|p| elicit::supported(p)) {
                        return match elicit::ask(peer, &sentence).await? {
                            Answer::Yes => {
                                let mut body = self.granted.execute(&req).await?;
                                self.annotate(&mut body, location.as_deref()).await;
                                let mut out = compact::select_single(&body, fields);
                                compact::prune(&mut out);
                                Ok(
                                    json!({"status": "done", "confirmedByUser": sentence, "result": out}),
                                )
                            }
                            Answer::No => Ok(json!({
                                "status": "declined",
                                "sent": false,
                                "preview": sentence,
                                "next": "The user said no; nothing was sent. Do not retry unless they ask.",
                            })),
                        };
                    }
                    let token = self.confirm.issue(binding);
                    let secs = self.confirm.ttl().as_secs();
                    return Ok(json!({
                        "status": "confirmation_required",
                        "sent": false,
                        "preview": sentence,
                        "effect": ghl_core::policy::effect_word(op.effect),
                        "request": request,
                        "confirm": token,
                        "expiresInSeconds": secs,
                        "next": format!(
                            "Nothing was sent. Show the user the preview. Only if they agree, call {tool} again with the same arguments plus confirm=\"{token}\" (single use, {secs} s)."
                        ),
                    }));
                }
                Some(token) => {
                    self.confirm.redeem(token, &binding).map_err(|r| {
                        Error::new(ErrorCode::ConfirmationRequired, r.explain()).with_hint(format!(
                            "nothing was sent; call {tool} again without confirm to get a fresh preview and token"
                        ))
                    })?;
                    self.granted.execute(&req).await?
                }
            }
        } else if self.options.confirm {
            self.client.execute(&req).await?
        } else {
            // --no-confirm: the operator switched the two-step off.
            self.granted.execute(&req).await?
        };
        let mut body = body;
        self.annotate(&mut body, location.as_deref()).await;
        let mut out = compact::select_single(&body, fields);
        compact::prune(&mut out);
        if out.is_null() {
            out = json!({"ok": true});
        }
        Ok(out)
    }

    async fn list(
        &self,
        op: &'static Operation,
        mut plan: Plan,
        common: &Common,
        fields: &[String],
        location: Option<String>,
    ) -> Result<Value, Error> {
        let (mut seen, mut skip) = (0, 0);
        let mut continued: Option<Cursor> = None;
        if let Some(c) = common.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            let c = Cursor::decode(c)?;
            if c.op != op.name {
                return Err(Error::validation(format!(
                    "the cursor continues {}, not {}",
                    c.op, op.name
                ))
                .with_hint("pass the cursor to the tool that returned it"));
            }
            plan.args = c.args.clone();
            seen = c.seen;
            skip = c.skip;
            continued = Some(c);
        }
        // A cursor passed alone keeps the first call's fields and limit.
        let fields: Vec<String> = match (&common.fields, &continued) {
            (Some(f), _) => f.clone(),
            (None, Some(c)) => c.fields.clone(),
            (None, None) => fields.to_vec(),
        };
        let fields = fields.as_slice();
        let named_size = match (&continued, &op.pagination) {
            (None, Some(style)) => take_named_size(&mut plan.args, style),
            _ => None,
        };
        let limit = common
            .limit
            .map(|l| l as usize)
            .or(continued.as_ref().and_then(|c| c.limit))
            .or(named_size)
            .unwrap_or(self.options.page_size)
            .clamp(1, MAX_PAGE_SIZE);
        let began = continued.as_ref().and_then(|c| c.total);
        let carry = |args: CallArgs, seen: usize, skip: usize, total: Option<u64>| Cursor {
            op: op.name.clone(),
            args,
            seen,
            skip,
            fields: fields.to_vec(),
            limit: Some(limit),
            total: began.or(total),
        };
        let (mut records, total, next) = if op.pagination.is_some() {
            let opts = PageOpts {
                all: false,
                max: Some(limit),
                page_size: Some(limit as u64),
                concurrency: 1,
            };
            let mut records = Vec::new();
            let summary = self
                .client
                .walk_from(
                    &op.name,
                    plan.args,
                    Resume::new(seen as u64, began),
                    opts,
                    |page| {
                        records.extend(page.records);
                        Ok(())
                    },
                )
                .await?;
            let n = records.len();
            let next = summary
                .next
                .filter(|_| summary.more)
                .map(|args| carry(args, seen + n, 0, summary.total));
            (records, summary.total, next)
        } else {
            // Unpaged lists come whole; page them here so a long one does
            // not flood the context.
            let (all, _) = self
                .client
                .collect(&op.name, plan.args.clone(), PageOpts::default())
                .await?;
            let total = all.len();
            let page: Vec<Value> = all.into_iter().skip(skip).take(limit).collect();
            let next = (skip + page.len() < total)
                .then(|| carry(plan.args.clone(), seen + page.len(), skip + limit, None));
            (page, Some(total as u64), next)
        };
        let mut wrapped = Value::Array(std::mem::take(&mut records));
        self.annotate(&mut wrapped, location.as_deref()).await;
        let records = match wrapped {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        Ok(compact::listing(
            records,
            fields,
            total,
            seen,
            next.as_ref(),
        ))
    }

    /// Show custom field keys and names next to their ids. Best effort: a
    /// token without the custom-fields scope still gets its result.
    async fn annotate(&self, body: &mut Value, location: Option<&str>) {
        if !mentions_custom_fields(body) {
            return;
        }
        let Some(loc) = location.map(String::from).or_else(|| find_location(body)) else {
            return;
        };
        if let Ok(set) = self.fields.fields(&self.client, &loc).await {
            set.annotate(body);
        }
    }
}

/// A page size the caller named itself (`pageLimit: 1` through
/// `call_operation`) is the listing's limit: taken out of the arguments so
/// the pager sets it, kept within what one listing returns.
fn take_named_size(args: &mut CallArgs, style: &ghl_catalog::Pagination) -> Option<usize> {
    let name = ghl_core::pager::size_param(style)?;
    let from_params = args.params.remove(name);
    let from_body = match args.body.as_mut() {
        Some(Value::Object(b)) => b.remove(name),
        _ => None,
    };
    let v = from_params.or(from_body)?;
    let n = v.as_u64().or_else(|| v.as_str()?.trim().parse().ok());
    if n.is_none() {
        // Not a count: leave it for validation to refuse.
        args.params.insert(name.to_string(), v);
    }
    n.map(|n| n as usize)
}

fn mentions_custom_fields(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| (k == "customFields" && v.is_array()) || mentions_custom_fields(v)),
        Value::Array(a) => a.iter().any(mentions_custom_fields),
        _ => false,
    }
}

fn find_location(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m
            .get("locationId")
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| m.values().find_map(find_location)),
        Value::Array(a) => a.iter().find_map(find_location),
        _ => None,
    }
}

/// A missing scope met while resolving custom fields hides the next one
/// (the write itself): name every scope the call needs, so the user adds
/// them in one visit.
fn all_scopes_at_once(mut e: Error, op: &Operation) -> Error {
    if e.code != ErrorCode::MissingScope {
        return e;
    }
    if e.operation.is_none() {
        e.operation = Some("locations.get-custom-fields".into());
    }
    let mut scopes = e.scopes.clone();
    if scopes.is_empty() {
        scopes.extend(
            e.operation
                .as_deref()
                .and_then(ghl_catalog::find)
                .map(|o| o.scopes.clone())
                .unwrap_or_default(),
        );
    }
    for s in &op.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    e.message = format!(
        "{} (custom fields by key need their definitions; {} itself needs {})",
        e.message,
        op.name,
        op.scopes.join(" or ")
    );
    e.scopes = scopes;
    e
}

/// JSON with object keys sorted, so the same request binds the same token
/// whatever order the model wrote its arguments in.
pub fn canonical(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}
