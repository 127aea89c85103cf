//! The consumer-stage framework the worker and the sink run on.
//!
//! A stage supplies [`Stage::process`] (a batch of records to its outputs)
//! and [`Stage::write`] (its writer). The [`Runner`] does the rest, the same
//! way for every stage: it reads batches from the consumer group
//! ([`crate::batch`]), stores their offsets only after the write returned,
//! reports consumer lag, records the batch metrics, opens one tracing span
//! per batch with its counts, keeps the stage's [`Heartbeat`] for `/health`,
//! and on shutdown stops between batches and commits what was stored.
//!
//! Transient failures are retried inside a batch by the [`Policy`] of the
//! [`Context`]; a batch whose write fails for good is split by [`isolate`]
//! so that only the offending items are dead-lettered.

mod isolate;
pub mod produce;
mod source;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::message::OwnedMessage;
use rdkafka::Message as _;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::batch::BatchRule;
use crate::kafka::LagReporter;
use crate::ops::Heartbeat;
use crate::retry::Policy;

pub use isolate::{isolate, take_refused, BatchOp};
pub use source::Source;

/// What every call of a stage gets: the shutdown token and the retry policy.
#[derive(Clone)]
pub struct Context {
    pub shutdown: CancellationToken,
    pub policy: Policy,
}

/// What a batch came to, for the span and the logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Outputs written (articles produced, rows stored).
    pub written: usize,
    /// Items sent to the dead letters.
    pub dead_lettered: usize,
}

/// A stage: its logic, without the consumer plumbing.
#[allow(async_fn_in_trait)]
pub trait Stage {
    type Output;

    /// Turns a batch into outputs. `Ok(None)`: shutdown came first; the batch
    /// is left unstored, to be read again.
    async fn process(
        &mut self,
        batch: &[OwnedMessage],
        cx: &Context,
    ) -> anyhow::Result<Option<Self::Output>>;

    /// Writes the outputs, dead letters included; `offsets` are where the
    /// batch leaves each partition (for a writer that keeps offsets in its own
    /// transaction). `Ok(None)`: shutdown came first.
    async fn write(
        &mut self,
        output: Self::Output,
        offsets: &[NextOffset],
        cx: &Context,
    ) -> anyhow::Result<Option<Written>>;
}

/// The metric names of a stage's batches (each stage keeps its own names,
/// which the dashboards and alerts use).
#[derive(Debug, Clone, Copy)]
pub struct StageMetrics {
    /// Histogram of records per batch.
    pub batch_items: &'static str,
    /// Histogram of the seconds a batch took, from read to stored offsets.
    pub batch_seconds: &'static str,
    /// Gauge of the records in hand (0 between batches).
    pub in_flight: &'static str,
}

/// Per partition, the offset after the last record of a batch: where a
/// restart resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextOffset {
    pub topic: String,
    pub partition: i32,
    pub next_offset: i64,
}

/// The offsets a batch moves its partitions to.
pub fn next_offsets(batch: &[OwnedMessage]) -> Vec<NextOffset> {
    let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for message in batch {
        let entry = last
            .entry((message.topic(), message.partition()))
            .or_insert(message.offset());
        *entry = (*entry).max(message.offset());
    }
    last.into_iter()
        .map(|((topic, partition), offset)| NextOffset {
            topic: topic.to_owned(),
            partition,
            next_offset: offset + 1,
        })
        .collect()
}

/// Where a record was read from, `topic/partition/offset`: the origin of
/// its dead letter, unique across replays.
pub fn origin(message: &OwnedMessage) -> String {
    format!(
        "{}/{}/{}",
        message.topic(),
        message.partition(),
        message.offset()
    )
}

/// Runs a [`Stage`] over a [`Source`].
pub struct Runner<S> {
    /// The stage's name in spans and logs (`worker`, `sink`).
    pub name: &'static str,
    pub source: S,
    pub batching: BatchRule,
    pub metrics: StageMetrics,
    pub heartbeat: Heartbeat,
    pub policy: Policy,
    /// Reports the group's lag while the stage runs.
    pub lag: Option<LagReporter>,
}

impl<S: Source> Runner<S> {
    /// Handles batches until shutdown (or an error the stage cannot go on
    /// from), then commits the offsets stored so far.
    pub async fn run<T: Stage>(
        mut self,
        mut stage: T,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        // The lag reporter stops with this loop, however it ends.
        let lag_stop = shutdown.child_token();
        let _lag_guard = lag_stop.clone().drop_guard();
        if let Some(lag) = &self.lag {
            lag.spawn(Duration::from_secs(5), lag_stop);
        }
        let cx = Context {
            shutdown: shutdown.clone(),
            policy: self.policy.clone().beating(self.heartbeat.clone()),
        };
        let outcome = self.batches(&mut stage, &cx).await;
        self.heartbeat.idle();
        // Commit what was stored before leaving the group.
        self.source.commit();
        outcome
    }

    async fn batches<T: Stage>(&mut self, stage: &mut T, cx: &Context) -> anyhow::Result<()> {
        while let Some(batch) = self.source.next_batch(self.batching, &cx.shutdown).await {
            self.heartbeat.busy();
            let started = Instant::now();
            metrics::gauge!(self.metrics.in_flight).set(batch.len() as f64);
            let span = tracing::info_span!(
                "batch",
                stage = self.name,
                items = batch.len(),
                written = tracing::field::Empty,
                dead_lettered = tracing::field::Empty,
            );
            let handled = handle(stage, &batch, cx).instrument(span.clone()).await;
            metrics::gauge!(self.metrics.in_flight).set(0.0);
            let Some((offsets, written)) = handled? else {
                break; // shutdown mid-batch: it will be read again
            };
            span.record("written", written.written);
            span.record("dead_lettered", written.dead_lettered);
            self.source.store(&offsets);
            self.heartbeat.idle();
            metrics::histogram!(self.metrics.batch_items).record(batch.len() as f64);
            metrics::histogram!(self.metrics.batch_seconds).record(started.elapsed().as_secs_f64());
        }
        Ok(())
    }
}

async fn handle<T: Stage>(
    stage: &mut T,
    batch: &[OwnedMessage],
    cx: &Context,
) -> anyhow::Result<Option<(Vec<NextOffset>, Written)>> {
    let Some(output) = stage.process(batch, cx).await? else {
        return Ok(None);
    };
    let offsets = next_offsets(batch);
    let Some(written) = stage.write(output, &offsets, cx).await? else {
        return Ok(None);
    };
    tracing::debug!(
        written = written.written,
        dead_lettered = written.dead_lettered,
        "batch done"
    );
    Ok(Some((offsets, written)))
}
