//! Private Apache Kafka brokers for the fault tests: one node, or a KRaft
//! cluster of three, each node a JVM started by `scripts/kafka-node.sh` (the
//! same script the local stack uses) on free loopback ports, with its data in
//! a temporary folder so that what it acknowledged survives a stop.
//!
//! [`Kafka::with_sasl_ssl`] gives each node a second client listener,
//! `SASL_SSL` with SCRAM-SHA-512 users, for the security tests. The
//! PLAINTEXT listener stays: the harness itself (start-up wait, topic
//! creation, reading topics back) and the controller use it, so a test's
//! own plumbing never depends on the security it is testing.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::ClientConfig;
use tokio::process::{Child, Command};

use crate::free_port;

/// How long a node may take to start (a JVM on a busy two-core box).
const START_WITHIN: Duration = Duration::from_secs(120);

struct Node {
    id: i32,
    port: u16,
    controller_port: u16,
    /// The `SASL_SSL` listener's port, always reserved, used only with [`Security`].
    sasl_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A Kafka cluster of one or more combined (broker + controller) nodes.
pub struct Kafka {
    nodes: Vec<Node>,
    cluster_id: String,
    security: Option<Security>,
    _dir: tempfile::TempDir,
}

impl Kafka {
    /// One node on free ports, not started yet.
    pub fn new() -> anyhow::Result<Kafka> {
        Kafka::cluster(1)
    }

    /// `n` nodes, each a voter of the KRaft quorum, not started yet. With
    /// three, Kafka's internal topics have three replicas and
    /// `min.insync.replicas` 2, as in production.
    pub fn cluster(n: usize) -> anyhow::Result<Kafka> {
        let dir = tempfile::tempdir()?;
        let nodes = (1..=n as i32)
            .map(|id| Node {
                id,
                port: free_port(),
                controller_port: free_port(),
                sasl_port: free_port(),
                dir: dir.path().join(format!("node-{id}")),
                child: None,
            })
            .collect();
        Ok(Kafka {
            nodes,
            cluster_id: cluster_id(),
            security: None,
            _dir: dir,
        })
    }

    /// Adds a `SASL_SSL` listener to every node, before the first start:
    /// TLS with `keystore` (a PEM file, key and certificate, e.g.
    /// [`crate::certs::Certs::keystore_pem`]) and SCRAM-SHA-512 with the
    /// `users` (name, password), stored when the node formats its data.
    pub fn with_sasl_ssl(mut self, keystore: &Path, users: &[(&str, &str)]) -> Kafka {
        self.security = Some(Security {
            keystore: keystore.to_owned(),
            users: users
                .iter()
                .map(|(name, password)| (name.to_string(), password.to_string()))
                .collect(),
        });
        self
    }

