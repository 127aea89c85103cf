//! A steady stream of small ninjs items to ingest, until stopped: mostly
//! new stories, every tenth an exact copy of the one before under a new id
//! (a duplicate), one in fifty an empty item (a dead letter). For tests
//! that watch the flow (`wirestream top`, the dashboards, the alerts).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Words for the bodies; each story draws its own sequence, so that no two
/// are near copies.
const WORDS: &[&str] = &[
    "bank", "rates", "cocoa", "harvest", "shares", "index", "oil", "crude", "talks", "minister",
    "exports", "quarter", "profit", "loss", "dollar", "yen", "bonds", "yield", "strike", "port",
    "grain", "wheat", "copper", "mine", "output", "forecast", "budget", "deficit", "tariff",
    "trade", "merger", "offer", "board", "vote", "court", "ruling", "storm", "flood", "airline",
    "fleet", "rail", "freight", "coffee", "sugar", "steel", "plant", "workers", "union",
    "election", "poll",
];

/// A flag the feeding task checks between batches.
type Stop = Arc<AtomicBool>;

pub struct Trickle {
    pub sent: Arc<AtomicUsize>,
    stop: Stop,
    task: tokio::task::JoinHandle<()>,
}

/// The `n`-th item of the stream, as one NDJSON line.
pub fn item(run: &str, n: usize) -> String {
    if n % 50 == 5 {
        return ninjs(&format!("urn:trickle:{run}:{n}"), "", "");
    }
    // A copy: the body and headline of the item before, another id.
    let story = if n % 10 == 9 { n - 1 } else { n };
    let mut x = (story as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ run.len() as u64;
    let words: Vec<&str> = (0..60)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            WORDS[(x % WORDS.len() as u64) as usize]
        })
        .collect();
    let body = format!(
        "LONDON, March 1 - {} {run} {story}.\n Reuter",
        words.join(" ")
    );
    ninjs(
        &format!("urn:trickle:{run}:{n}"),
        &format!(
            "{} {} story {story}",
            words[0].to_uppercase(),
            words[1].to_uppercase()
        ),
        &body,
    )
}

fn ninjs(uri: &str, headline: &str, body: &str) -> String {
    serde_json::json!({
        "uri": uri, "version": "1", "pubstatus": "usable",
        "versioncreated": "2024-03-01T10:00:00Z", "copyrightholder": "Reuters", "language": "en",
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
    })
    .to_string()
}

impl Trickle {
    /// Sends about `per_second` items a second, in a batch every 200 ms.
    pub fn start(ingest_url: &str, per_second: usize) -> Trickle {
        let url = format!("{ingest_url}/v1/articles:batch");
        let sent = Arc::new(AtomicUsize::new(0));
        let stop: Stop = Default::default();
        let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
        let (task_sent, task_stop) = (sent.clone(), stop.clone());
        let per_batch = (per_second / 5).max(1);
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            while !task_stop.load(Ordering::SeqCst) {
                tick.tick().await;
                let first = task_sent.load(Ordering::SeqCst);
                let body: Vec<String> = (first..first + per_batch).map(|n| item(&run, n)).collect();
                let accepted = client
                    .post(&url)
                    .header("content-type", "application/x-ndjson")
                    .body(body.join("\n"))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 202);
                if accepted {
                    task_sent.fetch_add(per_batch, Ordering::SeqCst);
                }
            }
        });
        Trickle { sent, stop, task }
    }

    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Stops sending; returns how many items ingest accepted.
    pub async fn stop(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        let sent = self.sent.clone();
        let _ = self.task.await;
        sent.load(Ordering::SeqCst)
    }
}
