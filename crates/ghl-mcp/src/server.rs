//! The MCP server handler: lists the tools this instance allows and routes
//! each call to the executor.

use std::sync::Arc;

use ghl_catalog::Effect;
use ghl_catalog::summary;
use ghl_core::custom_fields::Resolver;
use ghl_core::{Client, Confirm, Error};
use rmcp::ErrorData as McpError;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{Peer, RequestContext, RoleServer};
use serde_json::Value;

use crate::compact::Cursor;
use crate::confirm::ConfirmStore;
use crate::discovery;
use crate::errors::{invalid_arguments, tool_error};
use crate::exec::{Common, Executor};
use crate::options::ServerOptions;
use crate::scope_memo::Memo;
use crate::scopes::{self, Known, Scopes};
use crate::tools::{self, Kind, ToolDef};

const INSTRUCTIONS: &str = "HighLevel CRM tools for one sub-account (location). \
Listings return 20 records (`limit` up to 100): pass `cursor` from a result to continue, `fields` to keep only some fields (`[\"*\"]` keeps all). \
Tools that send messages, spend money or delete ask the user (or return a preview sentence and a `confirm` token and do nothing: \
show the user the preview, and only if they agree call again with the same arguments plus `confirm`). \
For anything else use find_operations, describe_operation, then call_operation.";

/// The `ghl` MCP server. Cheap to clone (one per HTTP session).
#[derive(Clone)]
pub struct GhlMcp {
    inner: Arc<Inner>,
}

struct Inner {
    exec: Executor,
    defs: Vec<ToolDef>,
    listed: Vec<Tool>,
}

impl GhlMcp {
    /// `client` carries the caller's policy; `options` may only restrict
    /// it further (read-only is OR'ed, deny lists merged).
    pub fn new(client: Client, options: ServerOptions) -> Self {
        let mut policy = client.policy().clone();
        policy.read_only |= options.read_only;
        policy.deny.extend(options.deny.iter().cloned());
        // A model's call is confirmed by a token (or --no-confirm), never by
        // the CLI's global --yes: the assistant is not the operator.
        policy.confirm = Confirm::Refuse;
        let client = client.with_policy(policy.clone());
        policy.confirm = Confirm::Granted;
        let granted = client.with_policy(policy);
        let memo = options.memo_dir.as_ref().map(|dir| {
            let location = client.defaults().location_id.as_deref().unwrap_or("");
            Memo::new(dir, &client.transport().credential_digest(location))
        });
        let exec = Executor {
            client,
            granted,
            confirm: ConfirmStore::new(options.confirm_ttl),
            fields: Resolver::new(),
            scopes: Scopes::with_memo(memo),
            options,
        };
        let defs: Vec<ToolDef> = tools::all()
            .into_iter()
            .filter(|d| exec.options.toolset_enabled(d.toolset))
            .filter(|d| {
                d.op.and_then(summary::find)
                    .is_none_or(|op| exec.permitted_effect(op.name(), op.effect()).is_ok())
            })
            .collect();
        let mut listed: Vec<Tool> = defs.iter().map(describe_tool).collect();
        // Mirror tools come after the API tools; a name clash keeps the API's.
        if let Some(m) = &exec.options.mirror {
            listed.extend(
                m.tools()
                    .into_iter()
                    .filter(|t| !defs.iter().any(|d| d.name == t.name)),
            );
        }
        GhlMcp {
            inner: Arc::new(Inner { exec, defs, listed }),
        }
    }

    /// The tools this instance lists.
    pub fn tools(&self) -> &[Tool] {
        &self.inner.listed
    }

    /// The tools this instance lists once the token's scopes are known:
    /// tools it cannot use are left out.
    pub async fn usable_tools(&self) -> Vec<Tool> {
        self.usable_tools_for(None).await
    }

    /// [`GhlMcp::usable_tools`] for a connected client. When the answer
    /// came from an older memo, the probes run again behind it and the
    /// client is told (tools/list_changed) if the tools changed.
    async fn usable_tools_for(&self, peer: Option<Peer<RoleServer>>) -> Vec<Tool> {
        let exec = &self.inner.exec;
        if exec.scopes.prepare_listing(&exec.client).await == Known::Recheck {
            let this = self.clone();
            tokio::spawn(async move {
                let exec = &this.inner.exec;
                if exec.scopes.recheck(&exec.client).await
                    && let Some(peer) = peer
                {
                    let _ = peer.notify_tool_list_changed().await;
                }
            });
        }
        self.listed_now()
    }

    /// The listing by what is known of the scopes right now.
    fn listed_now(&self) -> Vec<Tool> {
        let missing = self.inner.exec.scopes.listing_set();
        self.inner
            .defs
            .iter()
            .zip(&self.inner.listed)
            .filter(|(d, _)| {
                d.op.and_then(summary::find)
                    .is_none_or(|op| !scopes::hidden_by(&missing, op.scopes()))
            })
            .map(|(_, t)| t.clone())
            // Tools that run no API operation (the mirror's) stay listed.
            .chain(
                self.inner
                    .listed
                    .iter()
                    .skip(self.inner.defs.len())
                    .cloned(),
            )
            .collect()
    }

