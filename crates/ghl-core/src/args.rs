//! The user's intent for one call: named parameters and an optional body.

use serde_json::{Map, Value};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Largest JSON body accepted from a user (HighLevel's own limit is lower).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct CallArgs {
    /// Parameters by name; path, query and header parameters, and top-level
    /// body fields when the name is a body field.
    pub params: Map<String, Value>,
    /// A JSON body given whole (`--body`).
    pub body: Option<Value>,
    /// Files for multipart uploads: field name and local path.
    pub files: Vec<(String, PathBuf)>,
}

impl CallArgs {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn param(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.insert(name.to_string(), value.into());
        self
    }

    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        self.params.insert(name.to_string(), value.into());
    }

    /// Parse `name=value` pairs as typed on a command line. A value stays a
    /// string here; it is coerced to the parameter's type during validation.
    /// `name:=json` takes a raw JSON value.
    pub fn from_pairs<I, S>(pairs: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut args = CallArgs::new();
        for pair in pairs {
            let pair = pair.as_ref();
            if let Some((name, raw)) = pair.split_once(":=")
                && !name.contains('=')
            {
                {
                    let v: Value = serde_json::from_str(raw).map_err(|e| {
                        Error::validation(format!("{name}:= takes JSON: {e}"))
                            .with_hint(format!("quote strings: {name}:='\"text\"'"))
                    })?;
                    args.params.insert(name.to_string(), v);
                    continue;
                }
            }
            let Some((name, value)) = pair.split_once('=') else {
                return Err(
                    Error::validation(format!("'{pair}' is not a name=value parameter"))
                        .with_hint("write parameters as name=value, e.g. contactId=abc123"),
                );
            };
            if name.is_empty() {
                return Err(Error::validation(format!("'{pair}' has no parameter name")));
            }
            args.params
                .insert(name.to_string(), Value::String(value.to_string()));
        }
        Ok(args)
    }

    /// Parse a body given as JSON text, or `@FILE` to read it from a file.
    pub fn parse_body(text: &str) -> Result<Value> {
        let raw = if let Some(path) = text.strip_prefix('@') {
            read_bounded(path, MAX_BODY_BYTES)?
        } else {
            text.to_string()
        };
        if raw.len() > MAX_BODY_BYTES {
            return Err(Error::validation(format!(
                "body is {} bytes; the limit is {MAX_BODY_BYTES}",
                raw.len()
            )));
        }
        serde_json::from_str(&raw).map_err(|e| {
            Error::validation(format!("body is not valid JSON: {e}"))
                .with_hint("pass a JSON object, e.g. --body '{\"firstName\":\"Jane\"}'")
        })
    }
}

/// Read a text file through a limit, whatever size it claims: a device or
/// a FIFO (`/dev/zero`) reports 0 bytes and never ends.
pub fn read_bounded(path: &str, limit: usize) -> Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| Error::validation(format!("cannot read body file {path}: {e}")))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::validation(format!("cannot read body file {path}: {e}")))?;
    if bytes.len() > limit {
        return Err(Error::validation(format!(
            "body file {path} is larger than the limit of {limit} bytes"
        ))
        .with_hint("pass a smaller JSON file, or split the work into several calls"));
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::validation(format!("body file {path} is not UTF-8 text")))
}
