//! `wirestream report` for one run: `--since` counts what was stored from a
//! given time, and `--until-drained` ends the wait for a run of copies that
//! change no row (as a second `make demo` on the same stack).

use std::time::Duration;

use wirestream_tests::trickle::item;
use wirestream_tests::{binary_path, Pipeline};

async fn report(pipeline: &Pipeline, args: &[&str]) -> (bool, String) {
    let mut env = pipeline.service_env();
    // The command finds the worker and the sink where the services listen.
    let [_, worker, sink] = pipeline.ports;
    env.push((
        "WIRESTREAM_WORKER__LISTEN".into(),
        format!("127.0.0.1:{worker}"),
    ));
    env.push((
        "WIRESTREAM_SINK__LISTEN".into(),
        format!("127.0.0.1:{sink}"),
    ));
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(binary_path("wirestream"))
            .arg("report")
            .args(args)
            .envs(env)
            .output(),
    )
    .await
    .expect("report ends")
    .expect("report runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn report_counts_one_run_and_sees_a_drained_pipeline() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let first: Vec<String> = (0..20).map(|n| item("report-a", n)).collect();
    let response = pipeline
        .post(
            "/v1/articles:batch",
            "application/x-ndjson",
            first.join("\n"),
        )
        .await;
    assert_eq!(response.status(), 202);
    let (ok, text) = report(&pipeline, &["--expect", "20", "--timeout", "60"]).await;
    assert!(ok, "{text}\n{}", pipeline.logs());
    assert!(text.contains("items accounted for: 20"), "{text}");

    // A second run: ten new items and the first twenty again.
    let since = chrono::Utc::now().to_rfc3339();
    let second: Vec<String> = (0..10)
        .map(|n| item("report-b", n))
        .chain(first.iter().cloned())
        .collect();
    let response = pipeline
        .post(
            "/v1/articles:batch",
            "application/x-ndjson",
            second.join("\n"),
        )
        .await;
    assert_eq!(response.status(), 202);
    // Only the new ones change rows: 30 are never reached, the drain ends it.
    let (ok, text) = report(
        &pipeline,
        &[
            "--expect",
            "30",
            "--since",
            &since,
            "--until-drained",
            "--timeout",
            "90",
        ],
    )
    .await;
    assert!(ok, "{text}\n{}", pipeline.logs());
    assert!(text.contains("drained"), "{text}");
    assert!(text.contains("items accounted for since"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("items accounted for since"))
        .unwrap_or_default();
    assert!(line.ends_with(": 10"), "this run stored 10 rows: {text}");
    pipeline.stop().await;
}
