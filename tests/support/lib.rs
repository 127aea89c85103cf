//! The end-to-end harness: the real service binaries, started on free ports
//! with fresh topics and a fresh database on the local stack's broker and
//! PostgreSQL (`make test` starts them and exports where they are).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::ClientConfig;
use sqlx::PgPool;
use tokio::process::{Child, Command};
use wirestream_runtime::config::KafkaConfig;

pub mod articles;
pub mod certs;
pub mod driver;
pub mod items;
pub mod kafka;
pub mod pg_proxy;
pub mod postgres;
pub mod probe;
pub mod prometheus;
pub mod raw;
pub mod sasl;
pub mod tmux;
pub mod trickle;

pub use kafka::Kafka;

/// Where the local stack is. Set by `make test`.
pub struct Stack {
    pub database_url: String,
    pub brokers: String,
}

impl Stack {
    pub fn from_env() -> Stack {
        let get = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the end-to-end tests with `make test`, which starts the local stack")
            })
        };
        Stack {
            database_url: get("WIRESTREAM_TEST_DATABASE_URL"),
            brokers: get("WIRESTREAM_TEST_KAFKA_BROKERS"),
        }
    }
}

/// The shared sample material (`../shared` beside the checkout).
pub fn shared(path: &str) -> PathBuf {
    let root = std::env::var("WIRESTREAM_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")));
    root.join(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The binaries cargo built beside this test executable.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/debug/deps/e2e-HASH -> target/debug/NAME
    let dir = exe.parent().and_then(|p| p.parent()).expect("target/debug");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build with `cargo build --workspace --bins`",
        path.display()
    );
    path
}

/// One running process of a service. A service may run several instances
/// (e.g. `worker` and `worker-2`, same consumer group, each on its own port).
struct Service {
    name: &'static str,
    instance: String,
    port: u16,
    child: Child,
}

/// How a process ended after [`Pipeline::terminate`].
#[derive(Debug)]
pub struct Exit {
    /// `None` when it did not exit within the deadline (it was then killed).
    pub code: Option<i32>,
    pub took: Duration,
}

/// One pipeline: ingest, worker and sink, on its own topics and database.
pub struct Pipeline {
    pub name: String,
    pub kafka: KafkaConfig,
    pub database_url: String,
    pub pool: PgPool,
    pub ingest_url: String,
    pub ports: [u16; 3],
    admin_url: String,
    services: Vec<Service>,
    /// Instances stopped by a test, to start again: (service, instance, port).
    stopped: Vec<(&'static str, String, u16)>,
    /// Every instance's log file, stopped ones too: (instance, path).
    log_files: Vec<(String, PathBuf)>,
    extra_env: Vec<(String, String)>,
}

/// How [`Pipeline::start_with`] differs from [`Pipeline::start`].
pub struct Options {
    /// The services to run (default: all three).
    pub services: Option<&'static [&'static str]>,
    /// Lines of the `[ingest]` section of a config file given to the services.
    pub ingest_toml: Option<String>,
    /// Another broker than the stack's (e.g. a private [`Kafka`], or a closed port).
    pub brokers: Option<String>,
    /// Create the topics and wait for `/ready` (default); when false, only
    /// wait for `/health`, for a broker that is not there yet.
    pub wait_ready: bool,
    /// More `WIRESTREAM_*` variables for the services (they win over the defaults).
    pub env: Vec<(&'static str, String)>,
    /// More TOML for the services' config file (whole sections, e.g. `[kafka.consumer]`).
    pub config_toml: Option<String>,
    /// Another PostgreSQL than the stack's: the URL of a database to connect
    /// to as a superuser (e.g. a [`postgres::Postgres`]); the pipeline's
    /// database is created there.
    pub database_url: Option<String>,
    /// Partitions of the pipeline's topics (default 2).
    pub partitions: i32,
    /// Replication factor and `min.insync.replicas` of the pipeline's
    /// topics (default 1 and the broker's default), for a [`Kafka::cluster`].
    pub replication: Option<(i32, i32)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            services: None,
            ingest_toml: None,
            brokers: None,
            wait_ready: true,
            env: Vec::new(),
            config_toml: None,
            database_url: None,
            partitions: 2,
            replication: None,
        }
    }
}

/// One Kafka message, as the tests look at it.
#[derive(Debug, Clone)]
pub struct Message {
    pub key: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub value: serde_json::Value,
}

impl Pipeline {
    /// Creates the database and topics, and starts the three services.
    pub async fn start() -> anyhow::Result<Pipeline> {
        Pipeline::start_with(Options::default()).await
    }

