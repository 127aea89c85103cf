//! One config for the whole pipeline.
//!
//! Every service reads the same file and the same environment, and uses the
//! sections it needs, so an operator writes one `wirestream.toml` and sets
//! `WIRESTREAM_KAFKA__BROKERS` once for all services. Layers, later wins:
//!
//! 1. the defaults below, which fit the local stack of `make up`;
//! 2. a TOML file, given by `--config` or `WIRESTREAM_CONFIG`;
//! 3. environment variables `WIRESTREAM_<SECTION>__<KEY>`, e.g.
//!    `WIRESTREAM_SINK__BATCH_DEADLINE=250ms` (variables without a section,
//!    like `WIRESTREAM_CONFIG`, are not config keys).
//!
//! Unknown keys are errors: a typo must not silently fall back to a default.
//! librdkafka settings pass through untouched in `[kafka.producer]`,
//! `[kafka.consumer]` and `[kafka.common]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format as _, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::secret::SecretUrl;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "WIRESTREAM_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration in [{0}]: {1}")]
    Section(String, #[source] Box<figment::Error>),
    /// Names the file, never what it holds.
    #[error("failed to read {what} from {path}: {source}")]
    SecretFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub kafka: KafkaConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub shutdown: ShutdownConfig,
    pub startup: StartupConfig,
    pub ingest: IngestConfig,
    pub worker: WorkerConfig,
    pub sink: SinkConfig,
    /// How every stage retries a transient failure (`crate::retry`).
    pub retry: crate::retry::RetryConfig,
}

impl Config {
    /// Loads defaults, then `file` (or the file named by `WIRESTREAM_CONFIG`),
    /// then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Every key lives in a section, so only `WIRESTREAM_<SECTION>__<KEY>`
        // names are config; others (`WIRESTREAM_CONFIG`, scripts' own
        // variables) are left alone, while a misspelt key is still an error.
        figment = figment.merge(
            Env::prefixed("WIRESTREAM_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        );
        let mut config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.kafka.read_secret_files()?;
        Ok(config)
    }
}

/// A section owned by another component: kept as written here, and parsed
/// into that component's own type (with its own `deny_unknown_fields`) by
/// [`Section::parse`], as each of Vector's components reads its own table.
/// It keeps `runtime` free of the crates whose settings it carries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Section(figment::value::Dict);

impl Section {
    /// The section as the component's config type; `path` (`worker.dedup`)
    /// names it in the error.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ConfigError> {
        Figment::from(Serialized::defaults(&self.0))
            .extract()
            .map_err(|e| ConfigError::Section(path.to_owned(), Box::new(e)))
    }
}

/// `Debug` is written by hand below: the librdkafka settings may hold
/// passwords and keys, which are never printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    pub raw_topic: String,
    pub articles_topic: String,
    pub dead_letter_topic: String,
    /// Partitions to create topics with when they are missing.
    pub partitions: i32,
    /// Replication factor to create topics with. 1 suits a single local
    /// broker; production clusters want 3.
    pub replication_factor: i32,
    /// `min.insync.replicas` of the topics wirestream creates: with the
    /// producers' `acks=all`, a write is acknowledged only once this many
    /// replicas hold it, so set it to `replication_factor - 1` or more.
    /// Unset: the broker's default.
    pub min_insync_replicas: Option<i32>,
    /// Largest message, in bytes, that producers send and consumers fetch,
    /// and the `max.message.bytes` of the topics wirestream creates (the
    /// broker's `message.max.bytes` must allow it too). librdkafka's own
    /// default is 1 MB; wire items with originals can exceed it.
    pub max_message_bytes: usize,
    /// Put the `wirestream-*` headers (format, source, receipt time, schema)
    /// on every record. The payload carries the same fields, so consumers
    /// never need them; they let tools route or filter without decoding.
    /// Kafka stores headers inside the record batch, at almost no cost.
    pub record_headers: bool,
    /// librdkafka settings for every client.
    pub common: BTreeMap<String, String>,
    /// librdkafka settings for producers only.
    pub producer: BTreeMap<String, String>,
    /// librdkafka settings for consumers only.
    pub consumer: BTreeMap<String, String>,
    /// A file holding the SASL password (a mounted Kubernetes Secret, say):
    /// read once at start, trailing newline dropped, and used as
    /// `sasl.password` of every client, winning over `[kafka.common]`.
    /// librdkafka's dotted keys cannot be spelt as environment variables,
    /// so this is how a password comes from outside the config file.
    pub sasl_password_file: Option<PathBuf>,
}

