//! Group commit: requests that arrive while the spool is writing wait and
//! go together into the next transaction, so one disk sync acknowledges
//! many events. When the queue is full or the store fails, the answer is
//! "busy" (the receiver says 429 and HighLevel retries later).

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::event::{NewEvent, State};
use crate::spool::{Spool, Stored};

/// Most events in one transaction.
const MAX_BATCH: usize = 1024;
/// Requests waiting for the spool beyond this are turned away with 429.
pub const QUEUE: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Duplicate,
    Busy,
}

struct Job {
    event: NewEvent,
    state: State,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    /// Start the writer task; `stored` is notified after each commit.
    pub fn start(spool: Spool, stored: Arc<Notify>) -> (Committer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(spool, rx, stored));
        (Committer { tx }, task)
    }

    /// Durably store one event; returns after the commit.
    pub async fn submit(&self, event: NewEvent, state: State) -> Outcome {
        let (reply, wait) = oneshot::channel();
        if self
            .tx
            .try_send(Job {
                event,
                state,
                reply,
            })
            .is_err()
        {
            return Outcome::Busy;
        }
        wait.await.unwrap_or(Outcome::Busy)
    }
}

async fn run(spool: Spool, mut rx: mpsc::Receiver<Job>, stored: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (batch, replies): (Vec<_>, Vec<_>) = jobs
            .into_iter()
            .map(|j| ((j.event, j.state), j.reply))
            .unzip();
        let s = spool.clone();
        let result = tokio::task::spawn_blocking(move || s.insert_batch(&batch)).await;
        match result {
            Ok(Ok(outcomes)) => {
                for (reply, o) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(match o {
                        Stored::New => Outcome::Stored,
                        Stored::Duplicate => Outcome::Duplicate,
                    });
                }
                stored.notify_one();
            }
            _ => {
                for reply in replies {
                    let _ = reply.send(Outcome::Busy);
                }
            }
        }
    }
}
