//! Helpers shared by the ghl-core integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ghl_core::ratelimit::RateConfig;
use ghl_core::retry::RetryConfig;
use ghl_core::{Client, Confirm, Defaults, Policy, Secret, Transport, TransportConfig};

/// A token distinctive enough that any leak is found by a plain `contains`.
pub const TOKEN: &str = "pit-7f3c9e21-TESTTOKEN-5b8d4a6e0c1f";

/// The workspace root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The official specs, kept outside the repository as data.
pub fn spec_root() -> PathBuf {
    repo_root().join("../shared/ghl-openapi")
}

/// Transport settings for tests: quick retries, a generous rate budget.
pub fn config(base: &str) -> TransportConfig {
    let mut c = TransportConfig::new(base, Secret::new(TOKEN));
    c.timeout = Duration::from_secs(20);
    c.connect_timeout = Duration::from_secs(5);
    c.retry = RetryConfig {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    c.rate = RateConfig {
        max: 1000,
        interval: Duration::from_secs(10),
    };
    c
}

/// A policy that confirms everything (`--yes`).
pub fn granted() -> Policy {
    Policy {
        confirm: Confirm::Granted,
        ..Policy::default()
    }
}

pub fn client_from(config: TransportConfig, defaults: Defaults) -> Client {
    let transport = Transport::new(config).expect("transport");
    Client::new(Arc::new(transport), granted(), defaults)
}

/// A confirmed client against `base` with test settings.
pub fn client(base: &str) -> Client {
    client_from(config(base), Defaults::default())
}

/// A client of the embedded sandbox's demo location: the sandbox's token,
/// the tests' rate budget, the default policy.
pub fn sandbox_client(base: &str) -> Client {
    let mut c = TransportConfig::new(base, Secret::new(ghl_sandbox::DEFAULT_TOKEN));
    c.rate = config(base).rate;
    Client::new(
        Arc::new(Transport::new(c).expect("transport")),
        Policy::default(),
        Defaults {
            location_id: Some(ghl_sandbox::DEMO_LOCATION_ID.into()),
            company_id: None,
        },
    )
}