impl KafkaConfig {
    /// Reads [`KafkaConfig::sasl_password_file`] into the common settings.
    fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.sasl_password_file {
            let password =
                std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
                    what: "kafka.sasl_password_file",
                    path: path.clone(),
                    source,
                })?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            self.common.insert("sasl.password".into(), password);
        }
        Ok(())
    }
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::redact::Settings;
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("raw_topic", &self.raw_topic)
            .field("articles_topic", &self.articles_topic)
            .field("dead_letter_topic", &self.dead_letter_topic)
            .field("partitions", &self.partitions)
            .field("replication_factor", &self.replication_factor)
            .field("min_insync_replicas", &self.min_insync_replicas)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("record_headers", &self.record_headers)
            .field("common", &Settings(&self.common))
            .field("producer", &Settings(&self.producer))
            .field("consumer", &Settings(&self.consumer))
            .field("sasl_password_file", &self.sasl_password_file)
            .finish()
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:19092".into(),
            raw_topic: "wirestream.raw".into(),
            articles_topic: "wirestream.articles".into(),
            dead_letter_topic: "wirestream.dead-letters".into(),
            partitions: 4,
            replication_factor: 1,
            min_insync_replicas: None,
            max_message_bytes: 16 * 1024 * 1024,
            record_headers: true,
            common: BTreeMap::new(),
            producer: BTreeMap::new(),
            consumer: BTreeMap::new(),
            sasl_password_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// The connection URL. It may carry a password and libpq parameters
    /// (`?sslmode=verify-full&sslrootcert=/ca.pem`); printing the config
    /// shows it without the password.
    pub url: SecretUrl,
    /// TLS to PostgreSQL, as libpq's `sslmode`. Unset: the URL's, else
    /// `prefer`. Set, it wins over the URL's.
    pub sslmode: Option<SslMode>,
    /// The CA certificate(s) (PEM) that `verify-ca` and `verify-full` trust,
    /// as libpq's `sslrootcert`. Unset: the URL's, else the system's roots.
    pub ssl_root_cert: Option<PathBuf>,
    /// Whether the worker and the sink migrate the schema at start. With
    /// least-privilege roles (docs/deploy.md) they cannot: turn it off, run
    /// `wirestream migrate` as the owner before a new version starts, and
    /// the services wait until the schema is at their version instead.
    pub migrate: bool,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout` on every connection: a statement
    /// running longer is cancelled (SQLSTATE 57014) and retried. `0s`: none.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
    /// `lock_timeout`: a wait for a row or table lock longer than this fails
    /// (55P03) and is retried, rather than holding the stage behind another
    /// session for good. `0s`: none.
    #[serde(with = "humantime_serde")]
    pub lock_timeout: Duration,
    /// `idle_in_transaction_session_timeout`: a session idle inside an open
    /// transaction this long is ended by the server, releasing its locks.
    #[serde(with = "humantime_serde")]
    pub idle_in_transaction_session_timeout: Duration,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "postgres://wirestream@127.0.0.1:15432/wirestream".into(),
            sslmode: None,
            ssl_root_cert: None,
            migrate: true,
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(60),
            lock_timeout: Duration::from_secs(10),
            idle_in_transaction_session_timeout: Duration::from_secs(60),
        }
    }
}

/// libpq's `sslmode` values that sqlx implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// TLS when the server offers it, else plain TCP.
    Prefer,
    /// TLS, with no check of the server's certificate.
    Require,
    /// TLS, with a certificate signed by a trusted CA.
    VerifyCa,
    /// `verify-ca`, and the certificate names the host connected to.
    VerifyFull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object a line, for log shippers.
    Json,
    /// Human-readable lines.
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info,wirestream_sink=debug`. `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// How long in-flight work may take to drain after SIGTERM before the
    /// process exits anyway. Undrained work is not lost: its offsets were not
    /// stored, so it is read again on the next start.
    #[serde(with = "humantime_serde")]
    pub grace: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            grace: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StartupConfig {
    /// How long the worker and the sink wait at start for the broker to
    /// answer and the schema migration to succeed; then they exit with one
    /// line naming what did not answer, and a non-zero status, so that an
    /// orchestrator sees the failure rather than a pod that never gets ready.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for StartupConfig {
    fn default() -> Self {
        StartupConfig {
            timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// The API, `/metrics`, `/health` and `/ready`.
    pub listen: SocketAddr,
    /// Requests above this size get `413`.
    pub max_body_bytes: usize,
    /// Items in one document or batch above this get `413`.
    pub max_items: usize,
    /// How long to wait for the broker to acknowledge an item before answering `503`.
    #[serde(with = "humantime_serde")]
    pub ack_timeout: Duration,
    /// Items waiting for the broker's acknowledgement above which the API answers `429`.
    pub max_in_flight: usize,
    /// API requests handled at once; one more is refused with `503` at
    /// once rather than queued. Each holds up to a few times
    /// `max_body_bytes` of memory while it is parsed.
    pub max_concurrent_requests: usize,
    /// Longest an API request may take, body, parsing and the broker's
    /// acknowledgement included; then `503`. Must exceed `ack_timeout`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// A connection that has not sent a whole request head (line and
    /// headers) this long after it opened, or after its last answer, is
    /// closed: an idle or dribbling client holds no socket for long.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Longest the body of one request may take to arrive; then `408`.
    /// With `max_body_bytes` it sets the slowest upload rate allowed.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// The bearer token the `wirestream` command sends to the API (`feed`,
    /// `dlq replay`), e.g. from `WIRESTREAM_INGEST__TOKEN`; `--token-file`
    /// wins. The services ignore it. Never printed.
    pub token: Option<ApiToken>,
    /// Provider name for items whose document does not say who sent them.
    pub default_provider: Option<String>,
    /// Bearer-token authentication of the API; off while no token is configured.
    pub auth: IngestAuthConfig,
    /// The spool folder agencies drop files into; off while `dir` is unset.
    pub spool: IngestSpoolConfig,
    /// RSS and Atom feeds to poll (`[[ingest.feeds]]`).
    pub feeds: Vec<IngestFeedConfig>,
    /// Where state that must survive a restart is kept (the feeds' seen
    /// entries and validators). Required when feeds are configured.
    pub state_dir: Option<PathBuf>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            listen: "127.0.0.1:18080".parse().expect("valid default address"),
            max_body_bytes: 5 * 1024 * 1024,
            max_items: 10_000,
            ack_timeout: Duration::from_secs(30),
            max_in_flight: 50_000,
            max_concurrent_requests: 64,
            request_timeout: Duration::from_secs(60),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            token: None,
            default_provider: None,
            auth: IngestAuthConfig::default(),
            spool: IngestSpoolConfig::default(),
            feeds: Vec::new(),
            state_dir: None,
        }
    }
}

/// `[ingest.auth]`: API tokens from the config and/or a file of `name:token` lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestAuthConfig {
    pub tokens: Vec<IngestToken>,
    pub token_file: Option<PathBuf>,
}

/// One API token. Its `name` (never the token) becomes the items' source `http:<name>`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestToken {
    pub name: String,
    pub token: String,
    /// The provider of every item sent with this token, winning over the document's.
    #[serde(default)]
    pub provider: Option<String>,
}

// Hand-written so that printing the config never prints a token.
impl std::fmt::Debug for IngestToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestToken")
            .field("name", &self.name)
            .field("token", &"<redacted>")
            .field("provider", &self.provider)
            .finish()
    }
}

/// A bearer token a client presents; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiToken(String);

impl ApiToken {
    pub fn new(token: impl Into<String>) -> ApiToken {
        ApiToken(token.into())
    }

    /// The token itself, to put in an `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// `[ingest.spool]`: a watched folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSpoolConfig {
    pub dir: Option<PathBuf>,
    /// A file is complete once its size and mtime have not changed for this long.
    #[serde(with = "humantime_serde")]
    pub settle: Duration,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Larger files (after decompression) go to `failed/`.
    pub max_file_bytes: usize,
}