    /// Every node's `SASL_SSL` address, as `bootstrap.servers` (see [`Kafka::with_sasl_ssl`]).
    pub fn sasl_ssl_brokers(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.sasl_port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every node's client address, as `bootstrap.servers`.
    pub fn brokers(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node ids (1, 2, 3, …).
    pub fn ids(&self) -> Vec<i32> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    /// Starts every node that is not running, and waits until the cluster
    /// answers metadata requests with every node in it.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let ids = self.ids();
        for id in &ids {
            self.spawn(*id)?;
        }
        self.wait_for_nodes(&ids).await
    }

    /// Starts one node again (same ports and data) and waits until the
    /// cluster lists it.
    pub async fn start_node(&mut self, id: i32) -> anyhow::Result<()> {
        self.spawn(id)?;
        self.wait_for_nodes(&[id]).await
    }

    /// SIGKILLs one node: a crash, nothing flushed.
    pub async fn kill_node(&mut self, id: i32) {
        if let Some(mut child) = self.node_mut(id).child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// SIGTERMs one node and waits for its clean shutdown (SIGKILL after
    /// `within`).
    pub async fn terminate_node(&mut self, id: i32, within: Duration) {
        if let Some(mut child) = self.node_mut(id).child.take() {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
            if tokio::time::timeout(within, child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }

    /// Kills every node.
    pub async fn stop(&mut self) {
        for id in self.ids() {
            self.kill_node(id).await;
        }
    }

    /// The node that leads the most partitions of `topics`.
    pub fn busiest_leader(&self, topics: &[&str]) -> anyhow::Result<i32> {
        let client = self.client()?;
        let mut led = std::collections::BTreeMap::<i32, usize>::new();
        for topic in topics {
            let metadata = client.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
                *led.entry(partition.leader()).or_default() += 1;
            }
        }
        led.into_iter()
            .filter(|(leader, _)| *leader >= 0)
            .max_by_key(|(_, count)| *count)
            .map(|(leader, _)| leader)
            .context("no partition has a leader")
    }

    /// Waits until every partition of `topics` has a leader and all its
    /// replicas in sync: a node that came back has caught up.
    pub async fn wait_in_sync(&self, topics: &[&str], within: Duration) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let client = self.client()?;
            let mut lagging = Vec::new();
            for topic in topics {
                match client.fetch_metadata(Some(topic), Duration::from_secs(5)) {
                    Ok(metadata) => {
                        for p in metadata.topics().iter().flat_map(|t| t.partitions()) {
                            if p.leader() < 0 || p.isr().len() < p.replicas().len() {
                                lagging.push(format!("{topic}/{}", p.id()));
                            }
                        }
                    }
                    Err(error) => lagging.push(format!("{topic}: {error}")),
                }
            }
            if lagging.is_empty() {
                return Ok(());
            }
            if started.elapsed() > within {
                anyhow::bail!("not in sync within {within:?}: {lagging:?}\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Every node's log, for a failing test's output.
    pub fn log(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let log = std::fs::read_to_string(n.dir.join("kafka.log")).unwrap_or_default();
                // The last lines say why a node stopped; the rest is start-up chatter.
                let tail: Vec<&str> = log.lines().rev().take(60).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- kafka node {} ---\n{}\n", n.id, tail.join("\n"))
            })
            .collect()
    }

    fn node_mut(&mut self, id: i32) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id == id)
            .expect("a node of this cluster")
    }

    fn spawn(&mut self, id: i32) -> anyhow::Result<()> {
        let voters = self
            .nodes
            .iter()
            .map(|n| format!("{}@127.0.0.1:{}", n.id, n.controller_port))
            .collect::<Vec<_>>()
            .join(",");
        let replication = self.nodes.len().min(3).to_string();
        let cluster_id = self.cluster_id.clone();
        let security = self.security.clone();
        let node = self.node_mut(id);
        if node.child.is_some() {
            return Ok(());
        }
        let (properties, scram_users) = match &security {
            Some(security) => security.settings(node),
            None => Default::default(),
        };
        std::fs::create_dir_all(&node.dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.dir.join("kafka.log"))?;
        let child = Command::new(script("kafka-node.sh"))
            .arg(&node.dir)
            .env("KAFKA_NODE_ID", node.id.to_string())
            .env("KAFKA_PORT", node.port.to_string())
            .env("KAFKA_CONTROLLER_PORT", node.controller_port.to_string())
            .env("KAFKA_VOTERS", voters)
            .env("KAFKA_CLUSTER_ID", cluster_id)
            .env("KAFKA_REPLICATION", replication)
            // Three JVMs share two cores with the pipeline under test.
            .env("KAFKA_HEAP", "384m")
            .env("KAFKA_EXTRA_PROPERTIES", properties)
            .env("KAFKA_SCRAM_USERS", scram_users)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("failed to start scripts/kafka-node.sh")?;
        node.child = Some(child);
        Ok(())
    }

    /// Waits until a metadata request lists every node of `ids`.
    async fn wait_for_nodes(&mut self, ids: &[i32]) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            let mut exited = None;
            for node in &mut self.nodes {
                if let Some(child) = &mut node.child {
                    if let Ok(Some(status)) = child.try_wait() {
                        node.child = None;
                        exited = Some((node.id, status));
                    }
                }
            }
            if let Some((id, status)) = exited {
                anyhow::bail!("kafka node {id} exited ({status})\n{}", self.log());
            }
            let listed = self.client().ok().and_then(|client| {
                client
                    .fetch_metadata(None, Duration::from_secs(2))
                    .ok()
                    .map(|m| m.brokers().iter().map(|b| b.id()).collect::<Vec<_>>())
            });
            if listed.is_some_and(|listed| ids.iter().all(|id| listed.contains(id))) {
                return Ok(());
            }
            if started.elapsed() > START_WITHIN {
                anyhow::bail!(
                    "Kafka nodes {ids:?} not listed within {START_WITHIN:?}\n{}",
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn client(&self) -> anyhow::Result<BaseConsumer> {
        Ok(ClientConfig::new()
            .set("bootstrap.servers", self.brokers())
            .create()?)
    }
}

/// The `SASL_SSL` listener of [`Kafka::with_sasl_ssl`].
#[derive(Clone)]
struct Security {
    keystore: PathBuf,
    users: Vec<(String, String)>,
}

impl Security {
    /// The node's extra broker properties (they replace the script's
    /// listener lines) and its SCRAM users, as `scripts/kafka-node.sh` takes them.
    fn settings(&self, node: &Node) -> (String, String) {
        let (port, controller, sasl) = (node.port, node.controller_port, node.sasl_port);
        let properties = format!(
            "listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller},SASL_SSL://127.0.0.1:{sasl}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{sasl}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location={}
",
            self.keystore.display()
        );
        let users = self
            .users
            .iter()
            .map(|(name, password)| format!("SCRAM-SHA-512=[name={name},password={password}]\n"))
            .collect();
        (properties, users)
    }
}

/// A script of the repository's `scripts/` folder.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name)
}

/// A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.
/// Like Kafka's own ids it never starts with '-', which the storage tool's
/// argument parser would take for an option (one id in 64 did, and the
/// node did not start).
fn cluster_id() -> String {
    use base64::Engine as _;
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}
