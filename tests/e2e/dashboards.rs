//! The Grafana dashboard and the alert rules against live data: a private
//! Prometheus scrapes a pipeline that is being fed, and every panel query of
//! `deploy/grafana/dashboards/*.json` and every alert expression of
//! `deploy/prometheus/rules/` runs against its HTTP API. Then two alerts are
//! made to fire by real conditions and to resolve when they end.
//! (`deploy/check.sh` keeps the fast offline checks: promtool, names.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wirestream_tests::pg_proxy::PgProxy;
use wirestream_tests::prometheus::{rules_with_for, Prometheus, Series};
use wirestream_tests::trickle::Trickle;
use wirestream_tests::Pipeline;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// Every panel's queries: (panel title, expression).
fn panel_queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(deploy().join("grafana/dashboards"))
        .expect("the dashboards folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("a dashboard"))
                .expect("dashboard JSON");
        let mut panels: Vec<serde_json::Value> =
            json["panels"].as_array().cloned().unwrap_or_default();
        while let Some(panel) = panels.pop() {
            panels.extend(panel["panels"].as_array().cloned().unwrap_or_default());
            for target in panel["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = target["expr"].as_str() {
                    // What Grafana would put there with a 1 s scrape interval.
                    let expr = expr
                        .replace("$__rate_interval", "30s")
                        .replace("$__interval", "5s");
                    out.push((panel["title"].as_str().unwrap_or("?").to_owned(), expr));
                }
            }
        }
    }
    out
}

/// Every alert of the rules file: (name, expression). The file is ours and
/// regular: `- alert: Name`, then `expr: one line` or `expr: |` and an
/// indented block.
fn alert_rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(deploy().join("prometheus/rules/wirestream.rules.yml"))
        .expect("the rules");
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    let mut name = None;
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(n) = trimmed.strip_prefix("- alert:") {
            name = Some(n.trim().to_owned());
        } else if let Some(expr) = trimmed.strip_prefix("expr:") {
            let indent = line.len() - trimmed.len();
            let mut expr = expr.trim().to_owned();
            if expr == "|" {
                expr.clear();
                while let Some(next) = lines.peek() {
                    if next.trim().is_empty() || next.len() - next.trim_start().len() <= indent {
                        break;
                    }
                    expr.push_str(next.trim());
                    expr.push(' ');
                    lines.next();
                }
            }
            if let Some(name) = name.take() {
                out.push((name, expr.trim().to_owned()));
            }
        }
    }
    out
}

/// Metrics a healthy, fed pipeline may rightly show as zero.
const MAY_BE_ZERO: &[&str] = &[
    // Caught up between two measurements.
    "wirestream_consumer_lag_messages",
    // Between batches.
    "_in_flight_items",
    // Nothing failed.
    "wirestream_sink_errors_total",
];

