use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// The engine refused or failed a statement.
    #[error("store: {0}")]
    Backend(String),
    /// A statement that would change the store ran in a read-only transaction.
    #[error("store: read-only: {0}")]
    ReadOnly(String),
    /// The store is busy beyond the wait we allow; the caller may retry.
    #[error("store: busy: {0}")]
    Busy(String),
    /// The file or URL cannot be used (permissions, owner, scheme).
    #[error("store: {0}")]
    Config(String),
    #[error("store: {0}")]
    Unsupported(String),
    /// A row did not have the shape a plane expected.
    #[error("store: unexpected data: {0}")]
    Data(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy(e.to_string()),
            Some(ErrorCode::ReadOnly) => Error::ReadOnly(e.to_string()),
            _ if e.to_string().contains("readonly") => Error::ReadOnly(e.to_string()),
            _ => Error::Backend(e.to_string()),
        }
    }
}
