//! The pipeline over `SASL_SSL`: a private broker with a certificate made
//! by the test and a SCRAM-SHA-512 user. Ingest, worker and sink reach it
//! with the CA file and a password from a file, and a document posted to
//! ingest is stored. Then what the broker must refuse: a wrong password, a
//! broker certificate from another CA, a plaintext client on the TLS port;
//! each with the reason in the service's log and in its `/ready` (503).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use wirestream_tests::certs::Certs;
use wirestream_tests::sasl::{self, SecuredKafka};
use wirestream_tests::{binary_path, unused_port, Options, Pipeline};

const PASSWORD: &str = "scram-pw-Nf4tQ8zL";
const WRONG_PASSWORD: &str = "scram-wrong-Bd7cX2mR";

/// Starts `service` with the pipeline's environment and `more` (which
/// wins), its log in `log`; returns it and its ops port.
fn spawn(pipeline: &Pipeline, service: &str, more: &[(&str, String)], log: &Path) -> (Child, u16) {
    let port = unused_port();
    let file = std::fs::File::create(log).expect("a log file");
    let child = Command::new(binary_path(&format!("wirestream-{service}")))
        .envs(pipeline.service_env())
        .envs(more.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .env(
            format!("WIRESTREAM_{}__LISTEN", service.to_uppercase()),
            format!("127.0.0.1:{port}"),
        )
        // The worker would give up on the broker after 30 s; the test reads
        // its /ready first.
        .env("WIRESTREAM_STARTUP__TIMEOUT", "300s")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .expect("the service starts");
    (child, port)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_runs_over_sasl_ssl_and_the_broker_refuses_the_rest() {
    let secured = SecuredKafka::start(PASSWORD)
        .await
        .expect("a secured broker");
    let dir = tempfile::tempdir().expect("a folder for the test's files");
    let password = sasl::password_file(dir.path(), "password", PASSWORD);

    // The harness creates the topics over PLAINTEXT; the services speak
    // only SASL_SSL.
    let pipeline = Pipeline::start_with(Options {
        brokers: Some(secured.kafka.brokers()),
        env: vec![
            (
                "WIRESTREAM_KAFKA__BROKERS",
                secured.kafka.sasl_ssl_brokers(),
            ),
            (
                "WIRESTREAM_KAFKA__SASL_PASSWORD_FILE",
                password.display().to_string(),
            ),
        ],
        config_toml: Some(secured.client_toml(&secured.certs.ca)),
        ..Options::default()
    })
    .await
    .unwrap_or_else(|error| panic!("{error}\n{}", secured.kafka.log()));

    let response = pipeline
        .post(
            "/v1/articles",
            "application/json",
            r#"{"uri":"urn:sasl:1","headlines":[{"role":"main","value":"Over TLS"}],"bodies":[{"role":"main","contenttype":"text/plain","value":"Stored through SASL_SSL."}]}"#,
        )
        .await;
    assert_eq!(response.status(), 202);
    let stored = pipeline
        .wait_for_count(
            "SELECT count(*) FROM articles WHERE uri = 'urn:sasl:1'",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(stored, 1, "{}", pipeline.logs());

    // The CLI builds its clients from the same settings.
    let topics = Command::new(binary_path("wirestream"))
        .args(["topics", "--wait", "30s"])
        .envs(pipeline.service_env())
        .output()
        .await
        .expect("the CLI runs");
    assert!(
        topics.status.success(),
        "wirestream topics over SASL_SSL: {}",
        String::from_utf8_lossy(&topics.stderr)
    );

    let wrong = sasl::password_file(dir.path(), "wrong-password", WRONG_PASSWORD);
    let other_ca = Certs::generate("another").expect("another CA");
    let untrusted = sasl::write_file(
        dir.path(),
        "untrusted.toml",
        &secured.client_toml(&other_ca.ca),
    );
    // No security settings at all: a plaintext client on the TLS port.
    let plaintext = sasl::write_file(dir.path(), "plaintext.toml", "");
    let config = |path: &Path| vec![("WIRESTREAM_CONFIG", path.display().to_string())];
    let wrong_password = || {
        vec![(
            "WIRESTREAM_KAFKA__SASL_PASSWORD_FILE",
            wrong.display().to_string(),
        )]
    };
    const AUTH: &[&str] = &["Authentication failed", "SASL authentication error"];
    // librdkafka's own words, or the hint the runtime adds to them.
    const PLAINTEXT: &[&str] = &[
        "security.protocol",
        "Disconnected while requesting ApiVersion",
    ];
    let cases = [
        ("ingest", "a wrong password", wrong_password(), AUTH),
        ("worker", "a wrong password", wrong_password(), AUTH),
        (
            "ingest",
            "an untrusted broker certificate",
            config(&untrusted),
            &["certificate verify failed"][..],
        ),
        (
            "ingest",
            "a plaintext client",
            config(&plaintext),
            PLAINTEXT,
        ),
    ];
    for (service, case, env, reasons) in cases {
        let log = dir
            .path()
            .join(format!("{service}-{}.log", case.replace(' ', "-")));
        let (mut child, port) = spawn(&pipeline, service, &env, &log);
        let refusal = sasl::wait_refused(port, &log, reasons, Duration::from_secs(90)).await;
        let _ = child.start_kill();
        let _ = child.wait().await;
        let refusal = refusal.unwrap_or_else(|error| panic!("{service}, {case}: {error}"));
        assert!(refusal.ready.contains("kafka"), "{}", refusal.ready);
    }

    // The pipeline itself was never disturbed.
    for port in pipeline.ports {
        let ready = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
            .await
            .expect("an answer");
        assert!(ready.status().is_success());
    }
    pipeline.stop().await;
}
