//! Values that cross the store's surface, the same on every backend.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl Value {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Real(f) => Some(*f as i64),
            Value::Text(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// One result row: column names and values in select order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub columns: std::sync::Arc<[String]>,
    pub values: Vec<Value>,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<&Value> {
        let i = self.columns.iter().position(|c| c == column)?;
        self.values.get(i)
    }
    /// A column that must be present and an integer.
    pub fn int(&self, column: &str) -> Result<i64> {
        self.get(column)
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::Data(format!("column {column} is not an integer")))
    }
    /// A column that must be present and text.
    pub fn text(&self, column: &str) -> Result<String> {
        self.get(column)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::Data(format!("column {column} is not text")))
    }
    /// A text column that may be NULL.
    pub fn opt_text(&self, column: &str) -> Option<String> {
        self.get(column).and_then(Value::as_str).map(str::to_string)
    }
}
