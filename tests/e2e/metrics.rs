//! The dashboard and the alert rules in `deploy/` only work if the services
//! export every metric they name, with every label they group or filter by: a
//! panel showing "No data" is a bug. This test pushes traffic through the
//! real services, scrapes the three `/metrics`, and checks each expression.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use wirestream_tests::Pipeline;

/// Labels Prometheus adds to every scraped series: never exported by a service.
const TARGET_LABELS: &[&str] = &["job", "instance"];
/// Keywords after which PromQL lists label names in parentheses.
const GROUPING_KEYWORDS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

fn ninjs(uri: &str, headline: &str, body: &str) -> String {
    json!({
        "uri": uri, "version": "1", "pubstatus": "usable",
        "versioncreated": "2024-03-01T10:00:00Z", "copyrightholder": "Reuters", "language": "en",
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [{"role": "main", "contenttype": "text/plain", "value": body}],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_and_alert_metrics_are_exported() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let expressions = deploy_expressions(&root);
    assert!(
        expressions.len() >= 10,
        "too few expressions found in deploy/: {expressions:?}"
    );

    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let body = "LONDON, March 1 - The Bank of England held rates at 5.25 pct on Thursday, \
                as inflation eased more slowly than expected.\n    Economists had expected the hold.\n Reuter\n&#3;";
    // A new story, a copy of it under another id, and an item with nothing in
    // it, which the worker dead-letters.
    let batch = [
        ninjs("urn:metrics:a", "BANK OF ENGLAND HOLDS RATES", body),
        ninjs("urn:metrics:b", "REFILE-BANK OF ENGLAND HOLDS RATES", body),
        ninjs("urn:metrics:empty", "", ""),
    ]
    .join("\n");
    let response = pipeline
        .post("/v1/articles:batch", "application/x-ndjson", batch)
        .await;
    assert_eq!(response.status(), 202, "{}", pipeline.logs());
    // And a request ingest refuses, for the rejections panel.
    let response = pipeline
        .post("/v1/articles", "application/json", "{\"uri\": ")
        .await;
    assert_eq!(response.status(), 400);

    let within = Duration::from_secs(60);
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 2, within)
        .await;
    assert_eq!(stored, 2, "{}", pipeline.logs());
    let letters = pipeline
        .wait_for_count("SELECT count(*) FROM dead_letters", 1, within)
        .await;
    assert_eq!(letters, 1, "{}", pipeline.logs());

    let client = reqwest::Client::new();
    for port in pipeline.ports {
        for (path, status) in [("/health", 200), ("/ready", 200)] {
            let response = client
                .get(format!("http://127.0.0.1:{port}{path}"))
                .send()
                .await
                .expect("ops answer");
            assert_eq!(response.status().as_u16(), status, "{path} on port {port}");
        }
    }

    // Some series appear a little after the rows (the lag reporter runs every
    // few seconds): poll until nothing is missing, then report what still is.
    let started = Instant::now();
    let missing = loop {
        let mut exported = Exported::default();
        for port in pipeline.ports {
            let text = client
                .get(format!("http://127.0.0.1:{port}/metrics"))
                .send()
                .await
                .expect("/metrics answers")
                .text()
                .await
                .expect("/metrics text");
            exported.add(&text);
        }
        let missing: Vec<String> = expressions
            .iter()
            .flat_map(|e| exported.missing(e))
            .collect();
        if missing.is_empty() || started.elapsed() > Duration::from_secs(30) {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        missing.is_empty(),
        "not exported:\n{}\n{}",
        missing.join("\n"),
        pipeline.logs()
    );

    // Every metric the dashboards and alerts use is documented.
    let docs = std::fs::read_to_string(root.join("docs/metrics.md")).expect("docs/metrics.md");
    for expression in &expressions {
        for selector in parse(expression).selectors {
            let base = base_name(&selector.metric);
            assert!(
                docs.contains(base),
                "{base} is not documented in docs/metrics.md"
            );
        }
    }
    pipeline.stop().await;
}

/// Every PromQL expression of the Grafana dashboards and the alert rules.
fn deploy_expressions(root: &Path) -> Vec<String> {
    let mut expressions = Vec::new();
    let dashboards = root.join("deploy/grafana/dashboards");
    for entry in std::fs::read_dir(&dashboards).expect("deploy/grafana/dashboards") {
        let text =
            std::fs::read_to_string(entry.expect("a dashboard").path()).expect("a dashboard file");
        let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
        collect_targets(&dashboard, &mut expressions);
    }
    let rules = std::fs::read_to_string(root.join("deploy/prometheus/rules/wirestream.rules.yml"))
        .expect("the rules");
    expressions.extend(rule_expressions(&rules));
    expressions
}

fn collect_targets(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(expr)) = map.get("expr") {
                out.push(expr.clone());
            }
            map.values().for_each(|v| collect_targets(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_targets(v, out)),
        _ => {}
    }
}

/// The `expr:` values of a rules file: inline, or a `|`/`>` block of the
/// lines indented deeper than the key.
fn rule_expressions(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        if let Some(rest) = line.trim_start().strip_prefix("expr:") {
            let rest = rest.trim();
            if rest.starts_with('|') || rest.starts_with('>') {
                let mut block = Vec::new();
                while i + 1 < lines.len() {
                    let next = lines[i + 1];
                    let next_indent = next.len() - next.trim_start().len();
                    if !next.trim().is_empty() && next_indent <= indent {
                        break;
                    }
                    block.push(next.trim());
                    i += 1;
                }
                out.push(block.join(" "));
            } else {
                out.push(rest.trim_matches(|c| c == '"' || c == '\'').to_owned());
            }
        }
        i += 1;
    }
    out
}

