//! Database tests: each runs in a fresh database migrated from empty
//! (`make test` points DATABASE_URL at the local stack's server).

use chrono::Utc;
use sqlx::{PgPool, Row as _};
use wirestream_dedup::Deduplicator;
use wirestream_model::{
    fixtures, Article, DeadLetter, Original, PubStatus, Reason, Stage, Verdict,
};
use wirestream_store::{write_articles, write_dead_letters, PgLedger};

fn article(uri: &str, version: u64, pubstatus: PubStatus, body: &str) -> Article {
    let mut a = fixtures::article(uri, &format!("Headline of {uri}"), body);
    a.version = version;
    a.pubstatus = pubstatus;
    if pubstatus == PubStatus::Canceled {
        a.verdict = Verdict::Kill;
    }
    a.tickers = vec!["BAC".into()];
    a
}

async fn snapshot(pool: &PgPool) -> Vec<(String, i64, String, String, String, bool)> {
    sqlx::query("SELECT uri, version, pubstatus, verdict, body, killed_at IS NOT NULL FROM articles ORDER BY uri")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn version_rules_hold_whatever_the_order(pool: PgPool) {
    let v1 = article("a", 1, PubStatus::Usable, "first take");
    let v2 = article("a", 2, PubStatus::Usable, "the full story");
    let v3 = article("a", 3, PubStatus::Canceled, "");
    let other = article("b", 1, PubStatus::Usable, "another story");

    write_articles(&pool, &[v2.clone(), other.clone()])
        .await
        .unwrap();
    write_articles(&pool, std::slice::from_ref(&v1))
        .await
        .unwrap(); // lower version: ignored
    write_articles(&pool, std::slice::from_ref(&v2))
        .await
        .unwrap(); // same version: no-op
    let before_kill = snapshot(&pool).await;
    assert_eq!(before_kill[0].1, 2);
    assert_eq!(before_kill[0].4, "the full story");

    write_articles(&pool, &[v3.clone(), v1.clone()])
        .await
        .unwrap();
    let after = snapshot(&pool).await;
    assert_eq!(after[0].2, "canceled");
    assert!(after[0].5, "killed_at is set");
    assert_eq!(
        after[0].4, "the full story",
        "a kill without text keeps the story's text"
    );

    // Every version is kept once in the history.
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM article_versions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(versions, 4);

    // A replay of everything, in another order, changes nothing.
    write_articles(&pool, &[other, v3, v2, v1]).await.unwrap();
    assert_eq!(snapshot(&pool).await, after);
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM visible_articles")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(visible, 1);
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn one_batch_may_hold_several_versions_of_an_item(pool: PgPool) {
    let batch = [
        article("a", 1, PubStatus::Usable, "one"),
        article("a", 3, PubStatus::Usable, "three"),
        article("a", 2, PubStatus::Usable, "two"),
    ];
    write_articles(&pool, &batch).await.unwrap();
    assert_eq!(snapshot(&pool).await[0].4, "three");
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn search_uses_the_language_of_the_article(pool: PgPool) {
    let mut fr = article(
        "fr",
        1,
        PubStatus::Usable,
        "Les responsables américains ont déclaré que la Russie avait demandé du matériel.",
    );
    fr.language = Some("fr".into());
    write_articles(&pool, &[fr]).await.unwrap();
    // French stemming: "déclarait" and "déclaré" share a stem.
    let hits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM articles WHERE search @@ plainto_tsquery(wirestream_regconfig('fr'), 'responsable déclarait')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(hits, 1);
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn dead_letters_are_stored_once(pool: PgPool) {
    let letter = |uri: &str| {
        let mut letter = DeadLetter::new(
            Stage::Worker,
            Reason::EmptyArticle,
            "no text",
            Original::from_bytes(b"{}"),
        );
        letter.key = Some(format!("reuters\u{1f}{uri}"));
        letter
    };
    let batch = vec![
        ("raw/0/7".to_string(), letter("a")),
        ("raw/0/8".to_string(), letter("b")),
    ];
    write_dead_letters(&pool, &batch).await.unwrap();
    // A replay, and the same item re-sent (read at another offset), change nothing.
    write_dead_letters(&pool, &batch).await.unwrap();
    write_dead_letters(&pool, &[("raw/1/40".to_string(), letter("a"))])
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM dead_letters")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn two_workers_racing_on_one_copy_get_one_original(pool: PgPool) {
    // Two ledgers on one database, as two worker replicas, each with a copy
    // of the same story under a different id, decided at the same instant.
    let mut first = Deduplicator::new(PgLedger::new(pool.clone()));
    let mut second = Deduplicator::new(PgLedger::new(pool.clone()));
    let mut a = vec![article("copy-a", 1, PubStatus::Usable, "same words")];
    let mut b = vec![article("copy-b", 1, PubStatus::Usable, "same words")];
    let (ra, rb) = tokio::join!(first.decide(&mut a), second.decide(&mut b));
    ra.unwrap();
    rb.unwrap();
    let mut verdicts = [a[0].verdict, b[0].verdict];
    verdicts.sort_by_key(|v| v.as_str());
    assert_eq!(verdicts, [Verdict::Duplicate, Verdict::New]);
    let duplicate = if a[0].verdict == Verdict::Duplicate {
        &a[0]
    } else {
        &b[0]
    };
    let original = if a[0].verdict == Verdict::New {
        &a[0]
    } else {
        &b[0]
    };
    assert_eq!(
        duplicate.duplicate_of.as_deref(),
        Some(original.uri.as_str())
    );

    // A replay of the duplicate, by either worker, gets the same decision.
    let mut replay = vec![duplicate.clone()];
    replay[0].verdict = Verdict::New;
    first.decide(&mut replay).await.unwrap();
    assert_eq!(replay[0].verdict, Verdict::Duplicate);
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM dedup_decisions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(recorded, 2);
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn two_workers_racing_on_near_copies_get_one_original(pool: PgPool) {
    // Reuters-21578 #1: a first take (two paragraphs) and the full story,
    // different hashes, decided at the same instant by two replicas.
    let p1 = "Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought since early January and improving prospects for the coming temporao, although normal humidity levels have not been restored, Comissaria Smith said in its weekly review.";
    let p2 = "The dry period means the temporao will be late this year.";
    let p3 = "Arrivals for the week ended February 22 were 155,221 bags of 60 kilos making a cumulative total for the season of 5.93 mln against 5.81 at the same stage last year.";
    let near = |uri: &str, body: String| {
        let mut a = article(uri, 1, PubStatus::Usable, &body);
        a.headline = "BAHIA COCOA REVIEW".into();
        a.tickers.clear();
        a.content_hash = wirestream_normalize::content_hash(&a.headline, &body);
        a
    };
    // Each round tells another story: every word carries the round's letter.
    let mark = |text: &str, letter: char| {
        text.split(' ')
            .map(|w| format!("{w}{letter}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (round, letter) in ['a', 'b', 'c', 'd', 'e'].into_iter().enumerate() {
        let (p1, p2, p3) = (mark(p1, letter), mark(p2, letter), mark(p3, letter));
        let (ua, ub) = (format!("take-{round}"), format!("full-{round}"));
        let mut first = Deduplicator::new(PgLedger::new(pool.clone()));
        let mut second = Deduplicator::new(PgLedger::new(pool.clone()));
        let mut a = vec![near(&ua, format!("{p1}\n\n{p2}"))];
        let mut b = vec![near(&ub, format!("{p1}\n\n{p2}\n\n{p3}"))];
        let (ra, rb) = tokio::join!(first.decide(&mut a), second.decide(&mut b));
        ra.unwrap();
        rb.unwrap();
        let mut verdicts = [a[0].verdict, b[0].verdict];
        verdicts.sort_by_key(|v| v.as_str());
        assert_eq!(
            verdicts,
            [Verdict::Duplicate, Verdict::New],
            "round {round}"
        );
        let (dup, orig) = if a[0].verdict == Verdict::Duplicate {
            (&a[0], &b[0])
        } else {
            (&b[0], &a[0])
        };
        assert_eq!(dup.duplicate_of.as_deref(), Some(orig.uri.as_str()));
        assert!(dup.similarity.is_some_and(|s| (0.85..=1.0).contains(&s)));

        // A replay keeps its first decision.
        let mut replay = vec![dup.clone()];
        replay[0].verdict = Verdict::New;
        second.decide(&mut replay).await.unwrap();
        assert_eq!(replay[0].duplicate_of, dup.duplicate_of);
    }
    let indexed: i64 = sqlx::query_scalar("SELECT count(*) FROM dedup_sketches")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(indexed, 10);
    // The horizon: everything is older than a cutoff in the future.
    let mut ledger = PgLedger::new(pool.clone());
    let gone =
        wirestream_dedup::Ledger::expire(&mut ledger, Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap();
    assert_eq!(gone, 10);
    let bands: i64 = sqlx::query_scalar("SELECT count(*) FROM dedup_bands")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(bands, 0);
}
