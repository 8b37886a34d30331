//! The shape of one catalog entry. The generator (`cargo xtask catalog`) writes
//! these types as JSON into `generated/catalog.json`; the library reads them back.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    /// Commit or label of the spec snapshot the catalog was generated from.
    pub source: String,
    pub groups: Vec<Group>,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    /// Kebab-case group name, the spec file's stem (`contacts`, `social-media-posting`).
    pub name: String,
    pub title: String,
    pub operations: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// What calling an operation does to the world, which decides policy:
/// `read` passes `--read-only`; `destructive` and `outbound` need confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Read,
    Write,
    /// Deletes, voids, cancels: data is lost.
    Destructive,
    /// Reaches people or money: messages, invoices sent, payments.
    Outbound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamIn {
    Path,
    Query,
    Header,
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    /// No type declared, or a union: any JSON value.
    Any,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Array => "array",
            ValueType::Object => "object",
            ValueType::Any => "any",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParamIn,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// Element type when `value_type` is `array`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<ValueType>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<serde_json::Value>,
    /// Smallest accepted number (schema `minimum`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// Largest accepted number: schema `maximum`, or the cap the spec states
    /// in words ("will allow maximum up to 50").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// False for `{placeholders}` the spec uses in the path but never declares.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub declared: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    Json,
    Multipart,
    Form,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Body {
    pub kind: BodyKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Top-level fields of the body schema (empty when the spec leaves it open).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Param>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Security {
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// The eleven ways HighLevel pages through collections (see NOTES.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum Pagination {
    /// `offset` + `limit` in the query.
    OffsetLimit { limit: String },
    /// `skip` + `limit` in the query.
    SkipLimit { limit: String },
    /// `skip` + `limit` in the JSON body.
    SkipLimitBody,
    /// Keyset on the last record's id: the request names it in `param`,
    /// the response carries the next one in `response` (or the last item's id).
    LastId { param: String, response: String },
    /// `page` (0-based) + `pageSize` or `pageLength`.
    PageSize { size: String },
    /// `startAfter` + `startAfterId`, answered in `meta`.
    StartAfter,
    /// `page` (1-based) + `limit`, answered in `meta.nextPage`.
    PageLimit,
    /// `page` + a size (`pageLimit` or `limit`), or `searchAfter`, in the
    /// JSON body.
    BodyPage { size: String },
    /// Opaque cursor: request `param`, response `response`.
    Cursor { param: String, response: String },
    /// `page` alone (1-based).
    PageOnly,
    /// `startAfterDate` (epoch ms of the last record's sort key).
    StartAfterDate,
}

impl Pagination {
    pub fn style_name(&self) -> &'static str {
        match self {
            Pagination::OffsetLimit { .. } => "offset_limit",
            Pagination::SkipLimit { .. } => "skip_limit",
            Pagination::SkipLimitBody => "skip_limit_body",
            Pagination::LastId { .. } => "last_id",
            Pagination::PageSize { .. } => "page_size",
            Pagination::StartAfter => "start_after",
            Pagination::PageLimit => "page_limit",
            Pagination::BodyPage { .. } => "body_page",
            Pagination::Cursor { .. } => "cursor",
            Pagination::PageOnly => "page_only",
            Pagination::StartAfterDate => "start_after_date",
        }
    }
}

/// Which set of HighLevel's specs documents an operation: `apps/` (v2) or
/// `apps/v3/` (v3). A v3 operation's group ends in `-v3`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    #[default]
    V2,
    V3,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::V2 => "v2",
            Api::V3 => "v3",
        }
    }

    /// The API a `<group>.<action>` name belongs to.
    pub fn of_name(name: &str) -> Api {
        let group = name.split_once('.').map_or(name, |(g, _)| g);
        if group.ends_with(V3_GROUP_SUFFIX) {
            Api::V3
        } else {
            Api::V2
        }
    }
}

/// v3 groups are the v3 spec files' stems (`contacts-v3`), so their names
/// say their version and never collide with a v2 group.
pub const V3_GROUP_SUFFIX: &str = "-v3";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operation {
    /// Stable unique name `<group>.<action>`, kebab-case.
    pub name: String,
    /// v2 unless the operation comes from the v3 specs.
    #[serde(default, skip_serializing_if = "is_v2")]
    pub api: Api,
    pub group: String,
    pub action: String,
    /// The spec's operationId, as written there (not unique across files).
    pub operation_id: String,
    pub method: Method,
    /// Exact path template, trailing slash kept.
    pub path: String,
    /// Value of the `Version` header this operation wants, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<Security>,
    /// Union of the scopes over all security alternatives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    pub effect: Effect,
    /// Safe to send again after a timeout or 5xx: it cannot duplicate work.
    #[serde(default, skip_serializing_if = "is_false")]
    pub idempotent: bool,
    /// Where the location id goes, when the operation is scoped to a location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_param: Option<LocationParam>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationParam {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ParamIn,
    /// Set when the operation takes `altId` + `altType=location` instead.
    #[serde(default, skip_serializing_if = "is_false")]
    pub alt: bool,
}

impl Operation {
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn body_field(&self, name: &str) -> Option<&Param> {
        self.body.as_ref()?.fields.iter().find(|p| p.name == name)
    }

    pub fn is_multipart(&self) -> bool {
        matches!(
            self.body.as_ref().map(|b| b.kind),
            Some(BodyKind::Multipart)
        )
    }

    pub fn changes_data(&self) -> bool {
        self.effect != Effect::Read
    }

    pub fn needs_confirmation(&self) -> bool {
        matches!(self.effect, Effect::Destructive | Effect::Outbound)
    }
}

fn is_v2(api: &Api) -> bool {
    *api == Api::V2
}
fn is_false(b: &bool) -> bool {
    !*b
}
fn is_true(b: &bool) -> bool {
    *b
}
fn yes() -> bool {
    true
}
