//! Our topics are public interfaces: kafka-python, a client we did not
//! write, reads the articles and dead-letter topics of a running pipeline,
//! and every record must parse as docs/article.md says
//! (`tests/contract/check_topics.py`; `make test` installs the client with
//! `scripts/ensure-kafka-python.sh`).

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wirestream_tests::Pipeline;

fn ninjs(uri: &str, version: u32, pubstatus: &str, headline: &str, body: &str) -> String {
    json!({
        "uri": uri, "version": version.to_string(), "pubstatus": pubstatus,
        "versioncreated": "2024-03-01T10:00:00Z", "copyrightholder": "Reuters", "language": "en",
        "subject": [{"code": "medtop:04000000", "name": "economy"}],
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
    })
    .to_string()
}

/// The Python the contract check runs with.
fn python() -> String {
    std::env::var("WIRESTREAM_CONTRACT_PYTHON").unwrap_or_else(|_| {
        panic!("WIRESTREAM_CONTRACT_PYTHON is not set: `make test` sets it (scripts/ensure-kafka-python.sh)")
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn another_kafka_client_reads_every_record_as_documented() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let body = "LONDON, March 1 - The Bank of England held rates at 5.25 pct on Thursday, \
                as inflation eased more slowly than expected.\n Reuter";
    let items = [
        ninjs(
            "urn:contract:a",
            1,
            "usable",
            "BANK OF ENGLAND HOLDS RATES",
            body,
        ),
        // An exact copy under another id: a duplicate.
        ninjs(
            "urn:contract:b",
            1,
            "usable",
            "BANK OF ENGLAND HOLDS RATES",
            body,
        ),
        ninjs(
            "urn:contract:a",
            2,
            "usable",
            "UPDATE 1-BANK OF ENGLAND HOLDS RATES",
            &format!("{body} Sterling rose."),
        ),
        ninjs(
            "urn:contract:c",
            1,
            "usable",
            "OTHER STORY",
            "PARIS, March 1 - Something else happened in Paris today.\n Reuter",
        ),
        ninjs("urn:contract:c", 2, "canceled", "OTHER STORY", ""),
        // Nothing to store: a dead letter (empty_article).
        ninjs("urn:contract:empty", 1, "usable", "", ""),
    ];
    for item in items {
        // One at a time, so that the version follows its original.
        let response = pipeline
            .post("/v1/articles", "application/json", item)
            .await;
        assert_eq!(response.status(), 202, "{}", pipeline.logs());
    }
    let versions = pipeline
        .wait_for_count(
            "SELECT count(*) FROM article_versions",
            5,
            Duration::from_secs(60),
        )
        .await;
    let dead = pipeline
        .wait_for_count(
            "SELECT count(*) FROM dead_letters",
            1,
            Duration::from_secs(60),
        )
        .await;
    assert_eq!((versions, dead), (5, 1), "{}", pipeline.logs());

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contract/check_topics.py");
    let output = tokio::process::Command::new(python())
        .arg(script)
        .args(["--brokers", &pipeline.kafka.brokers])
        .args(["--articles", &pipeline.kafka.articles_topic])
        .args(["--dead-letters", &pipeline.kafka.dead_letter_topic])
        .args([
            "--expect-articles",
            "5",
            "--expect-dead-letters",
            "1",
            "--timeout",
            "60",
        ])
        .output()
        .await
        .expect("the contract check runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "kafka-python found records that break the contract:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.trim()).expect("one JSON summary line");
    assert_eq!(summary["articles"], 5, "{summary}");
    assert_eq!(summary["dead_letters"], 1, "{summary}");
    assert_eq!(summary["verdicts"]["new"], 2, "{summary}");
    assert_eq!(summary["verdicts"]["duplicate"], 1, "{summary}");
    assert_eq!(summary["verdicts"]["version"], 1, "{summary}");
    assert_eq!(summary["verdicts"]["kill"], 1, "{summary}");
    assert_eq!(summary["reasons"]["worker/empty_article"], 1, "{summary}");
    pipeline.stop().await;
}