    /// Call a tool directly (what `tools/call` does), for tests and benches.
    pub async fn call(&self, name: &str, arguments: Value) -> CallToolResult {
        self.call_from(name, arguments, None).await
    }

    /// Call a tool for a connected client, who can then be asked to
    /// confirm directly when it supports elicitation.
    pub async fn call_from(
        &self,
        name: &str,
        arguments: Value,
        peer: Option<&Peer<RoleServer>>,
    ) -> CallToolResult {
        if let Some(m) = &self.inner.exec.options.mirror
            && m.handles(name)
            && !self.inner.defs.iter().any(|d| d.name == name)
        {
            return match m.call(&self.inner.exec.client, name, arguments).await {
                Ok(v) => CallToolResult::success(vec![ContentBlock::text(v.to_string())]),
                Err(e) => tool_error(&e),
            };
        }
        let Some(def) = self.inner.defs.iter().find(|d| d.name == name) else {
            return tool_error(
                &Error::new(
                    ghl_core::ErrorCode::UnknownOperation,
                    format!("no tool named {name} on this server"),
                )
                .with_hint("tools/list shows the tools this server allows"),
            );
        };
        // Long waits (rate limits, Retry-After) are said in the result, so
        // the assistant can tell the person why the call took its time.
        let (outcome, notices) =
            ghl_core::notices::collect(self.dispatch(def, arguments, peer)).await;
        match outcome {
            Ok(mut v) => {
                if !notices.is_empty()
                    && let Some(obj) = v.as_object_mut()
                {
                    obj.insert("notices".into(), Value::from(notices));
                }
                CallToolResult::success(vec![ContentBlock::text(v.to_string())])
            }
            Err(mut e) => {
                if !notices.is_empty() {
                    let said = notices.join("; ");
                    e.hint = Some(match e.hint.take() {
                        Some(h) => format!("{h} (meanwhile: {said})"),
                        None => format!("meanwhile: {said}"),
                    });
                }
                tool_error(&e)
            }
        }
    }

    async fn dispatch(
        &self,
        def: &ToolDef,
        arguments: Value,
        peer: Option<&Peer<RoleServer>>,
    ) -> Result<Value, Error> {
        let exec = &self.inner.exec;
        let arguments = match arguments {
            Value::Null => Value::Object(Default::default()),
            v @ Value::Object(_) => v,
            _ => return Err(invalid_arguments(def.name, "arguments must be an object")),
        };
        let common: Common = serde_json::from_value(arguments.clone())
            .map_err(|e| invalid_arguments(def.name, e))?;
        let plan = match &def.kind {
            Kind::Bulk => return crate::bulk::run(exec, def.name, arguments).await,
            Kind::FindOperations => return discovery::find(arguments),
            Kind::DescribeOperation => return discovery::describe(arguments, &exec.client),
            Kind::RecentEvents => return tools::events::recent(arguments).await,
            Kind::CallOperation | Kind::Curated(_) if common.cursor.is_some() => {
                // A continuation: the cursor carries the arguments.
                let c = Cursor::decode(common.cursor.as_deref().unwrap_or_default())?;
                if let Some(op) = def.op
                    && op != c.op
                {
                    return Err(Error::validation(format!(
                        "this cursor belongs to {}, not {}",
                        c.op, def.name
                    )));
                }
                let mut plan = tools::Plan::list(&c.op, c.args);
                plan.list = true;
                plan
            }
            Kind::CallOperation => discovery::call_plan(arguments)?,
            Kind::Curated(f) => f(arguments)?,
        };
        exec.run(def.name, def.force_confirm, plan, &common, peer)
            .await
    }
}

/// The MCP description of a tool, its hints taken from the catalog's
/// summary (listing parses no operation).
fn describe_tool(def: &ToolDef) -> Tool {
    let op = def.op.and_then(summary::find);
    let hints = match (&def.kind, op) {
        (Kind::FindOperations | Kind::DescribeOperation | Kind::RecentEvents, _) => {
            ToolAnnotations::new().read_only(true).open_world(false)
        }
        // Hints at their MCP defaults (not idempotent, open world) are
        // left out: tools/list is read on every conversation.
        (_, Some(op)) => {
            if op.effect() == Effect::Read {
                // The other hints mean nothing for a read.
                let a = ToolAnnotations::new().read_only(true);
                return Tool::new(def.name, def.description, def.input_schema()).annotate(a);
            }
            // readOnlyHint is false by default. Outbound calls cannot be
            // taken back either: a sent SMS is as final as a deletion.
            let a =
                ToolAnnotations::new().destructive(def.force_confirm || op.needs_confirmation());
            if op.idempotent() {
                a.idempotent(true)
            } else {
                a
            }
        }
        _ => ToolAnnotations::new().destructive(true),
    };
    // No title: the name says as much, and tools/list is read on every
    // conversation.
    Tool::new(def.name, def.description, def.input_schema()).annotate(hints)
}

impl ServerHandler for GhlMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(Implementation::new("ghl", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(
            self.usable_tools_for(Some(context.peer)).await,
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        Ok(self
            .call_from(&request.name, args, Some(&context.peer))
            .await
            .into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.listed.iter().find(|t| t.name == name).cloned()
    }
}
