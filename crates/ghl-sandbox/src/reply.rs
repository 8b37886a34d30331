//! HighLevel-shaped error bodies: `{statusCode, message, error}` where
//! `message` is a string, or an array of strings for validation failures.

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    // Boxed so `Result<_, ApiError>` stays small on the happy path.
    pub message: Box<Value>,
    /// Extra top-level fields (e.g. `meta` on a duplicate contact).
    pub extra: Option<Box<Value>>,
}

pub type Reply = Result<(u16, Value), ApiError>;

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: Box::new(Value::String(message.into())),
            extra: None,
        }
    }
    pub fn invalid(messages: Vec<String>) -> Self {
        ApiError {
            status: 422,
            message: Box::new(json!(messages)),
            extra: None,
        }
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn not_found() -> Self {
        Self::new(404, "Not found")
    }
    pub fn with(mut self, extra: Value) -> Self {
        self.extra = Some(Box::new(extra));
        self
    }
    pub fn body(&self) -> Value {
        let mut v = json!({
            "statusCode": self.status,
            "message": *self.message.clone(),
            "error": reason(self.status),
        });
        if let (Some(Value::Object(extra)), Some(obj)) = (self.extra.as_deref(), v.as_object_mut())
        {
            for (k, x) in extra {
                obj.insert(k.clone(), x.clone());
            }
        }
        v
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::new(500, format!("Internal server error: {e}"))
    }
}

impl From<crate::error::SandboxError> for ApiError {
    fn from(e: crate::error::SandboxError) -> Self {
        ApiError::new(500, format!("Internal server error: {e}"))
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ if status >= 500 => "Internal Server Error",
        _ => "Error",
    }
}
