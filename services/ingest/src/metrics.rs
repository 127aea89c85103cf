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
    metrics::counter!("wirestream_ingest_produce_errors_total", "kind" => kind).increment(items as u64);
}

pub fn in_flight(items: usize) {
    metrics::gauge!("wirestream_ingest_in_flight_items").set(items as f64);
}
