//! Every metric the sink emits, in one place. `docs/metrics.md` documents
//! them; the dashboard and the alert rules in `deploy/` use them, and the
//! end-to-end test `tests/e2e/metrics.rs` checks that they are all exported.

use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::Unit;

/// The `kind` label values of `wirestream_sink_errors_total`.
pub const BATCH_REFUSED: &str = "batch_refused";
pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
pub const SEARCH_INDEX_FLUSH: &str = "search_index_flush";

/// Describes the metrics and creates those with fixed labels at zero, so that
/// the alert on sink errors and the stored-rows panels have a series (and
/// `rate()` a baseline) before anything happened.
pub fn register() {
    metrics::describe_counter!(
        "wirestream_sink_items_consumed_total",
        Unit::Count,
        "Records read, by topic (articles, dead_letters)."
    );
    metrics::describe_counter!(
        "wirestream_sink_rows_stored_total",
        Unit::Count,
        "Records committed to PostgreSQL, by table (articles, dead_letters)."
    );
    metrics::describe_histogram!(
        "wirestream_sink_batch_items",
        Unit::Count,
        "Records per flushed batch."
    );
    metrics::describe_histogram!(
        "wirestream_sink_flush_seconds",
        Unit::Seconds,
        "Time to write a batch, from the first statement to the stored offsets."
    );
    metrics::describe_histogram!(
        "wirestream_end_to_end_latency_seconds",
        Unit::Seconds,
        "Per article, from receipt at ingest to the PostgreSQL commit."
    );
    metrics::describe_counter!(
        "wirestream_sink_errors_total",
        Unit::Count,
        "Write failures, by kind: batch_refused (a row was refused), database_unavailable (a retried outage), search_index_flush (the full-text index's background flush failed)."
    );
    metrics::describe_histogram!(
        "wirestream_sink_search_flush_seconds",
        Unit::Seconds,
        "Time to merge the full-text index's pending entries (sink.search_index_flush)."
    );
    metrics::describe_counter!(
        "wirestream_dead_letters_total",
        Unit::Count,
        "Items sent to the dead-letter topic, by stage and reason."
    );
    metrics::describe_gauge!(
        "wirestream_sink_in_flight_items",
        Unit::Count,
        "Records read but not yet committed."
    );
    for table in ["articles", "dead_letters"] {
        metrics::counter!("wirestream_sink_rows_stored_total", "table" => table).absolute(0);
        metrics::counter!("wirestream_sink_items_consumed_total", "topic" => table).absolute(0);
    }
    for kind in [BATCH_REFUSED, DATABASE_UNAVAILABLE, SEARCH_INDEX_FLUSH] {
        metrics::counter!("wirestream_sink_errors_total", "kind" => kind).absolute(0);
    }
    metrics::counter!("wirestream_dead_letters_total", "stage" => "sink", "reason" => "rejected_by_database")
        .absolute(0);
    metrics::gauge!("wirestream_sink_in_flight_items").set(0.0);
}

pub fn consumed(topic: &'static str, items: usize) {
    metrics::counter!("wirestream_sink_items_consumed_total", "topic" => topic)
        .increment(items as u64);
}

pub fn stored(table: &'static str, rows: usize) {
    metrics::counter!("wirestream_sink_rows_stored_total", "table" => table).increment(rows as u64);
}

/// Receipt at ingest to commit in Postgres, per article.
pub fn end_to_end(received_at: DateTime<Utc>, committed_at: DateTime<Utc>) {
    let seconds = (committed_at - received_at)
        .num_microseconds()
        .unwrap_or(0)
        .max(0) as f64
        / 1e6;
    metrics::histogram!("wirestream_end_to_end_latency_seconds").record(seconds);
}

pub fn search_index_flush(elapsed: Duration) {
    metrics::histogram!("wirestream_sink_search_flush_seconds").record(elapsed.as_secs_f64());
}

pub fn error(kind: &'static str) {
    metrics::counter!("wirestream_sink_errors_total", "kind" => kind).increment(1);
}

pub fn dead_letter(reason: &str) {
    metrics::counter!("wirestream_dead_letters_total", "stage" => "sink", "reason" => reason.to_owned())
        .increment(1);
}

/// Records skipped because Postgres says they were already applied (effectively-once mode).
pub fn skipped(records: usize) {
    metrics::counter!("wirestream_sink_records_skipped_total").increment(records as u64);
}
