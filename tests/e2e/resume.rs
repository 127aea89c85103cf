//! A worker or sink SIGKILLed and started again resumes within its
//! consumer session timeout: the group drops the dead member when its
//! session expires, hands its partitions to the new one, and the new one
//! carries on from the committed offsets. Nothing posted is lost.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wirestream_tests::{Options, Pipeline};

const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// Time to start the process again, and to fetch, process and commit once
/// the partitions are assigned.
const MARGIN: Duration = Duration::from_secs(4);

/// Posts one item every 25 ms until stopped; returns how many were accepted.
fn post_steadily(url: String, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<usize> {
    let accepted = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut n = 0;
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            let doc = json!({
                "uri": format!("urn:resume:{n}"), "version": "1", "language": "en",
                "headlines": [{"role": "main", "value": format!("Story number {n}")}],
                "bodies": [{"role": "main", "contenttype": "text/plain",
                            "value": format!("LONDON, March 1 - Story {n} of a steady feed, item {n}.")}],
            });
            let response = client
                .post(format!("{url}/v1/articles"))
                .json(&doc)
                .send()
                .await;
            if response.is_ok_and(|r| r.status() == 202) {
                accepted.fetch_add(1, Ordering::SeqCst);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        accepted.load(Ordering::SeqCst)
    })
}

async fn articles(pipeline: &Pipeline) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM articles")
        .fetch_one(&pipeline.pool)
        .await
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_worker_or_sink_resumes_within_its_session_timeout() {
    let consumer = format!(
        "[kafka.consumer]\n\"session.timeout.ms\" = \"{}\"\n\"heartbeat.interval.ms\" = \"1000\"",
        SESSION_TIMEOUT.as_millis()
    );
    let mut pipeline = Pipeline::start_with(Options {
        config_toml: Some(consumer),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let stop = Arc::new(AtomicBool::new(false));
    let poster = post_steadily(pipeline.ingest_url.clone(), stop.clone());

    for service in ["sink", "worker"] {
        let before = articles(&pipeline).await;
        pipeline
            .wait_for_count(
                "SELECT count(*) FROM articles",
                before + 40,
                Duration::from_secs(60),
            )
            .await;
        let killed = Instant::now();
        pipeline
            .restart(service)
            .await
            .expect("restarts after SIGKILL");
        let killed_at = articles(&pipeline).await;
        // Resumed: articles flow again, well past what was in flight.
        let seen = pipeline
            .wait_for_count(
                "SELECT count(*) FROM articles",
                killed_at + 40,
                (SESSION_TIMEOUT + MARGIN).saturating_sub(killed.elapsed()),
            )
            .await;
        let took = killed.elapsed();
        assert!(
            seen >= killed_at + 40,
            "the {service} did not resume within {:?} of its SIGKILL (at {seen}, {killed_at} when killed)\n{}",
            SESSION_TIMEOUT + MARGIN,
            pipeline.logs()
        );
        eprintln!(
            "{service}: SIGKILLed, restarted, resumed {:.1}s after the kill",
            took.as_secs_f64()
        );
    }

    stop.store(true, Ordering::SeqCst);
    let accepted = poster.await.expect("the poster") as i64;
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles",
            accepted,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(
        stored,
        accepted,
        "every accepted item stored\n{}",
        pipeline.logs()
    );
    pipeline.stop().await;
}
