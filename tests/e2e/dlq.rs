//! Dead letters are recoverable: `wirestream dlq` lists them and, after the
//! cause is fixed, replays them; the item is then stored exactly once.

use std::process::Command;
use std::time::Duration;

use wirestream_model::PubStatus;
use wirestream_tests::articles::article;
use wirestream_tests::{binary_path, Options, Pipeline};

fn wirestream(pipeline: &Pipeline, args: &[&str]) -> (bool, String) {
    let output = Command::new(binary_path("wirestream"))
        .args(args)
        .envs(pipeline.service_env())
        .output()
        .expect("wirestream runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_replayed_after_a_fix_is_stored_once() {
    let options = Options {
        services: Some(&["sink"]),
        ..Options::default()
    };
    let pipeline = Pipeline::start_with(options)
        .await
        .expect("the sink starts");
    // The fault: a constraint a DBA added refuses long headlines.
    sqlx::query("ALTER TABLE articles ADD CONSTRAINT headline_fits CHECK (length(headline) < 40)")
        .execute(&pipeline.pool)
        .await
        .expect("the constraint is added");
    let mut items: Vec<_> = (0..3).map(|n| article(n, 1, PubStatus::Usable)).collect();
    items[1].headline = "A HEADLINE FAR TOO LONG FOR THE CONSTRAINT A DBA ADDED".into();
    pipeline.produce_articles(&items).await;
    let letters = pipeline
        .wait_for_count(
            "SELECT count(*) FROM dead_letters",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(letters, 1, "{}", pipeline.logs());
    assert_eq!(
        pipeline
            .wait_for_count("SELECT count(*) FROM articles", 2, Duration::from_secs(30))
            .await,
        2
    );

    let (ok, listed) = wirestream(&pipeline, &["dlq", "list", "--pending"]);
    assert!(ok && listed.contains("rejected_by_database"), "{listed}");
    let id: i64 = sqlx::query_scalar("SELECT id FROM dead_letters")
        .fetch_one(&pipeline.pool)
        .await
        .expect("its id");
    let (ok, shown) = wirestream(&pipeline, &["dlq", "show", &id.to_string()]);
    assert!(
        ok && shown.contains("headline_fits") && shown.contains("FAR TOO LONG"),
        "the error and the original: {shown}"
    );

    // The fix, then the replay.
    sqlx::query("ALTER TABLE articles DROP CONSTRAINT headline_fits")
        .execute(&pipeline.pool)
        .await
        .expect("the constraint is dropped");
    let (ok, replayed) = wirestream(
        &pipeline,
        &["dlq", "replay", "--reason", "rejected_by_database"],
    );
    assert!(
        ok && replayed.contains("1 replayed, 0 failed"),
        "{replayed}"
    );
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM article_versions",
            3,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(stored, 3, "{}", pipeline.logs());

    // Replaying again sends nothing, and nothing is doubled.
    let (ok, again) = wirestream(&pipeline, &["dlq", "replay"]);
    assert!(ok && again.contains("nothing to replay"), "{again}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_versions),
                (SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL)",
    )
    .fetch_one(&pipeline.pool)
    .await
    .expect("counts");
    println!("after replay: {counts:?} (articles, versions, replayed dead letters)");
    assert_eq!(counts, (3, 3, 1));
    let headline: String =
        sqlx::query_scalar("SELECT headline FROM articles WHERE uri = 'urn:test:1'")
            .fetch_one(&pipeline.pool)
            .await
            .expect("the replayed row");
    assert_eq!(headline, items[1].headline);
    pipeline.stop().await;
}
