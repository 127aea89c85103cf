//! No secret reaches a log: API tokens and database passwords are absent
//! from every service's log and from the CLI's stderr, after right and wrong
//! tokens, no token, and database connections that fail.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use wirestream_tests::{binary_path, unused_port, Options, Pipeline};

// Long, distinctive strings, so that a match can only be a leak.
const CONFIG_TOKEN: &str = "sekrit-config-token-5b1e9c0d";
const FILE_TOKEN: &str = "sekrit-file-token-88af0d3e";
const PASSWORD: &str = "pw-Zq7uXk3mTw9";
const WRONG_PASSWORD: &str = "pw-wrong-Hh2vL9sR";
const SECRETS: [&str; 4] = [CONFIG_TOKEN, FILE_TOKEN, PASSWORD, WRONG_PASSWORD];

fn ninjs(uri: &str) -> String {
    format!(
        r#"{{"uri":"{uri}","headlines":[{{"role":"main","value":"Headline {uri}"}}],"bodies":[{{"role":"main","contenttype":"text/plain","value":"Body of {uri}."}}]}}"#
    )
}

/// `postgres://user@host/db` with `password` added to the user.
fn with_password(url: &str, password: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if scheme < at && !url[scheme + 3..at].contains(':') => {
            format!("{}:{password}{}", &url[..at], &url[at..])
        }
        _ => panic!("the stack's database URL has no user, or already a password: {url}"),
    }
}