/// A `wirestream_*` metric in an expression and the labels its selector names.
#[derive(Debug)]
struct Selector {
    metric: String,
    labels: Vec<String>,
}

/// What an expression needs: its selectors, and the labels it groups or
/// matches by (which every one of its metrics must carry).
#[derive(Debug, Default)]
struct Needs {
    selectors: Vec<Selector>,
    grouping: Vec<String>,
}

/// A small PromQL scanner: identifiers, `{...}` selectors and `by (...)`
/// lists; string literals and `[...]` ranges are skipped.
fn parse(expression: &str) -> Needs {
    let chars: Vec<char> = expression.chars().collect();
    let mut needs = Needs::default();
    let mut i = 0;
    let identifier = |i: &mut usize| {
        let start = *i;
        while *i < chars.len()
            && (chars[*i].is_ascii_alphanumeric() || chars[*i] == '_' || chars[*i] == ':')
        {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    let skip_space = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            if c == '$' {
                i += 1;
            }
            let word = identifier(&mut i);
            let mut j = i;
            skip_space(&mut j);
            if word.starts_with("wirestream_") {
                let mut labels = Vec::new();
                if j < chars.len() && chars[j] == '{' {
                    j += 1;
                    while j < chars.len() && chars[j] != '}' {
                        skip_space(&mut j);
                        let label = identifier(&mut j);
                        if !label.is_empty() {
                            labels.push(label);
                        }
                        // Skip the operator and the quoted value.
                        while j < chars.len() && chars[j] != '"' && chars[j] != '}' {
                            j += 1;
                        }
                        if j < chars.len() && chars[j] == '"' {
                            j += 1;
                            while j < chars.len() && chars[j] != '"' {
                                j += if chars[j] == '\\' { 2 } else { 1 };
                            }
                            j += 1;
                        }
                        while j < chars.len() && (chars[j] == ',' || chars[j].is_whitespace()) {
                            j += 1;
                        }
                    }
                    i = j + 1;
                }
                needs.selectors.push(Selector {
                    metric: word,
                    labels,
                });
            } else if GROUPING_KEYWORDS.contains(&word.as_str())
                && j < chars.len()
                && chars[j] == '('
            {
                j += 1;
                while j < chars.len() && chars[j] != ')' {
                    skip_space(&mut j);
                    let label = identifier(&mut j);
                    if label.is_empty() {
                        j += 1;
                    } else {
                        needs.grouping.push(label);
                    }
                }
                i = j + 1;
            }
        } else {
            i += 1;
        }
    }
    needs
}

fn base_name(metric: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| metric.strip_suffix(suffix))
        .unwrap_or(metric)
}

/// Label names seen per series name in Prometheus text exposition.
#[derive(Default)]
struct Exported {
    labels: BTreeMap<String, BTreeSet<String>>,
}

impl Exported {
    fn add(&mut self, text: &str) {
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let name_end = line.find(['{', ' ']).unwrap_or(line.len());
            let entry = self.labels.entry(line[..name_end].to_owned()).or_default();
            if line[name_end..].starts_with('{') {
                // `key="value",...}`: label names are what precedes each `="`.
                let mut rest = &line[name_end + 1..];
                while let Some(eq) = rest.find("=\"") {
                    entry.insert(rest[..eq].trim_start_matches(',').trim().to_owned());
                    // Skip the value, honouring escaped quotes.
                    let value = &rest[eq + 2..];
                    let mut end = 0;
                    let bytes = value.as_bytes();
                    while end < bytes.len() && bytes[end] != b'"' {
                        end += if bytes[end] == b'\\' { 2 } else { 1 };
                    }
                    rest = &value[(end + 1).min(value.len())..];
                }
            }
        }
    }

    /// What `expression` needs that is not exported, as readable lines.
    fn missing(&self, expression: &str) -> Vec<String> {
        let needs = parse(expression);
        let mut missing = Vec::new();
        for selector in &needs.selectors {
            let Some(labels) = self.labels.get(&selector.metric) else {
                missing.push(format!("{} (in `{expression}`)", selector.metric));
                continue;
            };
            for label in selector.labels.iter().chain(&needs.grouping) {
                if !TARGET_LABELS.contains(&label.as_str()) && !labels.contains(label) {
                    missing.push(format!(
                        "{} without label {label} (in `{expression}`)",
                        selector.metric
                    ));
                }
            }
        }
        missing
    }
}

#[test]
fn the_scanner_finds_metrics_and_labels() {
    let needs = parse(
        "histogram_quantile(0.99, sum by (le) (rate(wirestream_x_bucket{stage=\"a,b\", kind!~\"c\"}[$__rate_interval]))) \
         / on(job) group_left sum without (instance) (wirestream_y)",
    );
    let metrics: Vec<&str> = needs.selectors.iter().map(|s| s.metric.as_str()).collect();
    assert_eq!(metrics, ["wirestream_x_bucket", "wirestream_y"]);
    assert_eq!(needs.selectors[0].labels, ["stage", "kind"]);
    assert_eq!(needs.grouping, ["le", "job", "instance"]);

    let mut exported = Exported::default();
    exported.add("# TYPE wirestream_y counter\nwirestream_y{job=\"x\",quote=\"a\\\"b=\\\"c\"} 1\nwirestream_z 2\n");
    assert_eq!(
        exported.labels["wirestream_y"],
        BTreeSet::from(["job".to_string(), "quote".to_string()])
    );
    assert!(exported.labels["wirestream_z"].is_empty());

    let rules = "    - alert: A\n      expr: up == 0\n    - alert: B\n      expr: |\n        sum(a)\n          > 1\n      for: 1m\n";
    assert_eq!(rule_expressions(rules), ["up == 0", "sum(a) > 1"]);
}