fn judge(expr: &str, series: &[Series]) -> Result<(), String> {
    if series.is_empty() {
        return Err("no series".into());
    }
    let useful = series.iter().any(|s| s.value.is_finite() && s.value != 0.0);
    if !useful && !MAY_BE_ZERO.iter().any(|m| expr.contains(m)) {
        let values: Vec<f64> = series.iter().map(|s| s.value).collect();
        return Err(format!("only NaN or zero while items flowed: {values:?}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_panel_and_alert_query_returns_live_data() {
    let panels = panel_queries();
    let alerts = alert_rules();
    assert!(panels.len() >= 20, "too few panel queries: {panels:?}");
    assert!(alerts.len() >= 8, "too few alerts: {alerts:?}");

    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let prometheus = Prometheus::start(pipeline.ports, None)
        .await
        .expect("prometheus starts");
    let trickle = Trickle::start(&pipeline.ingest_url, 50);

    let started = Instant::now();
    let failures = loop {
        // A request ingest refuses, now and then, for the rejections panel
        // (a rate needs the counter to grow while Prometheus watches).
        let response = pipeline
            .post("/v1/articles", "application/json", "{\"uri\": ")
            .await;
        assert_eq!(response.status(), 400);
        let mut failures = Vec::new();
        for (title, expr) in &panels {
            match prometheus.query(expr).await {
                Ok(series) => {
                    if let Err(why) = judge(expr, &series) {
                        failures.push(format!("panel {title:?}: {expr}: {why}"));
                    }
                }
                Err(error) => failures.push(format!("panel {title:?}: {error}")),
            }
        }
        for (name, expr) in &alerts {
            // The rule must evaluate, and every metric it reads must exist.
            if let Err(error) = prometheus.query(expr).await {
                failures.push(format!("alert {name}: {error}"));
            }
            for metric in metric_names(expr) {
                match prometheus.query(&metric).await {
                    Ok(series) if !series.is_empty() => {}
                    _ => failures.push(format!("alert {name}: no series of {metric}")),
                }
            }
        }
        if failures.is_empty() || started.elapsed() > Duration::from_secs(90) {
            break failures;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    let sent = trickle.stop().await;
    assert!(
        failures.is_empty(),
        "{} items sent; failing queries:\n{}\n{}",
        sent,
        failures.join("\n"),
        prometheus.log()
    );
    // `wirestream top` reads the same Prometheus (--prometheus).
    let out = tokio::process::Command::new(wirestream_tests::binary_path("wirestream"))
        .args(["top", "--once", "--prometheus", &prometheus.url])
        .output()
        .await
        .expect("top --once runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for stage in ["ingest", "worker", "sink"] {
        let words: Vec<&str> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.first() == Some(&stage))
            .unwrap_or_default();
        assert_eq!(
            words.get(1),
            Some(&"ready"),
            "{stage} via Prometheus:\n{text}"
        );
        // Its total since the service started is above zero.
        let total: f64 = words.get(4).and_then(|n| n.parse().ok()).unwrap_or(0.0);
        assert!(total > 0.0, "{stage} via Prometheus:\n{text}");
    }
    eprintln!(
        "{} panel queries and {} alerts checked against live data in {:?}",
        panels.len(),
        alerts.len(),
        started.elapsed()
    );
    pipeline.stop().await;
}

/// The `wirestream_*` metric names an expression reads.
fn metric_names(expr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("wirestream_") {
        let name: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[i + name.len()..];
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// Waits until `alert` is firing (or gone), else fails with every log.
async fn expect(
    prometheus: &Prometheus,
    pipeline: &Pipeline,
    alert: &str,
    firing: bool,
    within: Duration,
) {
    let took = prometheus.wait_alert(alert, firing, within).await;
    let state = if firing { "fire" } else { "resolve" };
    let lag = prometheus
        .query("max by (group, topic) (wirestream_consumer_lag_messages)")
        .await
        .unwrap_or_default();
    assert!(
        took.is_some(),
        "{alert} did not {state} within {within:?}\nlag: {lag:?}\n{}\n{}",
        pipeline.logs(),
        prometheus.log()
    );
    eprintln!("{alert}: {state}d after {took:?}");
}

/// The lag alert and two more, brought about for real: the sink stopped
/// while items keep coming (`WirestreamDown`, and `WirestreamConsumerLagGrowing`
/// from the lag the worker measures for the sink's group), then its database
/// cut (the sink stays up: the lag alert again, and `WirestreamNotReady`);
/// each resolves when the condition ends.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_fire_on_real_conditions_and_resolve() {
    let mut pipeline = Pipeline::start().await.expect("pipeline starts");
    // The sink alone reaches PostgreSQL through a proxy the test can cut.
    let target = pipeline
        .database_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@').map(|(_, r)| r).or(Some(rest)))
        .and_then(|r| r.split('/').next())
        .expect("a host:port in the database URL")
        .to_owned();
    let proxy = PgProxy::start(target).await.expect("proxy");
    pipeline.set_env(
        "WIRESTREAM_DATABASE__URL",
        proxy.url(&pipeline.database_url),
    );
    pipeline.restart("sink").await.expect("sink restarts");
    let prometheus = Prometheus::start(pipeline.ports, Some(rules_with_for("2s")))
        .await
        .expect("prometheus starts");
    let trickle = Trickle::start(&pipeline.ingest_url, 250);
    let within = Duration::from_secs(90);
    // The sink stops while items keep coming: Prometheus cannot scrape it,
    // and its group falls behind (the worker measures that group's lag).
    pipeline.kill("sink").await;
    expect(&prometheus, &pipeline, "WirestreamDown", true, within).await;
    expect(
        &prometheus,
        &pipeline,
        "WirestreamConsumerLagGrowing",
        true,
        within,
    )
    .await;
    pipeline
        .start_instance("sink")
        .await
        .expect("sink starts again");
    expect(&prometheus, &pipeline, "WirestreamDown", false, within).await;
    expect(
        &prometheus,
        &pipeline,
        "WirestreamConsumerLagGrowing",
        false,
        Duration::from_secs(180),
    )
    .await;

    // The sink's database goes away while items keep coming: the sink stays
    // up, consumes nothing, and its group falls behind.
    proxy.cut();
    expect(
        &prometheus,
        &pipeline,
        "WirestreamConsumerLagGrowing",
        true,
        within,
    )
    .await;
    expect(&prometheus, &pipeline, "WirestreamNotReady", true, within).await;

    // The database is back (and the feed done): the sink catches up, after
    // its retry backoff, and both resolve.
    trickle.stop().await;
    proxy.restore();
    expect(
        &prometheus,
        &pipeline,
        "WirestreamConsumerLagGrowing",
        false,
        Duration::from_secs(180),
    )
    .await;
    expect(&prometheus, &pipeline, "WirestreamNotReady", false, within).await;
    pipeline.stop().await;
}
