//! The framework against an in-memory source and stage: no broker.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::message::{OwnedMessage, Timestamp};
use rdkafka::Message as _;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::retry::{ErrorClass, RetryConfig};

#[derive(Default)]
struct Log {
    queue: VecDeque<OwnedMessage>,
    stored: Vec<NextOffset>,
    committed: bool,
}

/// Hands out its queue, then waits for shutdown.
#[derive(Clone, Default)]
struct Memory(Arc<Mutex<Log>>);

impl Memory {
    fn with(payloads: &[&str]) -> Self {
        let memory = Memory::default();
        let mut log = memory.0.lock().unwrap();
        for (n, payload) in payloads.iter().enumerate() {
            let partition = (n % 2) as i32;
            log.queue.push_back(OwnedMessage::new(
                Some(payload.as_bytes().to_vec()),
                None,
                "raw".into(),
                Timestamp::NotAvailable,
                partition,
                n as i64,
                None,
            ));
        }
        drop(log);
        memory
    }

    fn stored(&self) -> Vec<NextOffset> {
        self.0.lock().unwrap().stored.clone()
    }
}

impl Source for Memory {
    async fn next_batch(
        &mut self,
        rule: BatchRule,
        shutdown: &CancellationToken,
    ) -> Option<Vec<OwnedMessage>> {
        let batch: Vec<_> = {
            let mut log = self.0.lock().unwrap();
            let take = rule.size.min(log.queue.len());
            log.queue.drain(..take).collect()
        };
        if batch.is_empty() {
            shutdown.cancelled().await;
            return None;
        }
        Some(batch)
    }

    fn store(&self, offsets: &[NextOffset]) {
        self.0.lock().unwrap().stored.extend_from_slice(offsets);
    }

    fn commit(&self) {
        self.0.lock().unwrap().committed = true;
    }
}

#[derive(Debug)]
struct Refused(&'static str, ErrorClass);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Writes payloads; refuses `bad` for good, and fails the first
/// `transient` writes as if the database were away.
#[derive(Default)]
struct Upper {
    written: Arc<Mutex<Vec<String>>>,
    letters: Arc<Mutex<Vec<String>>>,
    transient: usize,
    tries: usize,
}

impl BatchOp<String> for Upper {
    type Error = Refused;

    fn classify(&self, error: &Refused) -> ErrorClass {
        error.1
    }

    async fn apply(&mut self, items: &mut [String]) -> Result<(), Refused> {
        self.tries += 1;
        if self.transient > 0 {
            self.transient -= 1;
            return Err(Refused("away", ErrorClass::Transient));
        }
        if items.iter().any(|item| item == "bad") {
            return Err(Refused("bad row", ErrorClass::Permanent));
        }
        let mut written = self.written.lock().unwrap();
        written.extend(items.iter().map(|item| item.to_uppercase()));
        Ok(())
    }
}

impl Stage for Upper {
    type Output = Vec<String>;

    async fn process(
        &mut self,
        batch: &[OwnedMessage],
        _cx: &Context,
    ) -> anyhow::Result<Option<Vec<String>>> {
        Ok(Some(
            batch
                .iter()
                .map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
                .collect(),
        ))
    }

    async fn write(
        &mut self,
        mut output: Vec<String>,
        _offsets: &[NextOffset],
        cx: &Context,
    ) -> anyhow::Result<Option<Written>> {
        let Some(refused) = isolate(self, &mut output, "write", cx).await else {
            return Ok(None);
        };
        let (applied, refused) = take_refused(output, refused);
        let mut letters = self.letters.lock().unwrap();
        letters.extend(refused.iter().map(|(item, _)| item.clone()));
        Ok(Some(Written {
            written: applied.len(),
            dead_lettered: refused.len(),
        }))
    }
}

fn runner(source: Memory, size: usize) -> Runner<Memory> {
    Runner {
        name: "test",
        source,
        batching: BatchRule {
            size,
            deadline: Duration::from_millis(10),
            linger: Duration::from_millis(1),
        },
        metrics: StageMetrics {
            batch_items: "test_batch_items",
            batch_seconds: "test_batch_seconds",
            in_flight: "test_in_flight_items",
        },
        heartbeat: Heartbeat::new(Duration::from_secs(60)),
        policy: Policy::new(RetryConfig {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
            ..RetryConfig::default()
        }),
        lag: None,
    }
}

/// Runs until the source has handed out its queue (or two seconds passed),
/// lets the last batch finish, then shuts down.
async fn run_until_stored(source: Memory, size: usize, stage: Upper) -> Memory {
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(source.clone(), size).run(stage, shutdown.clone()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !source.0.lock().unwrap().queue.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    shutdown.cancel();
    task.await
        .expect("no panic")
        .expect("the runner ends cleanly");
    source
}

#[tokio::test]
async fn every_batch_is_written_before_its_offsets_are_stored() {
    let source = Memory::with(&["a", "b", "c", "d", "e"]);
    let stage = Upper::default();
    let written = stage.written.clone();
    let source = run_until_stored(source, 2, stage).await;
    assert_eq!(*written.lock().unwrap(), ["A", "B", "C", "D", "E"]);
    let stored = source.stored();
    let last = |partition| {
        stored
            .iter()
            .filter(|o| o.partition == partition)
            .map(|o| o.next_offset)
            .max()
    };
    assert_eq!(
        (last(0), last(1)),
        (Some(5), Some(4)),
        "one past each partition's last record"
    );
    assert!(
        source.0.lock().unwrap().committed,
        "the stored offsets are committed at shutdown"
    );
}

#[tokio::test]
async fn a_bad_item_is_isolated_and_its_neighbours_are_written() {
    let source = Memory::with(&["a", "b", "bad", "c", "d", "bad", "e", "f"]);
    let stage = Upper::default();
    let (written, letters) = (stage.written.clone(), stage.letters.clone());
    let source = run_until_stored(source, 8, stage).await;
    assert_eq!(*written.lock().unwrap(), ["A", "B", "C", "D", "E", "F"]);
    assert_eq!(*letters.lock().unwrap(), ["bad", "bad"]);
    assert_eq!(source.stored().len(), 2, "the batch's offsets move on");
}

#[tokio::test]
async fn transient_failures_are_retried_in_place() {
    let source = Memory::with(&["a", "b"]);
    let stage = Upper {
        transient: 3,
        ..Upper::default()
    };
    let written = stage.written.clone();
    run_until_stored(source, 10, stage).await;
    assert_eq!(*written.lock().unwrap(), ["A", "B"]);
}

#[tokio::test]
async fn shutdown_while_retrying_leaves_the_batch_unstored() {
    let source = Memory::with(&["a"]);
    let stage = Upper {
        transient: usize::MAX,
        ..Upper::default()
    };
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner(source.clone(), 10).run(stage, shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .expect("shutdown stops the retries")
        .expect("no panic")
        .expect("a clean end");
    assert!(
        source.stored().is_empty(),
        "nothing was written, nothing stored"
    );
}

#[test]
fn next_offsets_are_one_past_each_partitions_last_record() {
    let memory = Memory::with(&["a", "b", "c"]);
    let batch: Vec<_> = memory.0.lock().unwrap().queue.drain(..).collect();
    let offsets = next_offsets(&batch);
    assert_eq!(
        offsets,
        [
            NextOffset {
                topic: "raw".into(),
                partition: 0,
                next_offset: 3
            },
            NextOffset {
                topic: "raw".into(),
                partition: 1,
                next_offset: 2
            },
        ]
    );
    assert_eq!(origin(&batch[1]), "raw/1/1");
}
