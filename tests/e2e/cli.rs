//! The offline commands, as an operator runs them: no broker, no database.

use std::process::Command;

use wirestream_tests::{binary_path, shared};

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object a line"))
        .collect()
}

/// `wirestream parse` prints the raw items the pipeline would see.
#[test]
fn parse_prints_the_raw_items() {
    let output = Command::new(binary_path("wirestream"))
        .arg("parse")
        .arg(shared("corpus/seed-article-fr.txt"))
        .arg(shared("formats/ninjs/examples/dpa_text.json"))
        .output()
        .expect("wirestream runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let items = json_lines(&output.stdout);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["format"], "text");
    assert_eq!(
        items[0]["headline"],
        "Les États-Unis affirment que la Russie a demandé l’aide militaire de la Chine pour l’invasion de l’Ukraine"
    );
    assert_eq!(items[1]["format"], "ninjs");
    assert_eq!(
        items[1]["uri"],
        "urn:newsml:dpa.com:20090101:190510-99-167362"
    );
    assert_eq!(items[1]["version"], 2);
    assert_eq!(items[1]["byline"], "Von Christian Hollmann, dpa");
}

/// A file that cannot be parsed: a precise error on stderr and a failing exit code.
#[test]
fn parse_reports_what_is_wrong() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\"uri\": \"x\", \"headlines\": [").expect("written");
    let output = Command::new(binary_path("wirestream"))
        .arg("parse")
        .arg(&path)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("broken.json") && stderr.contains("line 1"),
        "{stderr}"
    );
}

/// `wirestream dedup` decides in memory, one line per item, in input order.
#[test]
fn dedup_prints_one_verdict_per_item_in_order() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("wire.ndjson");
    let item = |uri: &str, version: u32, headline: &str, body: &str| {
        serde_json::json!({
            "uri": uri, "version": version.to_string(), "copyrightholder": "Reuters", "language": "en",
            "headlines": [{"role": "main", "value": headline}],
            "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
        })
        .to_string()
    };
    let body = "LONDON, March 1 - The Bank of England held rates at 5.25 pct, as inflation eased more slowly than expected by economists.\n Reuter";
    let lines = [
        item("urn:a", 1, "BANK OF ENGLAND HOLDS RATES", body),
        item("urn:b", 1, "REFILE-BANK OF ENGLAND HOLDS RATES", body),
        item(
            "urn:a",
            2,
            "UPDATE 1-BANK OF ENGLAND HOLDS RATES",
            &format!("{body} Markets rallied."),
        ),
        item("urn:c", 1, "", ""),
    ];
    std::fs::write(&path, lines.join("\n")).expect("written");
    // Several passes (for `make bench-dedup`) each start from an empty
    // index: the verdicts are those of one.
    for (flags, stats_lines) in [(&[][..], 0), (&["--stats", "--passes", "3"][..], 3)] {
        let output = Command::new(binary_path("wirestream"))
            .arg("dedup")
            .args(flags)
            .arg(&path)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let pass_lines = stderr.lines().filter(|l| l.starts_with("pass=")).count();
        assert_eq!(pass_lines, stats_lines, "one stats line per pass: {stderr}");
        let verdicts: Vec<(String, String, Option<String>)> = json_lines(&output.stdout)
            .iter()
            .map(|v| {
                (
                    v["uri"].as_str().unwrap_or_default().to_owned(),
                    v["verdict"].as_str().unwrap_or_default().to_owned(),
                    v["duplicate_of"].as_str().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            verdicts,
            vec![
                ("urn:a".into(), "new".into(), None),
                ("urn:b".into(), "duplicate".into(), Some("urn:a".into())),
                ("urn:a".into(), "version".into(), None),
                ("urn:c".into(), "dead_letter".into(), None),
            ],
            "{flags:?}"
        );
    }
}

/// `--passes 0` would decide nothing: it is refused before any work.
#[test]
fn dedup_refuses_zero_passes() {
    let output = Command::new(binary_path("wirestream"))
        .args(["dedup", "--passes", "0", "-"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("--passes"), "{stderr}");
}