impl Default for IngestSpoolConfig {
    fn default() -> Self {
        IngestSpoolConfig {
            dir: None,
            settle: Duration::from_secs(5),
            poll_interval: Duration::from_secs(1),
            max_file_bytes: 256 * 1024 * 1024,
        }
    }
}

/// `[[ingest.feeds]]`: one RSS or Atom feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestFeedConfig {
    pub url: String,
    #[serde(default = "default_feed_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// The provider of the feed's items, winning over what the feed says.
    #[serde(default)]
    pub provider: Option<String>,
}

fn default_feed_interval() -> Duration {
    Duration::from_secs(300)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// `/metrics`, `/health` and `/ready`.
    pub listen: SocketAddr,
    pub group_id: String,
    /// Items handled together: one dedup round trip to Postgres per batch.
    pub batch_size: usize,
    /// Longest a batch stays open after its first item.
    #[serde(with = "humantime_serde")]
    pub batch_deadline: Duration,
    /// Longest a batch waits for its next item (see `wirestream_runtime::batch`).
    #[serde(with = "humantime_serde")]
    pub batch_linger: Duration,
    /// `/health` fails once a batch has waited this long without progress
    /// (neither done nor retried): a hung call, which a restart fixes.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
    /// Near-copy thresholds and the index horizon (`[worker.dedup]`, see
    /// docs/dedup.md): owned by the dedup crate, which parses it (the worker
    /// at start, `wirestream dedup` too), so that a misspelt key is an error there.
    pub dedup: Section,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            listen: "127.0.0.1:18081".parse().expect("valid default address"),
            group_id: "wirestream-worker".into(),
            batch_size: 500,
            batch_deadline: Duration::from_millis(50),
            batch_linger: Duration::from_millis(5),
            stall_after: Duration::from_secs(120),
            dedup: Section::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    /// `/metrics`, `/health` and `/ready`.
    pub listen: SocketAddr,
    pub group_id: String,
    /// Rows written in one statement.
    pub batch_size: usize,
    /// Longest a batch stays open after its first record.
    #[serde(with = "humantime_serde")]
    pub batch_deadline: Duration,
    /// Longest a batch waits for its next record (see `wirestream_runtime::batch`).
    #[serde(with = "humantime_serde")]
    pub batch_linger: Duration,
    /// Where the sink keeps its consumer offsets. See [`OffsetStore`].
    pub offsets: OffsetStore,
    /// How often the sink merges the full-text index's pending entries into
    /// the index, off the write path (`wirestream_store::flush_search_index`);
    /// `0s` leaves it to PostgreSQL, which then does it inside whichever
    /// insert finds the pending list full. Every 2 s, with the index's
    /// 32 MB pending list (migration `20261202000003`): a larger merge
    /// costs less per entry than two small ones (docs/benchmarks.md).
    #[serde(with = "humantime_serde")]
    pub search_index_flush: Duration,
    /// `/health` fails once a batch has waited this long without progress.
    #[serde(with = "humantime_serde")]
    pub stall_after: Duration,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            listen: "127.0.0.1:18082".parse().expect("valid default address"),
            group_id: "wirestream-sink".into(),
            batch_size: 1000,
            // Short: it bounds a batch's wait while records keep trickling
            // in; when they pause, `batch_linger` closes the batch sooner.
            batch_deadline: Duration::from_millis(50),
            batch_linger: Duration::from_millis(5),
            offsets: OffsetStore::Kafka,
            search_index_flush: Duration::from_secs(2),
            stall_after: Duration::from_secs(120),
        }
    }
}

