//! `ghl-core`: call any HighLevel API v2 operation through one pipeline.
//!
//! The steps, in the order a call takes them:
//! 1. [`args`]: the caller's intent (named parameters, a body);
//! 2. [`policy`]: read-only, allow/deny lists, confirmation, dry-run;
//! 3. [`request`] and [`validate`]: checked against the catalog and built,
//!    before any network I/O;
//! 4. [`transport`]: auth (with [`agency`] location tokens when the token is
//!    an agency's), the per-location [`ratelimit`]er and the [`retry`] rules;
//! 5. [`pager`]: follow pages in each of HighLevel's eleven styles.
//!
//! [`client::Client`] strings them together; [`config`] finds credentials;
//! [`error`] is the one error type; [`secret`] keeps tokens out of output;
//! [`custom_fields`] resolves custom field keys to ids for callers that want
//! `contact.lead_source` rather than an opaque id; [`oauth`] signs
//! marketplace apps in and keeps their rotating tokens fresh.

pub mod agency;
pub mod args;
pub mod client;
pub mod config;
pub mod custom_fields;
pub mod error;
pub mod field_values;
pub mod notices;
pub mod oauth;
pub mod pager;
pub mod policy;
pub mod ratelimit;
pub mod request;
pub mod retry;
pub mod secret;
pub mod split;
pub mod tag_guard;
pub mod transport;
pub mod trust;
pub mod validate;
pub mod values;

pub use args::CallArgs;
pub use client::{Client, Page, PageOpts, Reservation, Resume, Summary};
pub use error::{Error, ErrorCode, Result};
pub use ghl_catalog as catalog;
pub use policy::{Confirm, Pattern, Policy};
pub use request::{Defaults, Prepared};
pub use secret::Secret;
pub use transport::{Transport, TransportConfig};
