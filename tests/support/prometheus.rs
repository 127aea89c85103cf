//! A private Prometheus for a test: its own port and temporary data folder,
//! scraping one [`Pipeline`](crate::Pipeline)'s three services every second
//! under the job names of `deploy/prometheus/prometheus.yml`, optionally with
//! alert rules. The binary is Debian's (`scripts/prometheus.sh` installs it).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::Value;

pub struct Prometheus {
    pub url: String,
    child: Child,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

/// One series of a query's answer: its labels and value.
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: serde_json::Map<String, Value>,
    pub value: f64,
}

/// The repository's alert rules with every `for:` shortened to `hold`, so
/// that a test sees an alert go to firing in seconds, not minutes.
pub fn rules_with_for(hold: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/prometheus/rules/wirestream.rules.yml");
    let text = std::fs::read_to_string(&path).expect("the alert rules");
    text.lines()
        .map(|line| match line.trim_start().strip_prefix("for:") {
            Some(_) => format!(
                "{}for: {hold}",
                &line[..line.len() - line.trim_start().len()]
            ),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Prometheus {
    /// Starts scraping `ports` (ingest, worker, sink) and, with `rules`,
    /// evaluating them every second; waits until it is ready.
    pub async fn start(ports: [u16; 3], rules: Option<String>) -> anyhow::Result<Prometheus> {
        let dir = tempfile::tempdir()?;
        let port = crate::unused_port();
        let mut config = String::from(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n",
        );
        if let Some(rules) = rules {
            std::fs::write(dir.path().join("rules.yml"), rules)?;
            config.push_str("rule_files:\n  - rules.yml\n");
        }
        config.push_str("scrape_configs:\n");
        for (stage, port) in ["ingest", "worker", "sink"].iter().zip(ports) {
            config.push_str(&format!(
                "  - job_name: wirestream-{stage}\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n"
            ));
        }
        std::fs::write(dir.path().join("prometheus.yml"), config)?;
        let log = std::fs::File::create(dir.path().join("prometheus.log"))?;
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("failed to start prometheus: install Debian's `prometheus` package (scripts/prometheus.sh promtool does, as root)")?;
        let prometheus = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            child,
            dir,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        };
        let started = Instant::now();
        loop {
            if let Ok(r) = prometheus
                .client
                .get(format!("{}/-/ready", prometheus.url))
                .send()
                .await
            {
                if r.status().is_success() {
                    return Ok(prometheus);
                }
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "prometheus not ready:\n{}",
                prometheus.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query; an error when Prometheus refuses the expression.
    pub async fn query(&self, expr: &str) -> anyhow::Result<Vec<Series>> {
        let json: Value = self
            .client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(json["status"] == "success", "{expr}: {json}");
        let result = &json["data"]["result"];
        let list = match json["data"]["resultType"].as_str() {
            Some("scalar") => vec![serde_json::json!({"metric": {}, "value": result})],
            _ => result.as_array().cloned().unwrap_or_default(),
        };
        Ok(list
            .iter()
            .map(|s| Series {
                labels: s["metric"].as_object().cloned().unwrap_or_default(),
                value: s["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN),
            })
            .collect())
    }

    /// The states (`pending`, `firing`) of the active alerts called `name`.
    pub async fn alert_states(&self, name: &str) -> Vec<String> {
        let Ok(response) = self
            .client
            .get(format!("{}/api/v1/alerts", self.url))
            .send()
            .await
        else {
            return Vec::new();
        };
        let json: Value = response.json().await.unwrap_or_default();
        json["data"]["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["labels"]["alertname"] == name)
            .filter_map(|a| a["state"].as_str().map(str::to_owned))
            .collect()
    }

    /// Waits until the alert `name` is firing (`true`) or no longer active
    /// (`false`); returns how long it took, or `None` past `within`.
    pub async fn wait_alert(&self, name: &str, firing: bool, within: Duration) -> Option<Duration> {
        let started = Instant::now();
        while started.elapsed() < within {
            let states = self.alert_states(name).await;
            let is_firing = states.iter().any(|s| s == "firing");
            if (firing && is_firing) || (!firing && states.is_empty()) {
                return Some(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        None
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
