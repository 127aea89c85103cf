//! Start-up and liveness: a service that cannot start says what and where
//! in one line and exits non-zero at once; SIGTERM stops it in every state;
//! a stage stuck on a lock flips `/health`, and one held past `lock_timeout`
//! retries rather than waiting forever.

use std::process::Stdio;
use std::time::{Duration, Instant};

use wirestream_model::PubStatus;
use wirestream_tests::articles::article;
use wirestream_tests::probe::health;
use wirestream_tests::{binary_path, Options, Pipeline};

/// Starts a service binary with the pipeline's environment and `extra`.
pub(crate) fn spawn(
    pipeline: &Pipeline,
    binary: &str,
    extra: &[(&str, String)],
) -> tokio::process::Child {
    tokio::process::Command::new(binary_path(binary))
        .envs(pipeline.service_env())
        .envs(extra.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

/// Waits at most `within` for `child` to exit; its code and stderr.
pub(crate) async fn exit_of(
    mut child: tokio::process::Child,
    within: Duration,
) -> (Option<i32>, String) {
    use tokio::io::AsyncReadExt as _;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let status = tokio::time::timeout(within, child.wait()).await;
    let mut text = String::new();
    let code = match status {
        Ok(status) => status.expect("waits").code(),
        Err(_) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            Some(-1)
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), stderr.read_to_string(&mut text)).await;
    (code, text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_port_is_a_clear_error_and_a_quick_exit() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    for (binary, port) in [
        ("wirestream-ingest", pipeline.ports[0]),
        ("wirestream-worker", pipeline.ports[1]),
        ("wirestream-sink", pipeline.ports[2]),
    ] {
        let started = Instant::now();
        let (code, stderr) = exit_of(spawn(&pipeline, binary, &[]), Duration::from_secs(5)).await;
        assert_eq!(code, Some(1), "{binary} exits 1 within 5 s: {stderr}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let line = stderr.lines().last().unwrap_or_default();
        assert!(
            line.contains(&format!("127.0.0.1:{port}")) && line.contains(binary),
            "one line naming the address: {stderr}"
        );
    }
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn start_up_failures_exit_and_sigterm_stops_a_start() {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&[]),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let port = || format!("127.0.0.1:{}", wirestream_tests::unused_port());
    // Nothing listens on port 1: the migration cannot run.
    let no_database = (
        "WIRESTREAM_DATABASE__URL",
        "postgres://wirestream@127.0.0.1:1/none".to_string(),
    );

    // A typo in the dedup section is refused at start.
    let (code, stderr) = exit_of(
        spawn(
            &pipeline,
            "wirestream-worker",
            &[
                ("WIRESTREAM_WORKER__LISTEN", port()),
                ("WIRESTREAM_WORKER__DEDUP__HORIZN", "1days".into()),
            ],
        ),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("worker.dedup") && stderr.contains("horizn"),
        "{stderr}"
    );

    // The database does not answer within startup.timeout: exit 1 naming it.
    let (code, stderr) = exit_of(
        spawn(
            &pipeline,
            "wirestream-sink",
            &[
                ("WIRESTREAM_SINK__LISTEN", port()),
                no_database.clone(),
                ("WIRESTREAM_STARTUP__TIMEOUT", "2s".into()),
            ],
        ),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("127.0.0.1:1"),
        "names the database: {stderr}"
    );

    // SIGTERM while the start waits for the database: a prompt, clean exit.
    let listen = port();
    let child = spawn(
        &pipeline,
        "wirestream-worker",
        &[("WIRESTREAM_WORKER__LISTEN", listen.clone()), no_database],
    );
    let ops_port: u16 = listen
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let deadline = Instant::now() + Duration::from_secs(10);
    while health(ops_port).await != 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().expect("running");
    let started = Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    let (code, stderr) = exit_of(child, Duration::from_secs(5)).await;
    assert_eq!(code, Some(0), "stops cleanly on SIGTERM: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(5));
    pipeline.stop().await;
}

/// Holds a row lock on `uri`'s article from a test connection until dropped.
async fn hold_lock(pipeline: &Pipeline, uri: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut holder = pipeline.pool.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM articles WHERE uri = $1 FOR UPDATE")
        .bind(uri)
        .execute(&mut *holder)
        .await
        .expect("the row is locked");
    holder
}

async fn stored_version(pipeline: &Pipeline, uri: &str) -> i64 {
    sqlx::query_scalar("SELECT version FROM articles WHERE uri = $1")
        .bind(uri)
        .fetch_optional(&pipeline.pool)
        .await
        .expect("a query")
        .unwrap_or(0)
}

/// A sink with `lock_timeout`, an article stored, its row locked by a test
/// connection, and an update of it sent: the sink's write now waits on the lock.
async fn sink_behind_a_lock(
    lock_timeout: &str,
) -> (Pipeline, sqlx::Transaction<'static, sqlx::Postgres>) {
    let pipeline = Pipeline::start_with(Options {
        services: Some(&["sink"]),
        env: vec![
            ("WIRESTREAM_DATABASE__LOCK_TIMEOUT", lock_timeout.into()),
            ("WIRESTREAM_SINK__STALL_AFTER", "2s".into()),
        ],
        ..Options::default()
    })
    .await
    .expect("the sink starts");
    pipeline
        .produce_articles(&[article(1, 1, PubStatus::Usable)])
        .await;
    pipeline
        .wait_for_count("SELECT count(*) FROM articles", 1, Duration::from_secs(20))
        .await;
    let holder = hold_lock(&pipeline, "urn:test:1").await;
    pipeline
        .produce_articles(&[article(1, 2, PubStatus::Usable)])
        .await;
    (pipeline, holder)
}

/// Waits up to 30 s for the update behind the lock to be stored.
async fn wait_for_the_update(pipeline: &Pipeline) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while stored_version(pipeline, "urn:test:1").await != 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        stored_version(pipeline, "urn:test:1").await,
        2,
        "{}",
        pipeline.logs()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_stuck_on_a_lock_fails_health_until_it_moves() {
    // No timeout: the write waits on the lock for as long as it is held.
    let (pipeline, holder) = sink_behind_a_lock("0s").await;
    let sink = pipeline.ports[2];
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(sink).await == 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        health(sink).await,
        503,
        "a stuck stage fails /health\n{}",
        pipeline.logs()
    );
    holder.rollback().await.expect("the lock goes");
    wait_for_the_update(&pipeline).await;
    assert_eq!(health(sink).await, 200, "healthy again once it moved");
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_held_past_lock_timeout_is_retried_and_the_write_lands() {
    let (pipeline, holder) = sink_behind_a_lock("300ms").await;
    let sink = pipeline.ports[2];
    // Held well past the lock timeout: the sink gives up, retries, and stays alive.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pipeline.logs().contains("lock timeout") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        pipeline.logs().contains("lock timeout"),
        "{}",
        pipeline.logs()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(health(sink).await, 200, "retrying is progress");
    assert_eq!(stored_version(&pipeline, "urn:test:1").await, 1);
    holder.rollback().await.expect("the lock goes");
    wait_for_the_update(&pipeline).await;
    let letters: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pipeline.pool)
        .await
        .expect("a count");
    assert_eq!(letters, 0, "a lock is not the data's fault");
    pipeline.stop().await;
}
