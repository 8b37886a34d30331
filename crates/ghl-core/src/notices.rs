//! Notices a caller should see while a call runs (a long rate-limit wait),
//! gathered per task: an MCP tool call collects those of its own requests
//! and returns them in its result, while the CLI prints them as they come.

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static NOTES: RefCell<Vec<String>>;
}

/// Run `f`, gathering the notices emitted by requests it makes.
pub async fn collect<F: Future>(f: F) -> (F::Output, Vec<String>) {
    NOTES
        .scope(RefCell::new(Vec::new()), async move {
            let out = f.await;
            let notes = NOTES.with(|n| n.take());
            (out, notes)
        })
        .await
}

/// Record a notice for the collecting task, if any.
pub fn emit(line: &str) {
    let _ = NOTES.try_with(|n| n.borrow_mut().push(line.to_string()));
}
