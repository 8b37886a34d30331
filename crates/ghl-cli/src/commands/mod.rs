//! One module per command family. Every family ends in `invoke`, the single
//! path from a parsed command to the `ghl_core::Client` pipeline.

pub mod api;
pub mod bulk;
pub mod compat;
pub mod friendly;
pub mod invoke;
pub mod mirror;
pub mod sandbox;
pub mod sync_workers;
// Setup, doctor, auth and profiles.
pub mod auth;
pub mod doctor;
pub mod guide;
pub mod login;
pub mod probe;
pub mod profiles;
pub mod session;
pub mod setup;
pub mod webhooks;
