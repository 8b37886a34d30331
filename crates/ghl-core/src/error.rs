//! One error type for the whole pipeline, with stable machine codes and
//! distinct exit codes, so scripts and assistants can act on failures.

use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user's input is wrong: nothing was sent.
    Validation,
    /// Unknown operation or command.
    UnknownOperation,
    /// Configuration missing or unsafe (no token, loose file permissions).
    Config,
    /// Refused by policy: read-only mode, allow/deny lists.
    Policy,
    /// A destructive or outbound operation needs `--yes` (or a confirmation).
    ConfirmationRequired,
    MissingScope,
    InvalidToken,
    LocationForbidden,
    NotFound,
    RateLimited,
    /// The server refused the request as malformed (400, 422).
    BadRequest,
    Conflict,
    Server,
    Network,
    Timeout,
    /// Pages were being followed and one failed: some records came back.
    Partial,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "validation",
            ErrorCode::UnknownOperation => "unknown_operation",
            ErrorCode::Config => "config",
            ErrorCode::Policy => "policy",
            ErrorCode::ConfirmationRequired => "confirmation_required",
            ErrorCode::MissingScope => "missing_scope",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::LocationForbidden => "location_forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Server => "server",
            ErrorCode::Network => "network",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Partial => "partial",
        }
    }

    /// Process exit code. 1 is left for unexpected failures, 2 for usage.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Validation => 3,
            ErrorCode::UnknownOperation => 4,
            ErrorCode::Config => 5,
            ErrorCode::Policy => 6,
            ErrorCode::ConfirmationRequired => 7,
            ErrorCode::MissingScope => 8,
            ErrorCode::InvalidToken => 9,
            ErrorCode::LocationForbidden => 10,
            ErrorCode::NotFound => 11,
            ErrorCode::RateLimited => 12,
            ErrorCode::BadRequest => 13,
            ErrorCode::Conflict => 14,
            ErrorCode::Server => 15,
            ErrorCode::Network => 16,
            ErrorCode::Timeout => 17,
            ErrorCode::Partial => 18,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an [`Error`] carries.
#[derive(Debug, Clone)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
    pub status: Option<u16>,
    pub operation: Option<String>,
    /// For `missing_scope`: the scopes the operation needs.
    pub scopes: Vec<String>,
    /// For `partial`: how many records came back before the failure.
    pub records: Option<usize>,
    /// The server's error body, when there was one.
    pub details: Option<Value>,
}

/// A failure anywhere in the pipeline. Boxed so that `Result`s stay small on
/// the happy path; fields are reached through `Deref` (`e.code`, `e.hint`).
#[derive(Debug, Clone)]
pub struct Error(Box<ErrorDetail>);

impl std::ops::Deref for Error {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error(Box::new(ErrorDetail {
            code,
            message: message.into(),
            hint: None,
            status: None,
            operation: None,
            scopes: Vec::new(),
            records: None,
            details: None,
        }))
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Validation, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Config, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_operation(mut self, name: &str) -> Self {
        self.operation = Some(name.to_string());
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.code.exit_code()
    }

    /// Whether sending again might succeed (used by retry rules).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::RateLimited | ErrorCode::Server | ErrorCode::Network | ErrorCode::Timeout
        )
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "error": {
                "code": self.code.as_str(),
                "message": self.message,
            }
        });
        let e = &mut v["error"];
        if let Some(h) = &self.hint {
            e["hint"] = json!(h);
        }
        if let Some(s) = self.status {
            e["status"] = json!(s);
        }
        if let Some(o) = &self.operation {
            e["operation"] = json!(o);
        }
        if !self.scopes.is_empty() {
            e["scopes"] = json!(self.scopes);
        }
        if let Some(r) = self.records {
            e["records"] = json!(r);
        }
        if let Some(d) = &self.details {
            e["details"] = d.clone();
        }
        e["exit_code"] = json!(self.exit_code());
        v
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