    /// [`Pipeline::start`] with other services, ingest config or broker.
    pub async fn start_with(options: Options) -> anyhow::Result<Pipeline> {
        let mut stack = Stack::from_env();
        if let Some(url) = &options.database_url {
            stack.database_url = url.clone();
        }
        let name = format!("wst_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPool::connect(&stack.database_url)
            .await
            .context("failed to reach the stack's PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        admin.close().await;
        let database_url = replace_database(&stack.database_url, &name);
        let pool = PgPool::connect(&database_url).await?;
        wirestream_store::migrate(&pool).await?;

        let kafka = KafkaConfig {
            brokers: options
                .brokers
                .clone()
                .unwrap_or_else(|| stack.brokers.clone()),
            raw_topic: format!("{name}.raw"),
            articles_topic: format!("{name}.articles"),
            dead_letter_topic: format!("{name}.dead-letters"),
            partitions: options.partitions,
            replication_factor: options.replication.map_or(1, |(factor, _)| factor),
            min_insync_replicas: options.replication.map(|(_, min)| min),
            ..KafkaConfig::default()
        };
        if options.wait_ready {
            wirestream_runtime::kafka::ensure_topics(&kafka).await?;
        }

        let ports = [free_port(), free_port(), free_port()];
        let mut pipeline = Pipeline {
            name,
            kafka,
            database_url,
            pool,
            ingest_url: format!("http://127.0.0.1:{}", ports[0]),
            ports,
            admin_url: stack.database_url,
            services: Vec::new(),
            stopped: Vec::new(),
            log_files: Vec::new(),
            extra_env: Vec::new(),
        };
        if options.ingest_toml.is_some() || options.config_toml.is_some() {
            let mut toml = String::new();
            if let Some(ingest) = &options.ingest_toml {
                toml.push_str(&format!("[ingest]\n{ingest}\n"));
            }
            if let Some(more) = &options.config_toml {
                toml.push_str(more);
                toml.push('\n');
            }
            let path = std::env::temp_dir().join(format!("{}-config.toml", pipeline.name));
            std::fs::write(&path, toml)?;
            pipeline
                .extra_env
                .push(("WIRESTREAM_CONFIG".into(), path.display().to_string()));
        }
        pipeline
            .extra_env
            .extend(options.env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let services = options.services.unwrap_or(&["ingest", "worker", "sink"]);
        for service in services {
            pipeline.spawn(service).await?;
        }
        let probe = if options.wait_ready {
            "ready"
        } else {
            "health"
        };
        for (service, port) in ["ingest", "worker", "sink"].iter().zip(ports) {
            if !services.contains(service) {
                continue;
            }
            if let Err(error) = wait_path(port, probe, Duration::from_secs(60)).await {
                anyhow::bail!("{error}\n{}", pipeline.logs());
            }
        }
        Ok(pipeline)
    }

    /// Writes articles to this pipeline's articles topic, as the worker would.
    pub async fn produce_articles(&self, articles: &[wirestream_model::Article]) {
        articles::produce(&self.kafka.brokers, &self.kafka.articles_topic, articles).await;
    }

    /// The environment the services run with, for running the `wirestream`
    /// command against the same topics and database.
    pub fn service_env(&self) -> Vec<(String, String)> {
        let mut env = self.env();
        env.extend(self.extra_env.iter().cloned());
        env
    }

    /// Sets a variable for the services started from now on (see [`Pipeline::restart`]).
    pub fn set_env(&mut self, key: &str, value: String) {
        self.extra_env.retain(|(k, _)| k != key);
        self.extra_env.push((key.to_owned(), value));
    }

    /// Stops and starts a service again (same config, same ports), and waits
    /// until it answers `/health`.
    pub async fn restart(&mut self, service: &'static str) -> anyhow::Result<()> {
        // SIGKILL: SIGTERM would be kinder, but a kill is the harder test of "nothing lost".
        self.kill(service).await;
        self.spawn(service).await?;
        let port = self.ports[service_index(service)];
        wait_path(port, "health", Duration::from_secs(60)).await
    }

    /// Starts one more instance of a service (same config and consumer
    /// group, its own port) and waits until it answers `/health`. Returns
    /// the instance's name, e.g. `worker-2`, for [`Pipeline::kill`] and
    /// [`Pipeline::terminate`].
    pub async fn add_instance(&mut self, service: &'static str) -> anyhow::Result<String> {
        let mut n = 2;
        let taken = |name: &str| {
            self.services.iter().any(|s| s.instance == name)
                || self.stopped.iter().any(|(_, i, _)| i == name)
        };
        while taken(&format!("{service}-{n}")) {
            n += 1;
        }
        let instance = format!("{service}-{n}");
        let port = free_port();
        self.spawn_instance(service, &instance, port)?;
        wait_path(port, "health", Duration::from_secs(60)).await?;
        Ok(instance)
    }

    /// SIGKILLs an instance (`worker`, `worker-2`, …) and waits until it is
    /// gone. Nothing happens when it is not running.
    pub async fn kill(&mut self, instance: &str) {
        if let Some(index) = self.services.iter().position(|s| s.instance == instance) {
            let mut old = self.services.remove(index);
            let _ = old.child.start_kill();
            let _ = old.child.wait().await;
            self.stopped.push((old.name, old.instance, old.port));
        }
    }

    /// SIGTERMs an instance and waits up to `within` for it to exit; past
    /// that it is killed and the exit has no code.
    pub async fn terminate(&mut self, instance: &str, within: Duration) -> anyhow::Result<Exit> {
        let index = self
            .services
            .iter()
            .position(|s| s.instance == instance)
            .with_context(|| format!("{instance} is not running"))?;
        let mut old = self.services.remove(index);
        let pid = old.child.id().context("the process already exited")?;
        let started = Instant::now();
        let signal = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(signal.success(), "kill -TERM {pid} failed");
        let code = match tokio::time::timeout(within, old.child.wait()).await {
            Ok(status) => status?.code(),
            Err(_) => {
                let _ = old.child.start_kill();
                let _ = old.child.wait().await;
                None
            }
        };
        let took = started.elapsed();
        self.stopped.push((old.name, old.instance, old.port));
        Ok(Exit { code, took })
    }

    /// Starts again an instance stopped by [`Pipeline::kill`] or
    /// [`Pipeline::terminate`] (same port), and waits for `/health`.
    pub async fn start_instance(&mut self, instance: &str) -> anyhow::Result<()> {
        let index = self
            .stopped
            .iter()
            .position(|(_, i, _)| i == instance)
            .with_context(|| format!("{instance} was not stopped"))?;
        let (service, instance, port) = self.stopped.remove(index);
        self.spawn_instance(service, &instance, port)?;
        wait_path(port, "health", Duration::from_secs(60)).await
    }

    /// The log of one instance (every run of it).
    pub fn log_of(&self, instance: &str) -> String {
        self.log_files
            .iter()
            .find(|(i, _)| i == instance)
            .and_then(|(_, log)| std::fs::read_to_string(log).ok())
            .unwrap_or_default()
    }

    /// The port an instance listens on (`/metrics`, `/health`, `/ready`).
    pub fn port_of(&self, instance: &str) -> Option<u16> {
        self.services
            .iter()
            .find(|s| s.instance == instance)
            .map(|s| s.port)
            .or_else(|| {
                self.stopped
                    .iter()
                    .find(|(_, i, _)| i == instance)
                    .map(|(_, _, port)| *port)
            })
    }

    /// Reads the raw topic from the start until `expected` messages came or
    /// `within` passed, and returns them all.
    pub async fn raw_messages(&self, expected: usize, within: Duration) -> Vec<Message> {
        read_topic(&self.kafka.brokers, &self.kafka.raw_topic, expected, within).await
    }

    fn env(&self) -> Vec<(String, String)> {
        let k = &self.kafka;
        vec![
            ("WIRESTREAM_KAFKA__BROKERS".into(), k.brokers.clone()),
            ("WIRESTREAM_KAFKA__RAW_TOPIC".into(), k.raw_topic.clone()),
            (
                "WIRESTREAM_KAFKA__ARTICLES_TOPIC".into(),
                k.articles_topic.clone(),
            ),
            (
                "WIRESTREAM_KAFKA__DEAD_LETTER_TOPIC".into(),
                k.dead_letter_topic.clone(),
            ),
            ("WIRESTREAM_DATABASE__URL".into(), self.database_url.clone()),
            (
                "WIRESTREAM_INGEST__LISTEN".into(),
                format!("127.0.0.1:{}", self.ports[0]),
            ),
            (
                "WIRESTREAM_WORKER__LISTEN".into(),
                format!("127.0.0.1:{}", self.ports[1]),
            ),
            (
                "WIRESTREAM_SINK__LISTEN".into(),
                format!("127.0.0.1:{}", self.ports[2]),
            ),
            (
                "WIRESTREAM_WORKER__GROUP_ID".into(),
                format!("{}-worker", self.name),
            ),
            (
                "WIRESTREAM_SINK__GROUP_ID".into(),
                format!("{}-sink", self.name),
            ),
            ("WIRESTREAM_SINK__BATCH_DEADLINE".into(), "20ms".into()),
            ("WIRESTREAM_SHUTDOWN__GRACE".into(), "5s".into()),
        ]
    }

    async fn spawn(&mut self, service: &'static str) -> anyhow::Result<()> {
        self.stopped.retain(|(_, instance, _)| instance != service);
        self.spawn_instance(service, service, self.ports[service_index(service)])
    }

    fn spawn_instance(
        &mut self,
        service: &'static str,
        instance: &str,
        port: u16,
    ) -> anyhow::Result<()> {
        let log = std::env::temp_dir().join(format!("{}-{instance}.log", self.name));
        // Appending keeps the log of an earlier run of a restarted service.
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let listen = format!("WIRESTREAM_{}__LISTEN", service.to_uppercase());
        let child = Command::new(binary(&format!("wirestream-{service}")))
            .envs(self.env())
            .envs(self.extra_env.clone())
            .env(listen, format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("failed to start {instance}"))?;
        if !self.log_files.iter().any(|(i, _)| i == instance) {
            self.log_files.push((instance.to_owned(), log.clone()));
        }
        self.services.push(Service {
            name: service,
            instance: instance.to_owned(),
            port,
            child,
        });
        Ok(())
    }

    /// Posts a document to ingest.
    pub async fn post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}{path}", self.ingest_url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("ingest answers")
    }

    /// Polls `query` (a single count) until it returns at least `expected`.
    pub async fn wait_for_count(&self, query: &str, expected: i64, within: Duration) -> i64 {
        let started = Instant::now();
        loop {
            let n: i64 = sqlx::query_scalar(query)
                .fetch_one(&self.pool)
                .await
                .unwrap_or(0);
            if n >= expected || started.elapsed() > within {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Messages written to a topic so far (the sum of high watermarks).
    pub fn topic_messages(&self, topic: &str) -> i64 {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.kafka.brokers)
            .create()
            .expect("a Kafka client");
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("topic metadata");
        metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions())
            .map(|p| {
                consumer
                    .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
                    .map(|(low, high)| high - low)
                    .unwrap_or(0)
            })
            .sum()
    }

    /// The logs of every service instance (stopped ones too), for a failing test's output.
    pub fn logs(&self) -> String {
        self.log_files
            .iter()
            .map(|(instance, log)| {
                format!(
                    "--- {instance} ---\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            })
            .collect()
    }

    /// Stops the services and drops the database.
    pub async fn stop(mut self) {
        for service in &mut self.services {
            let _ = service.child.start_kill();
            let _ = service.child.wait().await;
        }
        for (_, log) in &self.log_files {
            let _ = std::fs::remove_file(log);
        }
        self.pool.close().await;
        if let Ok(admin) = PgPool::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&admin)
            .await;
        }
    }
}

/// The index of a service in [`Pipeline::ports`].
fn service_index(service: &str) -> usize {
    ["ingest", "worker", "sink"]
        .iter()
        .position(|s| *s == service)
        .unwrap_or(0)
}

/// `url` naming database `name`; its parameters (`?sslmode=…`) are kept.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    match base.rfind('/') {
        Some(i) => format!("{}/{name}{query}", &base[..i]),
        None => url.to_owned(),
    }
}

async fn wait_path(port: u16, path: &str, within: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}/{path}");
    loop {
        if let Ok(response) = reqwest::get(&url).await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        anyhow::ensure!(
            started.elapsed() < within,
            "{url} not ready within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The path of a binary cargo built beside the tests (`wirestream`, `wirestream-ingest`, …).
pub fn binary_path(name: &str) -> PathBuf {
    binary(name)
}

/// A free TCP port on 127.0.0.1 (nothing listens there, for now).
pub fn unused_port() -> u16 {
    free_port()
}

/// Reads `topic` from the beginning (all partitions, no consumer group)
/// until `expected` messages came or `within` passed.
pub async fn read_topic(
    brokers: &str,
    topic: &str,
    expected: usize,
    within: Duration,
) -> Vec<Message> {
    use rdkafka::consumer::StreamConsumer;
    use rdkafka::message::{Headers as _, Message as _};
    use rdkafka::{Offset, TopicPartitionList};

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("test-reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("enable.auto.commit", "false")
        .set("fetch.max.bytes", "67108864")
        .set("max.partition.fetch.bytes", "16777216")
        .set("receive.message.max.bytes", "100000000")
        .create()
        .expect("a Kafka consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("topic metadata");
    let mut assignment = TopicPartitionList::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        assignment
            .add_partition_offset(topic, partition.id(), Offset::Beginning)
            .expect("a partition offset");
    }
    consumer.assign(&assignment).expect("assigned partitions");
    let started = Instant::now();
    let mut out = Vec::new();
    while out.len() < expected {
        let Some(left) = within.checked_sub(started.elapsed()) else {
            break;
        };
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(message)) => {
                let key = message
                    .key()
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .unwrap_or_default();
                let headers = message
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                (
                                    h.key.to_owned(),
                                    h.value
                                        .map(|v| String::from_utf8_lossy(v).into_owned())
                                        .unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let value = message
                    .payload()
                    .and_then(|p| serde_json::from_slice(p).ok())
                    .unwrap_or(serde_json::Value::Null);
                out.push(Message {
                    key,
                    headers,
                    value,
                });
            }
            Ok(Err(error)) => panic!("reading {topic} failed: {error}"),
            Err(_) => break,
        }
    }
    out
}
