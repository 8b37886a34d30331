//! `ghl-events`: HighLevel's webhooks, received so that none is lost.
//!
//! receive → verify (Ed25519 over the raw bytes, or a shared secret) →
//! refuse replays (timestamp window, `webhookId` already stored) → spool in
//! the ghl store (group commit, durable before the 200) → deliver to sinks
//! at least once, with backoff and dead letters.
//!
//! It must never: acknowledge an event before it is on disk, answer 500
//! (HighLevel retries only a 429), parse or store a body it has not
//! authenticated, or speak to HighLevel's API.

pub mod commit;
pub mod counters;
pub mod deliver;
pub mod event;
pub mod holder;
pub mod keys;
pub mod receiver;
pub mod sink;
pub mod spool;
pub mod verify;

pub use deliver::DeliveryOptions;
pub use event::{Event, NewEvent, State};
pub use receiver::{EventFilter, Receiver, ReceiverOptions};
pub use sink::{EventHook, Sink};
pub use spool::{Filter, Spool};
pub use verify::{Refusal, Verifier};
