//! The least-privilege roles of migrations/*_roles.sql: each service's role
//! runs the store's real functions for its job, and nothing else. The test
//! database's owner (a superuser) plays each role with `SET ROLE` on every
//! connection, which PostgreSQL checks exactly as for a member logging in.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor as _, PgPool};
use wirestream_dedup::{DedupConfig, Deduplicator};
use wirestream_model::{fixtures, DeadLetter, Original, Reason, Stage};
use wirestream_store::{
    find_dead_letters, flush_search_index, load_offsets, mark_replayed, write_batch,
    DeadLetterFilter, OffsetCommit, PartitionOffset, PgLedger,
};

/// A pool on the test database whose connections act as `role`.
async fn as_role(owner: &PgPool, role: &'static str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                conn.execute(format!("SET ROLE {role}").as_str()).await?;
                Ok(())
            })
        })
        .connect_with((*owner.connect_options()).clone())
        .await
        .expect("a pool")
}

/// Runs `sql` and says whether PostgreSQL refused it for want of a privilege.
async fn refused(pool: &PgPool, sql: &str) -> bool {
    match sqlx::query(sql).execute(pool).await {
        Ok(_) => false,
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42501") => true,
        Err(other) => panic!("{sql}: not a permission error: {other}"),
    }
}

fn letter() -> (String, DeadLetter) {
    (
        "raw/0/1".to_string(),
        DeadLetter::new(
            Stage::Worker,
            Reason::EmptyArticle,
            "no text",
            Original::from_bytes(b"{}"),
        ),
    )
}

/// Writes an article and a dead letter as the owner.
async fn seed(owner: &PgPool) {
    let article = fixtures::article("urn:seed", "Seeded", "Seeded body");
    write_batch(owner, &[article], &[letter()], None)
        .await
        .unwrap();
}

