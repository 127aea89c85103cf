//! What every wirestream service shares.
//!
//! * [`config`]: one typed config for the whole pipeline, layered from
//!   defaults, a TOML file and `WIRESTREAM_*` environment variables.
//! * [`telemetry`]: `tracing` logs and the Prometheus recorder for `metrics`.
//! * [`ops`]: the `/metrics`, `/health` and `/ready` endpoints.
//! * [`kafka`]: producer, consumer and admin clients built from config.
//! * [`redact`]: which librdkafka settings are secrets, never printed.
//! * [`batch`]: cutting a consumer's stream into batches.
//! * [`secret`]: connection URLs whose password is never printed.
//! * [`shutdown`]: SIGINT/SIGTERM to a `CancellationToken`, and draining a
//!   `TaskTracker` within a hard deadline.

pub mod batch;
pub mod config;
pub mod kafka;
pub mod ops;
pub mod redact;
pub mod retry;
pub mod secret;
pub mod shutdown;
pub mod stage;
pub mod telemetry;

pub use config::Config;
