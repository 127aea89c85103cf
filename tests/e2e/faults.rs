//! Issue 8, the fault driver: over 20,000 known items (see
//! `tests/support/items.rs`) fed through ingest's HTTP API while a test
//! breaks one thing, then PostgreSQL compared with the expected outcome:
//! every item stored, duplicate, killed or dead-lettered exactly once,
//! equal counts, equal checksum.

use std::time::{Duration, Instant};

use wirestream_tests::driver::{compare, settle, tail, Feeder};
use wirestream_tests::items::{prepare, DEDUP_TOML};
use wirestream_tests::postgres::Postgres;
use wirestream_tests::{Kafka, Options, Pipeline};

mod cluster;

/// Items a second the feeder sends: the stream lasts about ten seconds,
/// the pipeline takes about twenty to work through it.
const RATE: f64 = 2_000.0;
/// The drain deadline the harness gives the services (`shutdown.grace`).
const GRACE: Duration = Duration::from_secs(5);

/// A killed member keeps its partitions until its session times out (the
/// classic group protocol): keep that short, so that the scenarios spend
/// their time on work rather than waiting.
const CONSUMER: &str =
    "[kafka.consumer]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"1000\"";

fn options() -> Options {
    Options {
        config_toml: Some(format!("{CONSUMER}\n{DEDUP_TOML}")),
        ..Options::default()
    }
}

/// One scenario: the pipeline, the feeder already sending, and the clock.
struct Run {
    name: &'static str,
    pipeline: Pipeline,
    feeder: Feeder,
    started: Instant,
    /// What the scenario did, for the summary line.
    notes: Vec<String>,
}

impl Run {
    /// Starts the pipeline (and `extra_workers` more workers in its group),
    /// then the feeder.
    async fn start(name: &'static str, options: Options, extra_workers: usize) -> Run {
        Run::start_at(name, options, extra_workers, RATE).await
    }

    /// [`Run::start`] with the feeder at `rate` items a second.
    async fn start_at(
        name: &'static str,
        options: Options,
        extra_workers: usize,
        rate: f64,
    ) -> Run {
        prepare().await;
        let mut pipeline = Pipeline::start_with(options)
            .await
            .expect("the pipeline starts");
        for _ in 0..extra_workers {
            pipeline
                .add_instance("worker")
                .await
                .expect("another worker starts");
        }
        let feeder = Feeder::start(&pipeline.ingest_url, rate);
        Run {
            name,
            pipeline,
            feeder,
            started: Instant::now(),
            notes: Vec::new(),
        }
    }

    /// Waits until `n` articles are stored, and checks that the stream is
    /// not over yet, so that the fault that follows interrupts real work.
    async fn when_stored(&self, n: i64) -> i64 {
        let seen = self
            .pipeline
            .wait_for_count("SELECT count(*) FROM articles", n, Duration::from_secs(120))
            .await;
        assert!(
            seen >= n,
            "{}: the pipeline stalled at {seen} articles\n{}",
            self.name,
            tail(&self.pipeline.logs(), 20_000)
        );
        let total: usize = self.feeder.set.expected.verdicts.values().sum();
        assert!(
            seen < total as i64,
            "{}: the stream was over before the fault",
            self.name
        );
        seen
    }

    /// Waits until the feeder has `n` items accepted, and checks that it
    /// still has items to send, so that a fault aimed at ingest's answers
    /// meets requests. ([`Run::when_stored`] follows the pipeline, which on
    /// a loaded machine can lag so far that the feeder is already done.)
    async fn when_accepted(&self, n: usize) -> usize {
        let reached = self.feeder.wait_accepted(n, Duration::from_secs(120)).await;
        let accepted = self.feeder.accepted();
        assert!(
            reached,
            "{}: ingest stalled at {accepted} accepted items\n{}",
            self.name,
            tail(&self.pipeline.log_of("ingest"), 20_000)
        );
        assert!(
            accepted < self.feeder.set.expected.items,
            "{}: the feeder was done before the fault",
            self.name
        );
        accepted
    }