/// Starts a service binary with `RUST_LOG=debug` (the pipeline's own
/// instances log at `info`), its stderr in a file.
fn spawn_debug(name: &str, env: &[(String, String)], more: &[(&str, String)], log: &Path) -> Child {
    let file = std::fs::File::create(log).expect("log file");
    Command::new(binary_path(name))
        .envs(env.iter().cloned())
        .envs(more.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .expect("the service starts")
}

async fn wait_ready(port: u16, within: Duration) {
    let started = Instant::now();
    let url = format!("http://127.0.0.1:{port}/ready");
    while started.elapsed() < within {
        if let Ok(response) = reqwest::get(&url).await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} not ready within {within:?}");
}

/// Sends requests that must all be refused with 401, to `base`.
async fn refused_requests(client: &reqwest::Client, base: &str) {
    let url = format!("{base}/v1/articles");
    let bad: [Option<String>; 6] = [
        None,
        Some(format!(
            "Bearer {}",
            &CONFIG_TOKEN[..CONFIG_TOKEN.len() - 1]
        )),
        Some(format!("Bearer {FILE_TOKEN}x")),
        Some(format!("Basic {CONFIG_TOKEN}")),
        Some(format!("Bearer {CONFIG_TOKEN} {FILE_TOKEN}")),
        Some(format!("Bearer  {WRONG_PASSWORD}")),
    ];
    for header in bad {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(ninjs("urn:secrets:refused"));
        if let Some(header) = &header {
            request = request.header("authorization", header);
        }
        let response = request.send().await.expect("an answer");
        assert_eq!(response.status(), 401, "{header:?}");
        let body = response.text().await.unwrap_or_default();
        for secret in SECRETS {
            assert!(!body.contains(secret), "a 401 body echoes a secret: {body}");
        }
    }
    // A token in the query string is not a token.
    let response = client
        .post(format!("{url}?access_token={CONFIG_TOKEN}"))
        .header("content-type", "application/json")
        .body(ninjs("urn:secrets:query"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 401);
}

async fn accepted(client: &reqwest::Client, base: &str, token: &str, uri: &str) {
    let response = client
        .post(format!("{base}/v1/articles"))
        .header("content-type", "application/json")
        .bearer_auth(token)
        .body(ninjs(uri))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 202, "{uri}");
}

/// Runs the CLI and returns its stderr.
async fn cli_stderr(args: &[&str], env: &[(String, String)]) -> String {
    let output = Command::new(binary_path("wirestream"))
        .args(args)
        .envs(env.iter().cloned())
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("the CLI runs");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_token_or_password_reaches_a_log() {
    let token_file = tempfile::NamedTempFile::new().expect("token file");
    std::fs::write(token_file.path(), format!("# partners\nafp:{FILE_TOKEN}\n"))
        .expect("write tokens");
    let mut pipeline = Pipeline::start_with(Options {
        ingest_toml: Some(format!(
            "auth = {{ tokens = [{{ name = \"dpa\", token = \"{CONFIG_TOKEN}\" }}], token_file = \"{}\" }}",
            token_file.path().display()
        )),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let logs_dir = tempfile::tempdir().expect("a folder for the debug logs");

    // Every service connects with a password in its database URL. The
    // stack's PostgreSQL trusts local connections, so the password is sent
    // when asked for and otherwise ignored: what matters is that it is in
    // the config every service reads.
    let database_url = with_password(&pipeline.database_url, PASSWORD);
    pipeline.set_env("WIRESTREAM_DATABASE__URL", database_url.clone());
    for service in ["ingest", "worker", "sink"] {
        pipeline.restart(service).await.expect("restarts");
    }
    for port in pipeline.ports {
        wait_ready(port, Duration::from_secs(60)).await;
    }

    // Wrong tokens and no token: 401, and nothing reaches the raw topic.
    let client = reqwest::Client::new();
    refused_requests(&client, &pipeline.ingest_url).await;
    assert_eq!(
        pipeline.topic_messages(&pipeline.kafka.raw_topic.clone()),
        0,
        "a refused request has no effect"
    );

    // The right tokens: stored end to end, through the password URL.
    accepted(&client, &pipeline.ingest_url, CONFIG_TOKEN, "urn:secrets:1").await;
    accepted(&client, &pipeline.ingest_url, FILE_TOKEN, "urn:secrets:2").await;
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 2, Duration::from_secs(60))
        .await;
    assert_eq!(stored, 2, "{}", pipeline.logs());

    // A second ingest at debug level, with the same tokens: every request again.
    let env = pipeline.service_env();
    let (mut ingest, ingest_port, ingest_log) = debug_ingest(&env, logs_dir.path()).await;
    let debug_ingest = format!("http://127.0.0.1:{ingest_port}");
    refused_requests(&client, &debug_ingest).await;
    accepted(&client, &debug_ingest, CONFIG_TOKEN, "urn:secrets:3").await;

    // Database connections that fail, at debug level: a worker whose
    // PostgreSQL is not there, a sink whose database does not exist.
    let worker_log = logs_dir.path().join("worker-debug.log");
    let mut worker = spawn_debug(
        "wirestream-worker",
        &env,
        &[
            (
                "WIRESTREAM_DATABASE__URL",
                format!(
                    "postgres://wirestream:{WRONG_PASSWORD}@127.0.0.1:{}/wirestream",
                    unused_port()
                ),
            ),
            (
                "WIRESTREAM_WORKER__LISTEN",
                format!("127.0.0.1:{}", unused_port()),
            ),
            ("WIRESTREAM_DATABASE__CONNECT_TIMEOUT", "1s".into()),
        ],
        &worker_log,
    );
    let missing_database = with_password(
        &pipeline
            .database_url
            .replace(&pipeline.name, "wst_no_such_database"),
        WRONG_PASSWORD,
    );
    let sink_log = logs_dir.path().join("sink-debug.log");
    let mut sink = spawn_debug(
        "wirestream-sink",
        &env,
        &[
            ("WIRESTREAM_DATABASE__URL", missing_database.clone()),
            (
                "WIRESTREAM_SINK__LISTEN",
                format!("127.0.0.1:{}", unused_port()),
            ),
            ("WIRESTREAM_DATABASE__CONNECT_TIMEOUT", "1s".into()),
        ],
        &sink_log,
    );
    // Long enough for a start-up attempt, its error and a retry or two.
    tokio::time::sleep(Duration::from_secs(8)).await;
    for child in [&mut ingest, &mut worker, &mut sink] {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }

    // The CLI against the same broken databases, and against the guarded API
    // without a token, so the API refuses it (with its token: the test
    // `the_cli_sends_its_token_to_a_secured_ingest` below).
    let mut cli = String::new();
    for url in [
        format!(
            "postgres://wirestream:{WRONG_PASSWORD}@127.0.0.1:{}/wirestream",
            unused_port()
        ),
        missing_database,
    ] {
        let mut cli_env = env.clone();
        cli_env.push(("WIRESTREAM_DATABASE__URL".into(), url));
        cli_env.push(("WIRESTREAM_DATABASE__CONNECT_TIMEOUT".into(), "2s".into()));
        cli.push_str(&cli_stderr(&["migrate"], &cli_env).await);
        cli.push_str(&cli_stderr(&["report"], &cli_env).await);
    }
    let doc = logs_dir.path().join("doc.json");
    std::fs::write(&doc, ninjs("urn:secrets:cli")).expect("a document");
    cli.push_str(
        &cli_stderr(
            &[
                "feed",
                "--url",
                &pipeline.ingest_url,
                "--retry-for",
                "1s",
                "--quiet",
                &doc.display().to_string(),
            ],
            &env,
        )
        .await,
    );

    let worker_text = read(&worker_log);
    let sink_text = read(&sink_log);
    // The failures did happen, so there was something to leak.
    assert!(
        worker_text.contains("pool timed out") || worker_text.contains("onnection refused"),
        "the worker logged nothing about its database:\n{worker_text}"
    );
    assert!(
        sink_text.contains("wst_no_such_database") || sink_text.contains("does not exist"),
        "the sink logged nothing about its database:\n{sink_text}"
    );
    assert!(!cli.trim().is_empty(), "the CLI reported nothing");

    let everything = [
        ("services", pipeline.logs()),
        ("ingest (debug)", read(&ingest_log)),
        ("worker (debug)", worker_text),
        ("sink (debug)", sink_text),
        ("wirestream CLI stderr", cli),
    ];
    assert_no_secret(&everything, &SECRETS);
    pipeline.stop().await;
}

// Kafka's SCRAM password, and a wrong one.
const SASL_PASSWORD: &str = "sasl-pw-Wc6nJ3hT";
const SASL_WRONG_PASSWORD: &str = "sasl-wrong-Pk9dF4sE";
const AUTH_REFUSED: [&str; 2] = ["Authentication failed", "SASL authentication error"];

/// The Kafka SASL password never reaches a log: the pipeline runs over
/// `SASL_SSL` with it written in the config file, an ingest at debug level
/// gets requests, a worker (password in the file) and a sink (password from
/// `kafka.sasl_password_file`) at debug level are refused for a wrong
/// password, and `wirestream topics` is too.
#[tokio::test(flavor = "multi_thread")]
async fn no_sasl_password_reaches_a_log() {
    use wirestream_tests::sasl::{self, SecuredKafka};

    let secured = SecuredKafka::start(SASL_PASSWORD)
        .await
        .expect("a secured broker");
    let ca = secured.certs.ca.clone();
    let pipeline = Pipeline::start_with(Options {
        brokers: Some(secured.kafka.brokers()),
        env: vec![(
            "WIRESTREAM_KAFKA__BROKERS",
            secured.kafka.sasl_ssl_brokers(),
        )],
        config_toml: Some(secured.client_toml_with_password(&ca, SASL_PASSWORD)),
        ..Options::default()
    })
    .await
    .expect("the pipeline starts over SASL_SSL");
    let response = pipeline
        .post(
            "/v1/articles",
            "application/json",
            ninjs("urn:secrets:sasl"),
        )
        .await;
    assert_eq!(response.status(), 202);
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 1, Duration::from_secs(60))
        .await;
    assert_eq!(stored, 1, "{}", pipeline.logs());

    let dir = tempfile::tempdir().expect("a folder for the logs");
    let env = pipeline.service_env();
    let (mut ingest, ingest_port, ingest_log) = debug_ingest(&env, dir.path()).await;
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{ingest_port}/v1/articles"))
        .header("content-type", "application/json")
        .body(ninjs("urn:secrets:sasl-debug"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 202);

    let wrong_config = sasl::write_file(
        dir.path(),
        "wrong.toml",
        &secured.client_toml_with_password(&ca, SASL_WRONG_PASSWORD),
    );
    let wrong_file = sasl::password_file(dir.path(), "wrong-password", SASL_WRONG_PASSWORD);
    let (worker_port, sink_port) = (unused_port(), unused_port());
    let worker_log = dir.path().join("worker-debug.log");
    let mut worker = spawn_debug(
        "wirestream-worker",
        &env,
        &[
            ("WIRESTREAM_CONFIG", wrong_config.display().to_string()),
            (
                "WIRESTREAM_WORKER__LISTEN",
                format!("127.0.0.1:{worker_port}"),
            ),
            ("WIRESTREAM_STARTUP__TIMEOUT", "300s".into()),
        ],
        &worker_log,
    );
    let sink_log = dir.path().join("sink-debug.log");
    let mut sink = spawn_debug(
        "wirestream-sink",
        &env,
        &[
            (
                "WIRESTREAM_KAFKA__SASL_PASSWORD_FILE",
                wrong_file.display().to_string(),
            ),
            ("WIRESTREAM_SINK__LISTEN", format!("127.0.0.1:{sink_port}")),
            ("WIRESTREAM_STARTUP__TIMEOUT", "300s".into()),
        ],
        &sink_log,
    );
    for (port, log) in [(worker_port, &worker_log), (sink_port, &sink_log)] {
        if let Err(error) =
            sasl::wait_refused(port, log, &AUTH_REFUSED, Duration::from_secs(90)).await
        {
            panic!("{error}");
        }
    }
    for child in [&mut ingest, &mut worker, &mut sink] {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    let mut cli_env = env.clone();
    cli_env.push((
        "WIRESTREAM_CONFIG".into(),
        wrong_config.display().to_string(),
    ));
    let cli = cli_stderr(&["topics", "--wait", "10s"], &cli_env).await;
    assert!(
        AUTH_REFUSED.iter().any(|reason| cli.contains(reason)),
        "wirestream topics does not say why: {cli}"
    );

    let everything = [
        ("services", pipeline.logs()),
        ("ingest (debug)", read(&ingest_log)),
        ("worker (debug)", read(&worker_log)),
        ("sink (debug)", read(&sink_log)),
        ("wirestream topics stderr", cli),
    ];
    assert_no_secret(&everything, &[SASL_PASSWORD, SASL_WRONG_PASSWORD]);
    pipeline.stop().await;
}

/// An ingest at debug level with `env`, its log in `dir`, once ready.
async fn debug_ingest(env: &[(String, String)], dir: &Path) -> (Child, u16, PathBuf) {
    let port = unused_port();
    let log = dir.join("ingest-debug.log");
    let listen = ("WIRESTREAM_INGEST__LISTEN", format!("127.0.0.1:{port}"));
    let child = spawn_debug("wirestream-ingest", env, &[listen], &log);
    wait_ready(port, Duration::from_secs(60)).await;
    (child, port, log)
}

/// Fails with the text around the first of `secrets` found in a log.
fn assert_no_secret(logs: &[(&str, String)], secrets: &[&str]) {
    for (what, text) in logs {
        for secret in secrets {
            if let Some(at) = text.find(secret) {
                let from = at.saturating_sub(200);
                let context = text.get(from..at + secret.len()).unwrap_or(secret);
                panic!("a secret leaked into {what}: …{context}");
            }
        }
    }
}

/// `wirestream feed` and `wirestream dlq replay` against an ingest that
/// requires a token: refused without one, accepted with `--token-file` or
/// `WIRESTREAM_INGEST__TOKEN`, and the token in no output.
#[tokio::test(flavor = "multi_thread")]
async fn the_cli_sends_its_token_to_a_secured_ingest() {
    let pipeline = Pipeline::start_with(Options {
        ingest_toml: Some(format!(
            "auth = {{ tokens = [{{ name = \"ops\", token = \"{CONFIG_TOKEN}\" }}] }}"
        )),
        ..Options::default()
    })
    .await
    .expect("pipeline starts");
    let dir = tempfile::tempdir().expect("a folder");
    let token_file = dir.path().join("ingest-token");
    std::fs::write(&token_file, format!("{CONFIG_TOKEN}\n")).expect("the token file");
    let token_file = token_file.display().to_string();
    let env = pipeline.service_env();
    let mut with_token = env.clone();
    with_token.push(("WIRESTREAM_INGEST__TOKEN".into(), CONFIG_TOKEN.into()));

    let run = |args: Vec<String>, env: Vec<(String, String)>| async move {
        let output = Command::new(binary_path("wirestream"))
            .args(&args)
            .envs(env)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .output()
            .await
            .expect("the CLI runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    };
    let doc = |n: u32| {
        let path = dir.path().join(format!("doc-{n}.json"));
        std::fs::write(&path, ninjs(&format!("urn:secrets:cli:{n}"))).expect("a document");
        path.display().to_string()
    };
    let feed = |path: String, more: &[&str]| {
        let mut args: Vec<String> = ["feed", "--quiet", "--retry-for", "1s"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(more.iter().map(|s| s.to_string()));
        args.push(path);
        args
    };
    let mut outputs = String::new();

    let (ok, text) = run(feed(doc(1), &[]), env.clone()).await;
    assert!(!ok && text.contains("401"), "no token, refused: {text}");
    outputs.push_str(&text);
    let (ok, text) = run(feed(doc(1), &["--token-file", &token_file]), env.clone()).await;
    assert!(ok && text.contains("1 accepted"), "--token-file: {text}");
    outputs.push_str(&text);
    let (ok, text) = run(feed(doc(2), &[]), with_token.clone()).await;
    assert!(
        ok && text.contains("1 accepted"),
        "WIRESTREAM_INGEST__TOKEN: {text}"
    );
    outputs.push_str(&text);
    let (ok, text) = run(
        feed(doc(3), &["--token-file", "/nonexistent/token"]),
        env.clone(),
    )
    .await;
    assert!(!ok && text.contains("/nonexistent/token"), "{text}");
    outputs.push_str(&text);

    // A dead letter of the worker goes back through ingest, so through its token check.
    sqlx::query(
        "INSERT INTO dead_letters (origin, stage, reason, detail, source, failed_at, original)
         VALUES ('test:secrets:1', 'worker', 'empty_article', 'a test', 'http', now(), $1)",
    )
    .bind(ninjs("urn:secrets:cli:replayed"))
    .execute(&pipeline.pool)
    .await
    .expect("a dead letter");
    let replay = || vec!["dlq".to_string(), "replay".to_string()];
    let (ok, text) = run(replay(), env.clone()).await;
    assert!(!ok && text.contains("401"), "no token, refused: {text}");
    outputs.push_str(&text);
    let (ok, text) = run(replay(), with_token.clone()).await;
    assert!(ok && text.contains("1 replayed, 0 failed"), "{text}");
    outputs.push_str(&text);
    let mut args = replay();
    args.extend(["--again".into(), "--token-file".into(), token_file.clone()]);
    let (ok, text) = run(args, env.clone()).await;
    assert!(ok && text.contains("1 replayed, 0 failed"), "{text}");
    outputs.push_str(&text);

    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 3, Duration::from_secs(60))
        .await;
    assert_eq!(stored, 3, "{}", pipeline.logs());
    for (what, text) in [("the CLI's output", outputs), ("services", pipeline.logs())] {
        assert!(
            !text.contains(CONFIG_TOKEN),
            "the token leaked into {what}: {text}"
        );
    }
    pipeline.stop().await;
}
