//! Every metric the worker emits, in one place.

use std::time::Duration;

use wirestream_model::Verdict;

pub fn consumed(items: usize) {
    metrics::counter!("wirestream_worker_items_consumed_total").increment(items as u64);
}

pub fn normalised(items: usize) {
    metrics::counter!("wirestream_worker_items_normalised_total").increment(items as u64);
}

pub fn verdict(verdict: Verdict, provider: &str) {
    metrics::counter!(
        "wirestream_worker_verdicts_total",
        "verdict" => verdict.as_str(),
        "provider" => provider.to_owned()
    )
    .increment(1);
}

pub fn dead_letter(reason: &str) {
    metrics::counter!("wirestream_dead_letters_total", "stage" => "worker", "reason" => reason.to_owned())
        .increment(1);
}

pub fn batch(items: usize, elapsed: Duration) {
    metrics::histogram!("wirestream_worker_batch_items").record(items as f64);
    metrics::histogram!("wirestream_worker_batch_seconds").record(elapsed.as_secs_f64());
}
