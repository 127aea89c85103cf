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
    assert!(path.exists(), "{} is missing: build with `cargo build --workspace --bins`", path.display());
    path
}

struct Service {
    name: &'static str,
    child: Child,
    log: PathBuf,
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
}

impl Pipeline {
    /// Creates the database and topics, and starts the three services.
    pub async fn start() -> anyhow::Result<Pipeline> {
        let stack = Stack::from_env();
        let name = format!("wst_{}", uuid::Uuid::new_v4().simple());
        let admin = PgPool::connect(&stack.database_url).await.context("failed to reach the stack's PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await?;
        admin.close().await;
        let database_url = replace_database(&stack.database_url, &name);
        let pool = PgPool::connect(&database_url).await?;
        wirestream_store::migrate(&pool).await?;

        let kafka = KafkaConfig {
            brokers: stack.brokers.clone(),
            raw_topic: format!("{name}.raw"),
            articles_topic: format!("{name}.articles"),
            dead_letter_topic: format!("{name}.dead-letters"),
            partitions: 2,
            ..KafkaConfig::default()
        };
        wirestream_runtime::kafka::ensure_topics(&kafka).await?;

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
        };
        for service in ["ingest", "worker", "sink"] {
            pipeline.spawn(service).await?;
        }
        for port in ports {
            if let Err(error) = wait_ready(port, Duration::from_secs(60)).await {
                anyhow::bail!("{error}\n{}", pipeline.logs());
            }
        }
        Ok(pipeline)
    }

    fn env(&self) -> Vec<(String, String)> {
        let k = &self.kafka;
        vec![
            ("WIRESTREAM_KAFKA__BROKERS".into(), k.brokers.clone()),
            ("WIRESTREAM_KAFKA__RAW_TOPIC".into(), k.raw_topic.clone()),
            ("WIRESTREAM_KAFKA__ARTICLES_TOPIC".into(), k.articles_topic.clone()),
            ("WIRESTREAM_KAFKA__DEAD_LETTER_TOPIC".into(), k.dead_letter_topic.clone()),
            ("WIRESTREAM_DATABASE__URL".into(), self.database_url.clone()),
            ("WIRESTREAM_INGEST__LISTEN".into(), format!("127.0.0.1:{}", self.ports[0])),
            ("WIRESTREAM_WORKER__LISTEN".into(), format!("127.0.0.1:{}", self.ports[1])),
            ("WIRESTREAM_SINK__LISTEN".into(), format!("127.0.0.1:{}", self.ports[2])),
            ("WIRESTREAM_WORKER__GROUP_ID".into(), format!("{}-worker", self.name)),
            ("WIRESTREAM_SINK__GROUP_ID".into(), format!("{}-sink", self.name)),
            ("WIRESTREAM_SINK__BATCH_DEADLINE".into(), "20ms".into()),
            ("WIRESTREAM_SHUTDOWN__GRACE".into(), "5s".into()),
        ]
    }

    async fn spawn(&mut self, service: &'static str) -> anyhow::Result<()> {
        let log = std::env::temp_dir().join(format!("{}-{service}.log", self.name));
        let file = std::fs::File::create(&log)?;
        let child = Command::new(binary(&format!("wirestream-{service}")))
            .envs(self.env())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("failed to start {service}"))?;
        self.services.push(Service { name: service, child, log });
        Ok(())
    }

    /// Posts a document to ingest.
    pub async fn post(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
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
            let n: i64 = sqlx::query_scalar(query).fetch_one(&self.pool).await.unwrap_or(0);
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
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).expect("topic metadata");
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

    /// The logs of every service, for a failing test's output.
    pub fn logs(&self) -> String {
        self.services
            .iter()
            .map(|s| format!("--- {} ---\n{}", s.name, std::fs::read_to_string(&s.log).unwrap_or_default()))
            .collect()
    }

    /// Stops the services and drops the database.
    pub async fn stop(mut self) {
        for service in &mut self.services {
            let _ = service.child.start_kill();
            let _ = service.child.wait().await;
            let _ = std::fs::remove_file(&service.log);
        }
        self.pool.close().await;
        if let Ok(admin) = PgPool::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&admin)
                .await;
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    match url.rfind('/') {
        Some(i) => format!("{}/{name}", &url[..i]),
        None => url.to_owned(),
    }
}

async fn wait_ready(port: u16, within: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}/ready");
    loop {
        if let Ok(response) = reqwest::get(&url).await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        anyhow::ensure!(started.elapsed() < within, "{url} not ready within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
