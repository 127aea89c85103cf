//! What the store's errors are (transient or permanent), and the session
//! guards every pool gets. Each test runs in a fresh migrated database.

use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use wirestream_model::fixtures;
use wirestream_runtime::config::DatabaseConfig;
use wirestream_runtime::retry::ErrorClass;
use wirestream_store::write_batch;

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn rows_postgres_cannot_hold_are_permanent(pool: PgPool) {
    let mut nul = fixtures::article("urn:x:1\u{0}", "Headline", "Body");
    nul.uri = "urn:x:1\u{0}".into();
    let error = write_batch(&pool, &[nul], &[], None).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Permanent, "{error}");

    let mut long = fixtures::article("long", "Headline", "Body");
    // Text that does not compress: an index entry is compressed first.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    long.uri = (0..10_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from(b'!' + (seed % 90) as u8)
        })
        .collect();
    let error = write_batch(&pool, &[long], &[], None).await.unwrap_err();
    assert_eq!(
        error.class(),
        ErrorClass::Permanent,
        "an index row too large: {error}"
    );

    let plain = fixtures::article("ok", "Headline", "Body");
    write_batch(&pool, &[plain], &[], None).await.unwrap();
}

/// The database of `pool`, reached through `wirestream_store::pool` with `config`'s guards.
fn guarded(connect: &PgConnectOptions, config: DatabaseConfig) -> PgPool {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (server, _) = base.rsplit_once('/').expect("a URL with a database");
    let database = connect.get_database().expect("a test database");
    wirestream_store::pool(&DatabaseConfig {
        url: format!("{server}/{database}").into(),
        ..config
    })
    .expect("a pool")
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn a_lock_held_past_lock_timeout_is_a_transient_error(
    _options: sqlx::postgres::PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = guarded(
        &connect,
        DatabaseConfig {
            lock_timeout: Duration::from_millis(300),
            ..DatabaseConfig::default()
        },
    );
    let article = fixtures::article("locked", "Headline", "Body");
    write_batch(&pool, std::slice::from_ref(&article), &[], None)
        .await
        .unwrap();

    // Another session holds the row.
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM articles WHERE uri = 'locked' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let mut update = article.clone();
    update.version += 1;
    let started = Instant::now();
    let error = write_batch(&pool, std::slice::from_ref(&update), &[], None)
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Transient, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up at the lock timeout"
    );
    holder.rollback().await.unwrap();
    write_batch(&pool, &[update], &[], None)
        .await
        .expect("the retry goes through once the lock is gone");
}

#[sqlx::test(migrator = "wirestream_store::MIGRATOR")]
async fn every_connection_carries_the_guards(
    _options: sqlx::postgres::PgPoolOptions,
    connect: PgConnectOptions,
) {
    let pool = guarded(
        &connect,
        DatabaseConfig {
            statement_timeout: Duration::from_millis(200),
            lock_timeout: Duration::from_secs(3),
            idle_in_transaction_session_timeout: Duration::from_secs(7),
            ..DatabaseConfig::default()
        },
    );
    let show = |name: &'static str| {
        let pool = pool.clone();
        async move {
            let sql = format!("SHOW {name}");
            sqlx::query_scalar::<_, String>(&sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(show("lock_timeout").await, "3s");
    assert_eq!(show("idle_in_transaction_session_timeout").await, "7s");
    let error = sqlx::query("SELECT pg_sleep(2)")
        .execute(&pool)
        .await
        .unwrap_err();
    let class = wirestream_store::error_class(&error);
    assert_eq!(
        class,
        ErrorClass::Transient,
        "our statement timeout: {error}"
    );
    // The migration lifts the timeouts for itself and gives them back.
    wirestream_store::migrate(&pool).await.unwrap();
    assert_eq!(show("statement_timeout").await, "200ms");
}
