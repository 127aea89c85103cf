//! Every metric the sink emits, in one place.

use std::time::Duration;

use chrono::{DateTime, Utc};

pub fn consumed(topic: &'static str, items: usize) {
    metrics::counter!("wirestream_sink_items_consumed_total", "topic" => topic).increment(items as u64);
}

pub fn stored(table: &'static str, rows: usize) {
    metrics::counter!("wirestream_sink_rows_stored_total", "table" => table).increment(rows as u64);
}

pub fn flush(items: usize, elapsed: Duration) {
    metrics::histogram!("wirestream_sink_batch_items").record(items as f64);
    metrics::histogram!("wirestream_sink_flush_seconds").record(elapsed.as_secs_f64());
}

/// Receipt at ingest to commit in Postgres, per article.
pub fn end_to_end(received_at: DateTime<Utc>, committed_at: DateTime<Utc>) {
    let seconds = (committed_at - received_at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
    metrics::histogram!("wirestream_end_to_end_latency_seconds").record(seconds);
}

pub fn error(kind: &'static str) {
    metrics::counter!("wirestream_sink_errors_total", "kind" => kind).increment(1);
}

pub fn dead_letter(reason: &str) {
    metrics::counter!("wirestream_dead_letters_total", "stage" => "sink", "reason" => reason.to_owned())
        .increment(1);
}