/// Where the sink keeps its consumer offsets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetStore {
    /// At-least-once: offsets are committed to Kafka after the Postgres
    /// transaction commits. A crash in between replays the batch; the
    /// idempotent writes make the replay change nothing.
    #[default]
    Kafka,
    /// Effectively-once: offsets are written to Postgres (`sink_offsets`) in
    /// the same transaction as the rows, and the sink resumes from them, so a
    /// record is applied exactly once even across crashes and rebalances.
    Postgres,
}

#[cfg(test)]
// figment::Jail's closures return figment::Error, which is large; that is its API.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn defaults_then_file_then_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "wirestream.toml",
                r#"
                [kafka]
                brokers = "kafka:9092"
                [kafka.producer]
                "linger.ms" = "20"
                [sink]
                batch_deadline = "250ms"
                batch_size = 10
                "#,
            )?;
            jail.set_env("WIRESTREAM_SINK__BATCH_SIZE", "42");
            jail.set_env("WIRESTREAM_SHARED", "/not/a/config/key");
            jail.set_env("WIRESTREAM_KAFKA__RECORD_HEADERS", "false");
            let config = Config::load(Some(Path::new("wirestream.toml"))).expect("loads");
            assert_eq!(config.kafka.brokers, "kafka:9092");
            assert!(
                !config.kafka.record_headers,
                "a boolean from the environment"
            );
            assert_eq!(
                config.kafka.producer.get("linger.ms").map(String::as_str),
                Some("20")
            );
            assert_eq!(config.sink.batch_deadline, Duration::from_millis(250));
            assert_eq!(
                config.sink.batch_size, 42,
                "the environment wins over the file"
            );
            assert_eq!(config.worker, WorkerConfig::default());
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("wirestream.toml", "[sink]\nbatch_sise = 10\n")?;
            let err = Config::load(Some(Path::new("wirestream.toml"))).unwrap_err();
            assert!(err.to_string().contains("batch_sise"), "{err}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("WIRESTREAM_KAFKA__BROKRES", "x:1");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn durations_are_typed() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WIRESTREAM_SHUTDOWN__GRACE", "ten seconds");
            let err = Config::load(None).unwrap_err();
            assert!(
                err.to_string().to_lowercase().contains("shutdown.grace"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn the_readme_example_is_a_valid_config() {
        let readme = include_str!("../../../README.md");
        let toml = readme
            .split("```toml")
            .nth(1)
            .and_then(|block| block.split("```").next())
            .expect("the README has a TOML example");
        figment::Jail::expect_with(|jail| {
            jail.create_file("wirestream.toml", toml)?;
            let config = Config::load(Some(Path::new("wirestream.toml")))
                .expect("the README's example loads");
            assert_eq!(config.sink.offsets, OffsetStore::Kafka);
            assert_eq!(
                config.kafka.producer.get("linger.ms").map(String::as_str),
                Some("5")
            );
            Ok(())
        });
    }

    /// A component's own section: parsed by its type, which refuses typos.
    #[test]
    fn sections_are_parsed_by_their_owner() {
        #[derive(Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        struct Owned {
            horizon: u32,
        }
        figment::Jail::expect_with(|jail| {
            jail.set_env("WIRESTREAM_WORKER__DEDUP__HORIZON", "7");
            let config = Config::load(None).expect("loads");
            let owned: Owned = config.worker.dedup.parse("worker.dedup").expect("parses");
            assert_eq!(owned.horizon, 7);
            jail.set_env("WIRESTREAM_WORKER__DEDUP__HORIZN", "7");
            let config = Config::load(None).expect("the runtime does not know the keys");
            let err = config
                .worker
                .dedup
                .parse::<Owned>("worker.dedup")
                .unwrap_err();
            assert!(err.to_string().contains("horizn"), "{err}");
            assert!(err.to_string().contains("worker.dedup"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn the_clients_token_comes_from_the_environment_and_is_never_printed() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("WIRESTREAM_INGEST__TOKEN", "tok-3f9a1c");
            jail.set_env("WIRESTREAM_INGEST__HEADER_READ_TIMEOUT", "2s");
            let config = Config::load(None).expect("loads");
            let token = config.ingest.token.as_ref().expect("a token");
            assert_eq!(token.expose(), "tok-3f9a1c");
            assert_eq!(config.ingest.header_read_timeout, Duration::from_secs(2));
            assert!(!format!("{config:?}").contains("tok-3f9a1c"));
            Ok(())
        });
    }

    #[test]
    fn kafka_secrets_are_never_printed() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "wirestream.toml",
                r#"
                [kafka.common]
                "security.protocol" = "SASL_SSL"
                "sasl.username" = "wirestream"
                "sasl.password" = "from-the-file-Jq8"
                [kafka.producer]
                "ssl.key.pem" = "-----BEGIN PRIVATE KEY-----Kx9"
                "#,
            )?;
            let config = Config::load(Some(Path::new("wirestream.toml"))).expect("loads");
            let shown = format!("{config:?}");
            for secret in ["from-the-file-Jq8", "PRIVATE KEY-----Kx9"] {
                assert!(!shown.contains(secret), "{shown}");
            }
            assert!(shown.contains("SASL_SSL") && shown.contains("wirestream"));
            Ok(())
        });
    }

    #[test]
    fn the_sasl_password_may_come_from_a_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("password", "from-a-secret-Vt3\n")?;
            jail.set_env("WIRESTREAM_KAFKA__SASL_PASSWORD_FILE", "password");
            let config = Config::load(None).expect("loads");
            assert_eq!(
                config.kafka.common.get("sasl.password").map(String::as_str),
                Some("from-a-secret-Vt3"),
                "the trailing newline is not part of it"
            );
            assert!(!format!("{config:?}").contains("from-a-secret-Vt3"));
            jail.set_env("WIRESTREAM_KAFKA__SASL_PASSWORD_FILE", "missing");
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("missing"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn printing_the_config_never_shows_the_database_password() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "WIRESTREAM_DATABASE__URL",
                "postgres://sink:hunter2@db:5432/wirestream?password=hunter2",
            );
            jail.set_env("WIRESTREAM_DATABASE__SSLMODE", "verify-full");
            jail.set_env(
                "WIRESTREAM_DATABASE__SSL_ROOT_CERT",
                "/etc/wirestream/ca.pem",
            );
            let config = Config::load(None).expect("loads");
            assert_eq!(config.database.sslmode, Some(SslMode::VerifyFull));
            let printed = format!("{config:?} {:#?}", config.database);
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("sink:***@db:5432"), "{printed}");
            assert!(config.database.url.expose().contains("hunter2"));
            jail.set_env("WIRESTREAM_DATABASE__SSLMODE", "verify_full");
            let err = Config::load(None).unwrap_err();
            assert!(err.to_string().contains("verify-full"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/wirestream.toml"))).unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
