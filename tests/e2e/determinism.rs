//! Deterministic outcomes (issue 17): the same items replayed into a fresh
//! pipeline give the same count per verdict, whatever the batch size, the
//! interleaving of four partitions and the number of workers deciding near
//! copies side by side.
//!
//! The items are the first Reuters-21578 stories as they are (near copies,
//! exact copies, results tables that share boilerplate), then a version 2
//! of some of them. They span a few days of article time, within the
//! horizon, so that which of two near copies is read first does not change
//! the counts (one `new`, one `duplicate` either way).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use wirestream_tests::{shared, Options, Pipeline};

/// Corpus stories replayed (with their versions 2, the run takes well under
/// a minute per pipeline on a quiet machine).
const STORIES: usize = 2_500;
/// Every this many stories (with a body) comes again as version 2.
const VERSION_EVERY: usize = 12;

/// The two phases: the stories, then versions 2 of some of them (fed once
/// the first phase is decided, so that no version 2 overtakes its version 1).
fn items() -> [Vec<String>; 2] {
    let path = shared("corpus/reuters21578.ndjson");
    let text = std::fs::read_to_string(&path).expect("the Reuters corpus (WIRESTREAM_SHARED)");
    let mut stories = Vec::new();
    let mut versions = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(STORIES) {
        stories.push(line.to_owned());
        let mut doc: Value = serde_json::from_str(line).expect("a corpus line is JSON");
        let Some(body) = doc["bodies"][0]["value"].as_str().map(str::to_owned) else {
            continue;
        };
        if body.trim().is_empty() || stories.len() % VERSION_EVERY != 0 {
            continue;
        }
        doc["version"] = "2".into();
        doc["bodies"][0]["value"] =
            format!("{body}\n    The company gave no further details, it said.").into();
        versions.push(doc.to_string());
    }
    [stories, versions]
}

/// Feeds both phases through a pipeline of `workers` workers taking batches
/// of `batch`, and returns the count of decisions per verdict.
async fn replay(workers: usize, batch: usize, phases: &[Vec<String>]) -> BTreeMap<String, i64> {
    let mut pipeline = Pipeline::start_with(Options {
        partitions: 4,
        env: vec![("WIRESTREAM_WORKER__BATCH_SIZE", batch.to_string())],
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    for _ in 1..workers {
        pipeline
            .add_instance("worker")
            .await
            .expect("a worker starts");
    }
    // Every item fed ends as a decision (the worker's) or a dead letter (an
    // empty story: the sink stores it).
    let accounted =
        "SELECT (SELECT count(*) FROM dedup_decisions) + (SELECT count(*) FROM dead_letters)";
    let mut fed = 0;
    for phase in phases {
        for chunk in phase.chunks(500) {
            let response = pipeline
                .post(
                    "/v1/articles:batch",
                    "application/x-ndjson",
                    chunk.join("\n"),
                )
                .await;
            assert_eq!(response.status(), 202, "{}", pipeline.logs());
        }
        fed += phase.len() as i64;
        let seen = pipeline
            .wait_for_count(accounted, fed, Duration::from_secs(180))
            .await;
        assert_eq!(seen, fed, "{}", pipeline.logs());
    }
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT verdict, count(*) FROM dedup_decisions GROUP BY verdict")
            .fetch_all(&pipeline.pool)
            .await
            .expect("verdict counts");
    rows.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn verdict_counts_do_not_depend_on_batches_partitions_or_workers() {
    let phases = items();
    let one = replay(1, 500, &phases).await;
    for verdict in ["new", "duplicate", "version"] {
        assert!(one.get(verdict).is_some_and(|&n| n > 0), "{one:?}");
    }
    let three = replay(3, 7, &phases).await;
    assert_eq!(
        one, three,
        "1 worker with batches of 500 against 3 workers with batches of 7"
    );
}
