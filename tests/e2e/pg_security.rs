//! PostgreSQL as production has it: TLS with `verify-full` against a CA file,
//! `scram-sha-256` passwords, and the worker and the sink logging in as
//! members of their least-privilege roles (migrations/*_roles.sql), with the
//! migration left to the owner. A plain connection and an untrusted
//! certificate are refused, and no password reaches a log.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use wirestream_tests::certs::Certs;
use wirestream_tests::postgres::Postgres;
use wirestream_tests::{unused_port, Options, Pipeline};

use crate::startup::{exit_of, spawn};

// Distinctive, so that a match in a log can only be a leak.
const OWNER_PASSWORD: &str = "pw-owner-Vb8qN2xR";
const WORKER_PASSWORD: &str = "pw-worker-Kc4mT7wd";
const SINK_PASSWORD: &str = "pw-sink-Jn5pR3yq";

fn ninjs(uri: &str) -> String {
    format!(
        r#"{{"uri":"{uri}","headlines":[{{"role":"main","value":"Headline {uri}"}}],"bodies":[{{"role":"main","contenttype":"text/plain","value":"Body of {uri}, sent over TLS."}}]}}"#
    )
}

/// The pipeline's database on `postgres`, as `user` with `password`, with
/// no TLS parameters: the services get those from their config.
fn login_url(postgres: &Postgres, database: &str, user: &str, password: &str) -> String {
    format!(
        "postgres://{user}:{password}@127.0.0.1:{}/{database}",
        postgres.port
    )
}

/// `[database]` by config keys, winning over the URL's parameters.
fn tls_env(ca: &std::path::Path) -> Vec<(&'static str, String)> {
    vec![
        ("WIRESTREAM_DATABASE__SSLMODE", "verify-full".into()),
        (
            "WIRESTREAM_DATABASE__SSL_ROOT_CERT",
            ca.display().to_string(),
        ),
    ]
}

/// Posts article number `n` and waits until `n` articles are stored.
async fn store(pipeline: &Pipeline, n: i64, what: &str) {
    let response = pipeline
        .post(
            "/v1/articles",
            "application/json",
            ninjs(&format!("urn:tls:{n}")),
        )
        .await;
    assert_eq!(response.status(), 202);
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", n, Duration::from_secs(60))
        .await;
    assert_eq!(stored, n, "{what}\n{}", pipeline.logs());
}

async fn wait_ready(port: u16, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        let ready = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_runs_over_tls_with_passwords_and_least_privilege() {
    let certs = Certs::generate("wirestream-pg").expect("certificates");
    let postgres = Postgres::start_secure(&certs, OWNER_PASSWORD).expect("a TLS PostgreSQL");

    // Without TLS, and with a wrong password, nobody gets in.
    let plain = format!(
        "postgres://wirestream:{OWNER_PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
        postgres.port
    );
    let error = PgPool::connect(&plain).await.unwrap_err().to_string();
    assert!(error.contains("no encryption"), "plain TCP: {error}");
    let wrong = postgres.url().replace(OWNER_PASSWORD, "pw-wrong");
    let error = PgPool::connect(&wrong).await.unwrap_err().to_string();
    assert!(
        error.contains("password authentication failed"),
        "wrong password: {error}"
    );

    // The owner migrates (the harness does), the services do not.
    let mut env = tls_env(&certs.ca);
    env.push(("WIRESTREAM_DATABASE__MIGRATE", "false".into()));
    let mut pipeline = Pipeline::start_with(Options {
        database_url: Some(postgres.url()),
        env,
        ..Options::default()
    })
    .await
    .expect("the pipeline starts over TLS");
    store(&pipeline, 1, "stored over TLS as the owner").await;

    // A deployer's login users, members of the group roles.
    for (user, password, role) in [
        ("worker_login", WORKER_PASSWORD, "wirestream_worker"),
        ("sink_login", SINK_PASSWORD, "wirestream_sink"),
    ] {
        sqlx::query(&format!(
            "CREATE ROLE {user} LOGIN PASSWORD '{password}' IN ROLE {role}"
        ))
        .execute(&pipeline.pool)
        .await
        .expect("a login user");
    }
    for (service, user, password) in [
        ("worker", "worker_login", WORKER_PASSWORD),
        ("sink", "sink_login", SINK_PASSWORD),
    ] {
        let url = login_url(&postgres, &pipeline.name, user, password);
        pipeline.set_env("WIRESTREAM_DATABASE__URL", url);
        pipeline.restart(service).await.expect("restarts");
        let port = pipeline.port_of(service).expect("a port");
        assert!(
            wait_ready(port, Duration::from_secs(60)).await,
            "{service} ready as {user}\n{}",
            pipeline.logs()
        );
    }
    store(&pipeline, 2, "stored by the least-privilege sink").await;

    // Both log in as their members, over TLS.
    let sessions: Vec<(String, bool)> = sqlx::query_as(
        "SELECT DISTINCT a.usename::text, s.ssl FROM pg_stat_activity a
         JOIN pg_stat_ssl s USING (pid)
         WHERE a.datname = current_database() AND a.usename IN ('worker_login', 'sink_login')
         ORDER BY 1",
    )
    .fetch_all(&pipeline.pool)
    .await
    .expect("sessions");
    assert_eq!(
        sessions,
        vec![("sink_login".into(), true), ("worker_login".into(), true)]
    );

    let logs = pipeline.logs();
    for password in [OWNER_PASSWORD, WORKER_PASSWORD, SINK_PASSWORD] {
        assert!(!logs.contains(password), "a password in the logs:\n{logs}");
    }
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_is_refused_naming_the_cause() {
    let certs = Certs::generate("wirestream-pg").expect("certificates");
    let other = Certs::generate("someone-else").expect("another CA");
    let postgres = Postgres::start_secure(&certs, OWNER_PASSWORD).expect("a TLS PostgreSQL");
    let pipeline = Pipeline::start_with(Options {
        services: Some(&[]),
        database_url: Some(postgres.url()),
        ..Options::default()
    })
    .await
    .expect("the harness reaches it with the right CA");

    let mut extra = tls_env(&other.ca);
    extra.push((
        "WIRESTREAM_SINK__LISTEN",
        format!("127.0.0.1:{}", unused_port()),
    ));
    extra.push(("WIRESTREAM_STARTUP__TIMEOUT", "3s".into()));
    let (code, stderr) = exit_of(
        spawn(&pipeline, "wirestream-sink", &extra),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(code, Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("certificate verify failed") && last.contains(&postgres.port.to_string()),
        "one line naming the database and the cause: {stderr}"
    );
    assert!(!stderr.contains(OWNER_PASSWORD), "{stderr}");
    pipeline.stop().await;
}
