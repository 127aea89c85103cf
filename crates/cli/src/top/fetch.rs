//! One round of requests, every second, off the drawing loop: the three
//! services' `/metrics` and `/ready`, or one query to a Prometheus. Each
//! request has a short timeout, so a service that stops answering shows as
//! down at the next round and never holds up the view.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::{Health, Scrape, Snapshot, STAGES};
use super::prom::{self, Sample};

/// Where the numbers come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The services' base URLs (`http://host:port`), in stage order.
    Services([String; 3]),
    /// A Prometheus that scrapes them (jobs `wirestream-ingest`, …).
    Prometheus(String),
}

pub struct Fetcher {
    client: reqwest::Client,
    source: Source,
}

impl Fetcher {
    pub fn new(source: Source, timeout: Duration) -> anyhow::Result<Fetcher> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .context("failed to build the HTTP client")?;
        Ok(Fetcher { client, source })
    }

    pub async fn round(&self) -> Snapshot {
        let stages = match &self.source {
            Source::Services(urls) => {
                let (a, b, c) = tokio::join!(
                    self.service(&urls[0]),
                    self.service(&urls[1]),
                    self.service(&urls[2])
                );
                [a, b, c]
            }
            Source::Prometheus(url) => self.prometheus(url).await,
        };
        Snapshot {
            at: Instant::now(),
            wall: unix_now(),
            stages,
        }
    }

    /// Sends a round every `every` until `stop` fires or nobody listens.
    pub async fn run(self, every: Duration, tx: mpsc::Sender<Snapshot>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let snapshot = tokio::select! {
                _ = stop.cancelled() => return,
                s = self.round() => s,
            };
            if tx.send(snapshot).await.is_err() {
                return;
            }
        }
    }

    async fn service(&self, base: &str) -> Scrape {
        let (metrics_url, ready_url) = (format!("{base}/metrics"), format!("{base}/ready"));
        let (metrics, ready) = tokio::join!(self.get(&metrics_url), self.get(&ready_url));
        let health = match ready {
            Ok((200, _)) => Health::Ready,
            Ok((status, body)) => Health::NotReady(not_ready_reason(status, &body)),
            Err(error) => match &metrics {
                // `/ready` timed out but `/metrics` answered: up, not ready.
                Ok(_) => Health::NotReady(error),
                Err(_) => Health::Down(error),
            },
        };
        let samples = match metrics {
            Ok((200, body)) => Some(prom::parse(&body)),
            _ => None,
        };
        Scrape { health, samples }
    }

    async fn get(&self, url: &str) -> Result<(u16, String), String> {
        let response = self.client.get(url).send().await.map_err(short_error)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(short_error)?;
        Ok((status, body))
    }

    /// Every series of the wirestream jobs, as the last scrape saw them, by stage.
    async fn prometheus(&self, base: &str) -> [Scrape; 3] {
        let down = |why: &str| Scrape {
            health: Health::Down(why.to_owned()),
            samples: None,
        };
        let url = format!("{}/api/v1/query", base.trim_end_matches('/'));
        let answer = self
            .client
            .get(&url)
            .query(&[("query", r#"{job=~"wirestream-.+"}"#)])
            .send()
            .await
            .map_err(short_error);
        let json: serde_json::Value = match answer {
            Ok(r) => match r.json().await {
                Ok(json) => json,
                Err(e) => {
                    let why = short_error(e);
                    return std::array::from_fn(|_| down(&why));
                }
            },
            Err(e) => return std::array::from_fn(|_| down(&format!("prometheus: {e}"))),
        };
        let mut by_stage: [Vec<Sample>; 3] = Default::default();
        for series in json["data"]["result"].as_array().into_iter().flatten() {
            let Some(metric) = series["metric"].as_object() else {
                continue;
            };
            let job = metric.get("job").and_then(|j| j.as_str()).unwrap_or("");
            let Some(i) = STAGES.iter().position(|s| job == format!("wirestream-{s}")) else {
                continue;
            };
            let value = series["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            let mut labels = Vec::new();
            let mut name = String::new();
            for (k, v) in metric {
                let v = v.as_str().unwrap_or("").to_owned();
                if k == "__name__" {
                    name = v;
                } else {
                    labels.push((k.clone(), v));
                }
            }
            by_stage[i].push(Sample {
                name,
                labels,
                value,
            });
        }
        by_stage.map(|samples| {
            let up = prom::sum(&samples, "up", &[]).unwrap_or(0.0);
            let health = if up < 1.0 {
                Health::Down("not up in prometheus".into())
            } else if samples
                .iter()
                .any(|s| s.name == "wirestream_dependency_up" && s.value < 1.0)
            {
                Health::NotReady("a dependency is down".into())
            } else {
                Health::Ready
            };
            Scrape {
                health,
                samples: (up >= 1.0).then_some(samples),
            }
        })
    }
}

/// `/ready`'s JSON names the failing checks; fall back to the status code.
fn not_ready_reason(status: u16, body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let failing: Vec<&str> = json["checks"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.as_str() != Some("ok"))
        .map(|(k, _)| k.as_str())
        .collect();
    if failing.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("{} down", failing.join(","))
    }
}

fn short_error(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "refused".into()
    } else {
        "no answer".into()
    }
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_failing_checks() {
        let body = r#"{"ready":false,"checks":{"kafka":"ok","postgres":"connection refused"}}"#;
        assert_eq!(super::not_ready_reason(503, body), "postgres down");
        assert_eq!(super::not_ready_reason(503, "not json"), "HTTP 503");
    }
}
