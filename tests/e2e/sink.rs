//! The sink against the real broker and PostgreSQL: replays, crashes, poison
//! rows and a database that goes away.

use std::time::Duration;

use sqlx::Row as _;
use wirestream_model::PubStatus;
use wirestream_tests::articles::{article, story_set};
use wirestream_tests::pg_proxy::PgProxy;
use wirestream_tests::{Options, Pipeline, Stack};

fn sink_only(env: Vec<(&'static str, String)>) -> Options {
    Options {
        services: Some(&["sink"]),
        env,
        ..Options::default()
    }
}

/// Counts and a checksum of every stored row, to compare two states of the store.
async fn fingerprint(pipeline: &Pipeline) -> (i64, i64, String) {
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM articles),
                (SELECT count(*) FROM article_versions),
                (SELECT md5(string_agg(a::text, '|' ORDER BY provider, uri)) FROM articles a)
                || (SELECT md5(string_agg(v::text, '|' ORDER BY provider, uri, version)) FROM article_versions v)",
    )
    .fetch_one(&pipeline.pool)
    .await
    .expect("the fingerprint query");
    (row.get(0), row.get(1), row.get(2))
}

/// The sink's own count of records read from the articles topic.
async fn consumed(pipeline: &Pipeline) -> u64 {
    let url = format!("http://127.0.0.1:{}/metrics", pipeline.ports[2]);
    let text = reqwest::get(&url).await.map(|r| r.text()).ok();
    let text = match text {
        Some(body) => body.await.unwrap_or_default(),
        None => String::new(),
    };
    text.lines()
        .find(|l| l.starts_with("wirestream_sink_items_consumed_total{topic=\"articles\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

async fn wait_consumed(pipeline: &Pipeline, expected: u64, within: Duration) -> u64 {
    let started = std::time::Instant::now();
    loop {
        let n = consumed(pipeline).await;
        if n >= expected || started.elapsed() > within {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Issue 5's replay acceptance: the same 10,000 items three times, the second
/// time backwards (every version arriving before the older ones), the third
/// shuffled; the table ends as it was after one pass.
#[tokio::test(flavor = "multi_thread")]
async fn replaying_the_same_items_three_times_changes_nothing() {
    let pipeline = Pipeline::start_with(sink_only(vec![]))
        .await
        .expect("the sink starts");
    let mut items = story_set(8_772);
    items.truncate(10_000);
    let total = items.len() as i64;
    let distinct: i64 = {
        let mut keys: Vec<_> = items.iter().map(|a| a.uri.clone()).collect();
        keys.sort();
        keys.dedup();
        keys.len() as i64
    };

    pipeline.produce_articles(&items).await;
    let versions = pipeline
        .wait_for_count(
            "SELECT count(*) FROM article_versions",
            total,
            Duration::from_secs(180),
        )
        .await;
    assert_eq!(versions, total, "{}", pipeline.logs());
    let once = fingerprint(&pipeline).await;
    assert_eq!((once.0, once.1), (distinct, total));

    let mut backwards = items.clone();
    backwards.reverse();
    let mut shuffled = items.clone();
    // A fixed permutation: deterministic, and far from the original order.
    let n = shuffled.len();
    shuffled = (0..n).map(|i| items[(i * 7_919) % n].clone()).collect();
    pipeline.produce_articles(&backwards).await;
    pipeline.produce_articles(&shuffled).await;
    let read = wait_consumed(&pipeline, 3 * total as u64, Duration::from_secs(300)).await;
    assert_eq!(read, 3 * total as u64, "{}", pipeline.logs());

    let thrice = fingerprint(&pipeline).await;
    println!("after one pass: {once:?}\nafter three:    {thrice:?}");
    assert_eq!(thrice, once, "replays changed the store");
    pipeline.stop().await;
}

/// SIGKILL the sink twice while it writes, in both offset modes: no row is
/// lost, none is doubled, and in Postgres mode the stored offsets cover
/// every record exactly.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_sink_loses_and_doubles_nothing_with_kafka_offsets() {
    killed_sink("kafka").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_sink_loses_and_doubles_nothing_with_postgres_offsets() {
    killed_sink("postgres").await;
}

async fn killed_sink(mode: &str) {
    let env = vec![
        ("WIRESTREAM_SINK__OFFSETS", mode.to_string()),
        ("WIRESTREAM_SINK__BATCH_SIZE", "200".to_string()),
    ];
    // A killed member keeps its partitions until its session times out (the
    // classic group protocol): keep that short here.
    let consumer =
        "[kafka.consumer]\n\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"1000\"";
    // The sink starts only once every item is on the topic: were it running
    // while they are produced, it could keep up and be done before a kill.
    let options = Options {
        config_toml: Some(consumer.into()),
        services: Some(&[]),
        ..sink_only(env)
    };
    let mut pipeline = Pipeline::start_with(options)
        .await
        .expect("the topics and database are made");
    let items: Vec<_> = (0..12_000)
        .map(|n| article(n, 1, PubStatus::Usable))
        .collect();
    let total = items.len() as i64;
    pipeline.produce_articles(&items).await;
    pipeline.restart("sink").await.expect("the sink starts");

    // Kill it mid-stream, twice; the second time only after the restarted
    // sink has written again, so that each kill interrupts real work.
    let mut threshold = 1_500;
    for _ in 0..2 {
        let seen = pipeline
            .wait_for_count(
                "SELECT count(*) FROM articles",
                threshold,
                Duration::from_secs(180),
            )
            .await;
        assert!(
            seen >= threshold,
            "the sink stalled at {seen}\n{}",
            pipeline.logs()
        );
        assert!(seen < total, "the sink finished before it could be killed");
        pipeline
            .restart("sink")
            .await
            .expect("the sink restarts after SIGKILL");
        threshold = seen + 1_500;
    }
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM article_versions",
            total,
            Duration::from_secs(240),
        )
        .await;
    let (articles, versions, _) = fingerprint(&pipeline).await;
    println!("{mode} offsets: {articles} articles, {versions} versions of {total} sent");
    assert_eq!(
        (stored, articles, versions),
        (total, total, total),
        "{}",
        pipeline.logs()
    );
    let letters: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pipeline.pool)
        .await
        .unwrap();
    assert_eq!(letters, 0);
    if mode == "postgres" {
        let covered: i64 = sqlx::query_scalar::<_, Option<i64>>(
            "SELECT sum(next_offset)::int8 FROM sink_offsets WHERE topic = $1",
        )
        .bind(&pipeline.kafka.articles_topic)
        .fetch_one(&pipeline.pool)
        .await
        .unwrap()
        .unwrap_or(0);
        assert_eq!(covered, total, "the stored offsets cover every record once");
    }
    pipeline.stop().await;
}

/// A row PostgreSQL refuses (here a NUL character, which text cannot hold)
/// goes to the dead-letter topic with the database error; the rest of its
/// batch is stored and the partition moves on.
#[tokio::test(flavor = "multi_thread")]
async fn a_poison_row_is_dead_lettered_and_the_batch_goes_on() {
    let pipeline = Pipeline::start_with(sink_only(vec![]))
        .await
        .expect("the sink starts");
    let mut items: Vec<_> = (0..50).map(|n| article(n, 1, PubStatus::Usable)).collect();
    items[17].headline = "BROKEN \u{0} HEADLINE".into();
    pipeline.produce_articles(&items).await;
    let letters = pipeline
        .wait_for_count(
            "SELECT count(*) FROM dead_letters",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(letters, 1, "{}", pipeline.logs());
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 49, Duration::from_secs(30))
        .await;
    assert_eq!(stored, 49);
    let row = sqlx::query("SELECT stage, reason, detail, item_key FROM dead_letters")
        .fetch_one(&pipeline.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("stage"), "sink");
    assert_eq!(row.get::<String, _>("reason"), "rejected_by_database");
    assert!(
        row.get::<String, _>("detail").contains("0x00"),
        "the database error is kept"
    );
    assert_eq!(
        row.get::<Option<String>, _>("item_key"),
        Some(items[17].key())
    );
    pipeline.stop().await;
}

/// PostgreSQL goes away mid-stream: the sink stops consuming, reports not
/// ready, retries with backoff, and when the database returns everything is
/// stored, nothing lost.
#[tokio::test(flavor = "multi_thread")]
async fn the_sink_waits_for_postgres_and_loses_nothing() {
    let stack = Stack::from_env();
    let target = stack
        .database_url
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("127.0.0.1:15432");
    let proxy = PgProxy::start(target.to_owned())
        .await
        .expect("the proxy listens");
    // The harness makes the database; the sink reaches it through the proxy.
    let mut pipeline =
        Pipeline::start_with(sink_only(vec![("WIRESTREAM_RETRY__MAX", "1s".into())]))
            .await
            .expect("the sink starts");
    let url = proxy.url(&pipeline.database_url);
    pipeline.set_env("WIRESTREAM_DATABASE__URL", url);
    pipeline
        .restart("sink")
        .await
        .expect("the sink restarts behind the proxy");

    let first: Vec<_> = (0..500).map(|n| article(n, 1, PubStatus::Usable)).collect();
    pipeline.produce_articles(&first).await;
    assert_eq!(
        pipeline
            .wait_for_count(
                "SELECT count(*) FROM articles",
                500,
                Duration::from_secs(60)
            )
            .await,
        500
    );

    proxy.cut();
    let second: Vec<_> = (500..1_000)
        .map(|n| article(n, 1, PubStatus::Usable))
        .collect();
    pipeline.produce_articles(&second).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during: i64 = sqlx::query_scalar("SELECT count(*) FROM articles")
        .fetch_one(&pipeline.pool)
        .await
        .unwrap();
    assert_eq!(
        during, 500,
        "nothing can be written while the database is away"
    );
    let ready = reqwest::get(format!("http://127.0.0.1:{}/ready", pipeline.ports[2]))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "the sink reports it is not ready");

    proxy.restore();
    let after = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles",
            1_000,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(after, 1_000, "{}", pipeline.logs());
    pipeline.stop().await;
}
