//! Every metric the worker emits, in one place. `docs/metrics.md` documents
//! them; the dashboard and the alert rules in `deploy/` use them, and the
//! end-to-end test `tests/e2e/metrics.rs` checks that they are all exported.

use metrics::Unit;
use wirestream_model::Verdict;

/// Describes the metrics and creates those with fixed labels at zero, so that
/// `/metrics` shows them (and `rate()` has a baseline) before the first batch.
pub fn register() {
    metrics::describe_counter!(
        "wirestream_worker_items_consumed_total",
        Unit::Count,
        "Raw items read from the raw topic, by source."
    );
    metrics::describe_counter!(
        "wirestream_worker_items_normalised_total",
        Unit::Count,
        "Raw items normalised into articles, by source."
    );
    metrics::describe_counter!(
        "wirestream_worker_verdicts_total",
        Unit::Count,
        "Dedup decisions, by verdict (new, version, duplicate, kill) and provider."
    );
    metrics::describe_counter!(
        "wirestream_dead_letters_total",
        Unit::Count,
        "Items sent to the dead-letter topic, by stage and reason."
    );
    metrics::describe_histogram!(
        "wirestream_worker_batch_items",
        Unit::Count,
        "Raw items per batch."
    );
    metrics::describe_histogram!(
        "wirestream_worker_batch_seconds",
        Unit::Seconds,
        "Time to handle a batch: normalise, deduplicate, produce and await the acks."
    );
    metrics::describe_histogram!(
        "wirestream_worker_lock_wait_seconds",
        Unit::Seconds,
        "Per batch, time the dedup claim lost to other workers: waiting on the index lock, checking again what raced in when a claim was refused, and all the work of a claim decided again."
    );
    metrics::describe_counter!(
        "wirestream_worker_dedup_races_total",
        Unit::Count,
        "Near-copy claims refused at commit because another worker indexed under the same LSH keys meanwhile (kept when what raced in changes no decision, else decided again)."
    );
    metrics::describe_counter!(
        "wirestream_worker_dedup_expired_rows_total",
        Unit::Count,
        "Rows of expired dedup state deleted by the background task."
    );
    metrics::describe_counter!(
        "wirestream_worker_dedup_late_items_total",
        Unit::Count,
        "Items decided more than worker.dedup.allowed_lateness behind the watermark of the article times this process decided before them (worker.dedup.watermark_rank): their verdict may depend on when expired state was deleted."
    );
    metrics::counter!("wirestream_worker_dedup_races_total").absolute(0);
    metrics::counter!("wirestream_worker_dedup_late_items_total").absolute(0);
    metrics::counter!("wirestream_worker_dedup_expired_rows_total").absolute(0);
    metrics::describe_gauge!(
        "wirestream_worker_in_flight_items",
        Unit::Count,
        "Raw items read but not yet acknowledged downstream."
    );
    metrics::gauge!("wirestream_worker_in_flight_items").set(0.0);
    metrics::describe_gauge!(
        "wirestream_worker_claim_items",
        Unit::Count,
        "Articles per near-copy claim now: halved after a claim that lost a race, one larger after four in a row that did not."
    );
    metrics::gauge!("wirestream_worker_claim_items").set(crate::claim_size::LARGEST as f64);
    for verdict in [
        Verdict::New,
        Verdict::Version,
        Verdict::Duplicate,
        Verdict::Kill,
    ] {
        // The verdict mix panel stacks all four; a verdict never seen still shows as 0.
        metrics::counter!("wirestream_worker_verdicts_total", "verdict" => verdict.as_str(), "provider" => "")
            .absolute(0);
    }
}

pub fn consumed(source: &str, items: usize) {
    metrics::counter!("wirestream_worker_items_consumed_total", "source" => source.to_owned())
        .increment(items as u64);
}

pub fn normalised(source: &str, items: usize) {
    metrics::counter!("wirestream_worker_items_normalised_total", "source" => source.to_owned())
        .increment(items as u64);
}

pub fn verdict(verdict: Verdict, provider: &str, items: usize) {
    metrics::counter!(
        "wirestream_worker_verdicts_total",
        "verdict" => verdict.as_str(),
        "provider" => provider.to_owned()
    )
    .increment(items as u64);
}

pub fn dead_letter(reason: &str) {
    metrics::counter!("wirestream_dead_letters_total", "stage" => "worker", "reason" => reason.to_owned())
        .increment(1);
}

/// One batch's dedup claims: the time they waited for other workers, the
/// races they lost, and the claim size those races left.
pub fn claim(waited: std::time::Duration, races: u64, claim_items: usize) {
    metrics::histogram!("wirestream_worker_lock_wait_seconds").record(waited.as_secs_f64());
    metrics::gauge!("wirestream_worker_claim_items").set(claim_items as f64);
    if races > 0 {
        metrics::counter!("wirestream_worker_dedup_races_total").increment(races);
    }
}

pub fn expired(rows: u64) {
    metrics::counter!("wirestream_worker_dedup_expired_rows_total").increment(rows);
}

/// One batch's late items (`Deduplicator::late`).
pub fn late(items: u64) {
    if items > 0 {
        metrics::counter!("wirestream_worker_dedup_late_items_total").increment(items);
    }
}