const WRITES: [&str; 6] = [
    "INSERT INTO articles (provider, uri, version, pubstatus, verdict, headline, body, word_count,
         content_hash, format, source, received_at, processed_at, original)
     SELECT provider, uri || '-2', version, pubstatus, verdict, headline, body, word_count,
         content_hash, format, source, received_at, processed_at, original FROM articles",
    "UPDATE articles SET headline = 'changed'",
    "DELETE FROM articles",
    "UPDATE dead_letters SET replayed_at = now()",
    "DELETE FROM dead_letters",
    "DELETE FROM article_versions",
];

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_reader_reads_and_cannot_write(pool: PgPool) {
    seed(&pool).await;
    let reader = as_role(&pool, "wirestream_reader").await;
    for view in [
        "articles",
        "visible_articles",
        "stories",
        "article_versions",
        "dead_letters",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {view}"))
            .fetch_one(&reader)
            .await
            .unwrap_or_else(|e| panic!("{view}: {e}"));
        assert!(n >= 1, "{view} has the seeded row");
    }
    wirestream_store::report::outcomes(&reader, None)
        .await
        .expect("`wirestream report` needs no more");
    for sql in WRITES {
        assert!(refused(&reader, sql).await, "the reader ran {sql}");
    }
    assert!(refused(&reader, "SELECT * FROM dedup_hashes").await);
    assert!(refused(&reader, "SELECT * FROM sink_offsets").await);
    let article = fixtures::article("urn:reader", "No", "No");
    let error = write_batch(&reader, &[article], &[], None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("permission denied"), "{error}");
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_worker_keeps_its_dedup_state_and_cannot_touch_articles(pool: PgPool) {
    seed(&pool).await;
    let worker = as_role(&pool, "wirestream_worker").await;
    wirestream_store::check_schema(&worker)
        .await
        .expect("the worker reads the schema version");
    let config = DedupConfig {
        // Expiry on every batch, so that its DELETEs run too.
        expire_every: 1,
        watermark_rank: 1,
        ..Default::default()
    };
    let mut ledger = PgLedger::new(worker.clone());
    ledger
        .check_parameters(&config)
        .await
        .expect("the parameters check at start");
    let mut dedup = Deduplicator::with_config(ledger, config);
    let body = "The board approved a plan to buy back shares and raise capital for the plant.";
    let mut batch = vec![
        fixtures::article("urn:one", "Plan approved", body),
        fixtures::article("urn:two", "Plan approved", body),
    ];
    for article in &mut batch {
        article.content_hash = wirestream_normalize::content_hash(&article.headline, body);
    }
    dedup.decide(&mut batch).await.expect("dedup as the worker");
    assert_eq!(batch[1].verdict, wirestream_model::Verdict::Duplicate);

    for sql in ["SELECT * FROM articles", "SELECT * FROM dead_letters"]
        .into_iter()
        .chain(WRITES)
    {
        assert!(refused(&worker, sql).await, "the worker ran {sql}");
    }
    let article = fixtures::article("urn:worker", "No", "No");
    assert!(write_batch(&worker, &[article], &[], None).await.is_err());
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_sink_writes_what_it_stores_and_nothing_else(pool: PgPool) {
    let sink = as_role(&pool, "wirestream_sink").await;
    wirestream_store::check_schema(&sink)
        .await
        .expect("the sink reads the schema version");
    let article = fixtures::article("urn:sink", "Stored", "Stored body");
    let mut update = article.clone();
    update.version += 1;
    let offsets = [PartitionOffset {
        topic: "articles".into(),
        partition: 0,
        next_offset: 8,
    }];
    let commit = OffsetCommit {
        group_id: "sink",
        offsets: &offsets,
    };
    let outcome = write_batch(&sink, &[article], &[letter()], Some(commit.clone()))
        .await
        .expect("a batch as the sink");
    assert_eq!(outcome.articles_changed, 1);
    assert_eq!(outcome.dead_letters_stored, 1);
    // A newer version replaces the row; a replay stores nothing twice.
    write_batch(&sink, &[update], &[letter()], Some(commit))
        .await
        .expect("an upsert and a replay as the sink");
    let stored = load_offsets(&sink, "sink", &[("articles".into(), 0)])
        .await
        .expect("offsets as the sink");
    assert_eq!(stored.get(&("articles".to_string(), 0)), Some(&8));
    flush_search_index(&sink)
        .await
        .expect("the search index upkeep as the sink");

    for sql in [
        "DELETE FROM articles",
        "DELETE FROM dead_letters",
        "UPDATE dead_letters SET replayed_at = now()",
        "SELECT * FROM dedup_hashes",
        "SELECT * FROM dedup_decisions",
        "SELECT gin_clean_pending_list('articles_search'::regclass)",
    ] {
        // gin_clean_pending_list says "must be owner": 42501 too.
        assert!(refused(&sink, sql).await, "the sink ran {sql}");
    }
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn the_operator_marks_dead_letters_replayed_and_no_more(pool: PgPool) {
    seed(&pool).await;
    let operator = as_role(&pool, "wirestream_operator").await;
    let filter = DeadLetterFilter {
        ids: Vec::new(),
        reason: None,
        pending: true,
        limit: 10,
    };
    let letters = find_dead_letters(&operator, &filter).await.unwrap();
    assert_eq!(letters.len(), 1);
    let ids: Vec<i64> = letters.iter().map(|l| l.id).collect();
    mark_replayed(&operator, &ids)
        .await
        .expect("`wirestream dlq replay` as the operator");
    assert!(find_dead_letters(&operator, &filter)
        .await
        .unwrap()
        .is_empty());
    assert!(refused(&operator, "UPDATE dead_letters SET detail = 'x'").await);
    assert!(refused(&operator, "DELETE FROM dead_letters").await);
}

/// A migration that adds a table or view must say who may use it: a table
/// no `wirestream_*` role was granted is a forgotten grant.
#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn every_table_is_granted_to_some_role(pool: PgPool) {
    let forgotten: Vec<String> = sqlx::query_scalar(
        r"SELECT c.relname::text FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p')
            AND NOT EXISTS (
                SELECT 1 FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
                JOIN pg_roles r ON r.oid = a.grantee
                WHERE r.rolname LIKE 'wirestream\_%')
          ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        forgotten.is_empty(),
        "tables no role may use: {forgotten:?}"
    );
}

/// A service that is not the owner cannot migrate: told to wait for the
/// owner's `wirestream migrate` (retried), or refused for good (no retry)
/// when it tries to migrate itself.
#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_role_that_cannot_migrate_is_told_so(pool: PgPool) {
    use wirestream_runtime::retry::ErrorClass;
    // As if the newest migration were new in this build.
    let newest = wirestream_store::latest_migration();
    sqlx::raw_sql(&format!(
        "CREATE TABLE saved AS SELECT * FROM _sqlx_migrations WHERE version = {newest};
         DELETE FROM _sqlx_migrations WHERE version = {newest};"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let worker = as_role(&pool, "wirestream_worker").await;
    let behind = wirestream_store::check_schema(&worker).await.unwrap_err();
    assert_eq!(behind.class(), ErrorClass::Transient, "{behind}");
    assert!(
        behind.to_string().contains("wirestream migrate"),
        "{behind}"
    );
    let refused = wirestream_store::migrate(&worker).await.unwrap_err();
    assert_eq!(refused.class(), ErrorClass::Permanent, "{refused}");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
    // As if the owner had migrated. The failed attempt let go of the
    // migration lock (the worker's pool is still open): the owner's
    // `migrate`, which takes it, is not kept waiting.
    sqlx::query("INSERT INTO _sqlx_migrations SELECT * FROM saved")
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        wirestream_store::migrate(&pool),
    )
    .await
    .expect("the lock is free")
    .expect("nothing left to migrate");
    wirestream_store::check_schema(&worker)
        .await
        .expect("and then the schema is current");
}
