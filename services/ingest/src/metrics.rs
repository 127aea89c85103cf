//! Every metric the ingest service emits, in one place.

use std::time::Duration;

pub fn request(route: &'static str, status: u16) {
    metrics::counter!("wirestream_ingest_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
}

pub fn received(source: &str, format: &'static str, items: usize) {
    metrics::counter!("wirestream_ingest_items_received_total", "source" => source.to_owned(), "format" => format)
        .increment(items as u64);
    metrics::gauge!("wirestream_ingest_last_item_timestamp_seconds", "source" => source.to_owned())
        .set(chrono::Utc::now().timestamp() as f64);
}

pub fn rejected(source: &str, kind: &'static str, items: usize) {
    metrics::counter!("wirestream_ingest_items_rejected_total", "source" => source.to_owned(), "reason" => kind)
        .increment(items as u64);
}

pub fn produced(items: usize, elapsed: Duration) {
    metrics::counter!("wirestream_ingest_items_produced_total").increment(items as u64);
    metrics::histogram!("wirestream_ingest_produce_seconds").record(elapsed.as_secs_f64());
}

pub fn produce_failed(kind: &'static str, items: usize) {
    metrics::counter!("wirestream_ingest_produce_errors_total", "kind" => kind)
        .increment(items as u64);
}

pub fn in_flight(items: usize) {
    metrics::gauge!("wirestream_ingest_in_flight_items").set(items as f64);
}

/// A request refused for its token (`presented`: a wrong one, else none).
pub fn unauthorized(presented: bool) {
    let reason = if presented {
        "invalid_token"
    } else {
        "missing_token"
    };
    metrics::counter!("wirestream_ingest_unauthorized_total", "reason" => reason).increment(1);
}

/// A spool file's outcome: `done`, `failed` or `retry` (left in place).
pub fn spool_file(source: &str, outcome: &'static str) {
    metrics::counter!("wirestream_ingest_spool_files_total", "source" => source.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// A feed poll's outcome: `new`, `unchanged`, `not_modified` or `error`.
pub fn feed_poll(source: &str, outcome: &'static str) {
    metrics::counter!("wirestream_ingest_feed_polls_total", "source" => source.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// A connection ended by the server or broken: `header_timeout` (no whole
/// request head in time, idle keep-alive included), `malformed` (not HTTP),
/// `io` (reset, closed mid-request), `accept_error` (not accepted at all,
/// e.g. out of file descriptors).
pub fn connection_cut(reason: &'static str) {
    metrics::counter!("wirestream_ingest_connections_cut_total", "reason" => reason).increment(1);
}

pub fn connection_opened() {
    metrics::gauge!("wirestream_ingest_open_connections").increment(1.0);
}

pub fn connection_closed() {
    metrics::gauge!("wirestream_ingest_open_connections").decrement(1.0);
}

/// An API request refused before its items were parsed: `overloaded` (at
/// `max_concurrent_requests`), `request_timeout`, `body_timeout`,
/// `too_large` (by its `Content-Length`), `busy` (429) or `unavailable`
/// (503, the broker away).
pub fn refused(reason: &'static str) {
    metrics::counter!("wirestream_ingest_requests_refused_total", "reason" => reason).increment(1);
}
