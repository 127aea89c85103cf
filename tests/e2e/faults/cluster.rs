//! The fault driver on a three-node Apache Kafka cluster (KRaft, each node
//! broker and controller): topics with three replicas and
//! `min.insync.replicas` 2, producers with `acks=all`. A write is
//! acknowledged only once two replicas hold it, so losing one node loses
//! nothing, and losing two must stop ingest from saying "accepted".

use std::time::Duration;

use wirestream_tests::{Kafka, Options};

use super::{options, Run};

/// ingest gives up on an acknowledgement after this long and answers 503,
/// so that the feeder hears "later" quickly while the cluster cannot write.
const ACK_TIMEOUT: &str = "ack_timeout = \"3s\"";

async fn cluster_run(name: &'static str, rate: f64) -> (Kafka, Run) {
    let mut kafka = Kafka::cluster(3).expect("three nodes");
    kafka.start().await.expect("the cluster starts");
    let run = Run::start_at(
        name,
        Options {
            brokers: Some(kafka.brokers()),
            replication: Some((3, 2)),
            ingest_toml: Some(ACK_TIMEOUT.into()),
            ..options()
        },
        0,
        rate,
    )
    .await;
    (kafka, run)
}

fn topics(run: &Run) -> [String; 3] {
    let k = &run.pipeline.kafka;
    [
        k.raw_topic.clone(),
        k.articles_topic.clone(),
        k.dead_letter_topic.clone(),
    ]
}

/// 9. The node that leads the most partitions SIGKILLed mid-stream, then
/// started again: leadership moves to the in-sync replicas, clients follow.
#[tokio::test(flavor = "multi_thread")]
async fn faults_cluster_leader_sigkill() {
    let (mut kafka, mut run) = cluster_run("cluster: leader SIGKILL", 1_000.0).await;
    let seen = run.when_stored(3_000).await;
    let topics = topics(&run);
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let leader = kafka.busiest_leader(&topics).expect("a leader");
    kafka.kill_node(leader).await;
    run.note(format!(
        "node {leader} (the busiest leader) SIGKILLed at {seen} articles"
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    kafka
        .start_node(leader)
        .await
        .expect("the node starts again");
    run.note(format!("node {leader} started again"));
    run.finish().await;
    kafka.stop().await;
}

/// 10. A rolling restart: each node in turn SIGTERMed (a clean shutdown)
/// and started again, the next only once every replica is back in sync.
#[tokio::test(flavor = "multi_thread")]
async fn faults_cluster_rolling_restart() {
    let (mut kafka, mut run) = cluster_run("cluster: rolling restart", 400.0).await;
    run.when_stored(1_000).await;
    let topics = topics(&run);
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    for id in kafka.ids() {
        kafka
            .wait_in_sync(&topics, Duration::from_secs(120))
            .await
            .expect("replicas in sync before the next restart");
        kafka.terminate_node(id, Duration::from_secs(60)).await;
        kafka.start_node(id).await.expect("the node starts again");
        run.note(format!("node {id} restarted"));
    }
    run.finish().await;
    kafka.stop().await;
}

/// 11. Two of three nodes stopped: no write can reach two replicas, so
/// ingest must answer 503, never 202; once they are back it accepts again,
/// and nothing it accepted is lost or doubled.
#[tokio::test(flavor = "multi_thread")]
async fn faults_cluster_two_nodes_down() {
    let (mut kafka, mut run) = cluster_run("cluster: two nodes down", 1_000.0).await;
    // Timed by the feeder, not by what is stored: the fault must meet a
    // feeder that is still sending, however far the pipeline lags.
    let seen = run.when_accepted(5_000).await;
    let down = [1, 2];
    // One right after the other (SIGKILL, milliseconds apart), so that the
    // quorum has no time to shrink the in-sync sets in between.
    for id in down {
        kafka.kill_node(id).await;
    }
    run.note(format!("nodes {down:?} SIGKILLed at {seen} accepted items"));
    // Requests already acknowledged may still be answering; after that,
    // nothing can be acknowledged.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let accepted = run.feeder.accepted();
    let unavailable = run.feeder.unavailable();
    let started = std::time::Instant::now();
    // At least eight seconds down, and three 503s heard.
    while run.feeder.unavailable() < unavailable + 3 || started.elapsed() < Duration::from_secs(8) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "ingest did not answer 503 while two of three nodes were down\n{}",
            wirestream_tests::driver::tail(&run.pipeline.log_of("ingest"), 4_000)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        run.feeder.accepted(),
        accepted,
        "ingest answered 202 for writes that could not be made durable"
    );
    run.note(format!(
        "ingest answered 503 {} times, 202 none",
        run.feeder.unavailable() - unavailable
    ));
    for id in down {
        kafka.start_node(id).await.expect("the node starts again");
    }
    run.note("both nodes started again".into());
    run.finish().await;
    kafka.stop().await;
}