    fn note(&mut self, what: String) {
        eprintln!(
            "{}: {what} at {:.1}s",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
        self.notes.push(what);
    }

    /// SIGTERMs an instance and checks it drained and exited 0 within the deadline.
    async fn terminate(&mut self, instance: &str) {
        let exit = self
            .pipeline
            .terminate(instance, GRACE + Duration::from_secs(10))
            .await
            .expect("SIGTERM");
        let log = self.pipeline.log_of(instance);
        assert_eq!(
            exit.code,
            Some(0),
            "{}: {instance} did not exit 0 after SIGTERM ({exit:?})\n{}",
            self.name,
            tail(&log, 20_000)
        );
        assert!(
            exit.took <= GRACE + Duration::from_secs(1),
            "{}: {instance} took {:?} to stop, the deadline is {GRACE:?}",
            self.name,
            exit.took
        );
        // ingest drains its requests; worker and sink their batch.
        assert!(
            !log.contains("exiting with work undrained"),
            "{}: {instance} gave up draining\n{}",
            self.name,
            tail(&log, 20_000)
        );
        self.note(format!(
            "{instance} SIGTERMed, exit 0 in {:.2}s",
            exit.took.as_secs_f64()
        ));
    }

    /// Waits for every item, compares, and stops the pipeline. Returns the
    /// number of records in the raw topic (more than the items when some
    /// were written twice).
    async fn finish(self) -> i64 {
        let Run {
            name,
            pipeline,
            feeder,
            started,
            notes,
        } = self;
        let progress = feeder.progress.clone();
        let fed = feeder.finish().await.unwrap_or_else(|error| {
            panic!(
                "{name}: the feeder failed: {error:#}\n{}",
                tail(&pipeline.logs(), 20_000)
            )
        });
        let resent = progress.resent.load(std::sync::atomic::Ordering::SeqCst);
        let observed = settle(&pipeline, Duration::from_secs(180)).await;
        let raw = pipeline.topic_messages(&pipeline.kafka.raw_topic);
        let label = format!(
            "{name} [{}; fed in {:.1}s; {raw} raw records]",
            notes.join("; "),
            fed.as_secs_f64()
        );
        compare(&label, &pipeline, &observed, resent, started.elapsed()).await;
        pipeline.stop().await;
        raw
    }
}

/// 1. ingest SIGKILLed mid-stream and started again. The feeder got no 202
/// for the batches in flight and sends them again: items already written
/// to the raw topic arrive twice, and the worker treats them as replays.
#[tokio::test(flavor = "multi_thread")]
async fn faults_ingest_sigkill_mid_stream() {
    let mut run = Run::start("ingest SIGKILL", options(), 0).await;
    assert!(
        run.feeder
            .wait_accepted(6_000, Duration::from_secs(60))
            .await
    );
    run.pipeline.kill("ingest").await;
    run.note(format!(
        "ingest SIGKILLed after {} accepted",
        run.feeder.accepted()
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    run.pipeline
        .start_instance("ingest")
        .await
        .expect("ingest starts again");
    assert!(run.feeder.resent() > 0, "no batch had to be sent again");
    run.finish().await;
}

/// 2. Two workers in one group; one is SIGKILLed mid-stream, then started
/// again. Its partitions wait for the session timeout, move to the other
/// worker, and the uncommitted batches are processed again.
#[tokio::test(flavor = "multi_thread")]
async fn faults_worker_sigkill_with_two_workers() {
    let mut run = Run::start("worker SIGKILL (2 workers)", options(), 1).await;
    let seen = run.when_stored(5_000).await;
    run.pipeline.kill("worker").await;
    run.note(format!("worker 1 of 2 SIGKILLed at {seen} articles"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    run.pipeline
        .start_instance("worker")
        .await
        .expect("the worker starts again");
    run.finish().await;
}

/// 3. The sink SIGKILLed mid-stream (Kafka offsets), then started again.
#[tokio::test(flavor = "multi_thread")]
async fn faults_sink_sigkill_mid_stream() {
    let mut run = Run::start("sink SIGKILL", options(), 0).await;
    let seen = run.when_stored(6_000).await;
    run.pipeline
        .restart("sink")
        .await
        .expect("the sink restarts");
    run.note(format!("sink SIGKILLed at {seen} articles and restarted"));
    run.finish().await;
}

/// 4. The broker (a private Apache Kafka node) SIGKILLed for three
/// seconds while ingest is still taking items and worker and sink are busy,
/// then started again: all three reconnect and carry on.
#[tokio::test(flavor = "multi_thread")]
async fn faults_broker_restart_mid_stream() {
    let mut kafka = Kafka::new().expect("a private broker");
    kafka.start().await.expect("the broker starts");
    let mut run = Run::start(
        "broker restart",
        Options {
            brokers: Some(kafka.brokers()),
            ..options()
        },
        0,
    )
    .await;
    assert!(
        run.feeder
            .wait_accepted(10_000, Duration::from_secs(60))
            .await
    );
    run.when_stored(1_000).await;
    kafka.stop().await;
    run.note(format!(
        "broker stopped after {} accepted",
        run.feeder.accepted()
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    kafka.start().await.expect("the broker starts again");
    run.note("broker started again".into());
    run.finish().await;
    kafka.stop().await;
}

/// 5. PostgreSQL (a private cluster) stopped mid-stream with `pg_ctl stop
/// -m fast` and started again three seconds later: every connection of
/// worker (dedup state) and sink breaks; both wait and carry on.
#[tokio::test(flavor = "multi_thread")]
async fn faults_postgres_restart_mid_stream() {
    let postgres = tokio::task::spawn_blocking(Postgres::start)
        .await
        .expect("initdb")
        .expect("a private PostgreSQL");
    let mut run = Run::start(
        "PostgreSQL restart",
        Options {
            database_url: Some(postgres.url()),
            ..options()
        },
        0,
    )
    .await;
    let seen = run.when_stored(5_000).await;
    let postgres = tokio::task::spawn_blocking(move || postgres.stop().map(|()| postgres))
        .await
        .expect("pg_ctl")
        .expect("PostgreSQL stops");
    run.note(format!("PostgreSQL stopped (-m fast) at {seen} articles"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let postgres = tokio::task::spawn_blocking(move || postgres.start_again().map(|()| postgres))
        .await
        .expect("pg_ctl")
        .expect("PostgreSQL starts again");
    run.note("PostgreSQL started again".into());
    run.finish().await;
    drop(postgres);
}

/// 6. A stalled PostgreSQL: another session holds `ACCESS EXCLUSIVE` on
/// `articles` for eight seconds (the sink's batch deadline is 20 ms), then
/// commits. The sink's writes wait, nothing fails, nothing is lost.
#[tokio::test(flavor = "multi_thread")]
async fn faults_postgres_stalled_by_a_lock() {
    use sqlx::Connection as _;
    let mut run = Run::start("PostgreSQL stalled", options(), 0).await;
    let seen = run.when_stored(5_000).await;
    let mut locker = sqlx::PgConnection::connect(&run.pipeline.database_url)
        .await
        .expect("a session for the lock");
    let mut tx = locker.begin().await.expect("BEGIN");
    sqlx::query("LOCK TABLE articles IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .expect("the lock");
    run.note(format!(
        "articles locked ACCESS EXCLUSIVE at {seen} articles"
    ));
    tokio::time::sleep(Duration::from_secs(3)).await;
    // The sink's write waits on the lock (it is not merely idle).
    let waiting: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(&run.pipeline.pool)
    .await
    .expect("pg_stat_activity");
    assert!(waiting >= 1, "nothing waited on the lock");
    run.note(format!("{waiting} session(s) waiting on it"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    tx.commit().await.expect("COMMIT");
    run.note("lock released after 8s".into());
    run.finish().await;
}

/// 7. A rebalance: two workers run; a third joins mid-stream, and leaves
/// (SIGTERM) while items still flow.
#[tokio::test(flavor = "multi_thread")]
async fn faults_rebalance_as_a_third_worker_joins_and_leaves() {
    let mut run = Run::start("rebalance", options(), 1).await;
    run.when_stored(4_000).await;
    let third = run
        .pipeline
        .add_instance("worker")
        .await
        .expect("a third worker starts");
    run.note(format!("{third} joined"));
    run.when_stored(10_000).await;
    run.terminate(&third).await;
    run.finish().await;
}

/// 8. SIGTERM of each service while busy: it drains its in-flight work and
/// exits 0 within the deadline; started again, it resumes where it left off.
#[tokio::test(flavor = "multi_thread")]
async fn faults_sigterm_each_service_while_busy() {
    let mut run = Run::start("SIGTERM each service", options(), 0).await;
    assert!(
        run.feeder
            .wait_accepted(4_000, Duration::from_secs(60))
            .await
    );
    run.terminate("ingest").await;
    run.pipeline
        .start_instance("ingest")
        .await
        .expect("ingest starts again");
    run.when_stored(5_000).await;
    run.terminate("worker").await;
    run.pipeline
        .start_instance("worker")
        .await
        .expect("the worker starts again");
    run.when_stored(10_000).await;
    run.terminate("sink").await;
    run.pipeline
        .start_instance("sink")
        .await
        .expect("the sink starts again");
    let items = run.feeder.set.expected.items as i64;
    let raw = run.finish().await;
    // A drained ingest answered every request it wrote: what the feeder
    // had to send again was never written, so nothing is in the topic twice.
    assert_eq!(raw, items, "raw records after a SIGTERM of ingest");
}
