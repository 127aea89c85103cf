//! `wirestream top` against live services, in tmux: what it draws while a
//! feed runs, its verdict counts against `wirestream report`, a sink that
//! stops shown as down within 3 s, `q`; and `--once`.

use std::time::{Duration, Instant};

use wirestream_tests::tmux::Tmux;
use wirestream_tests::trickle::Trickle;
use wirestream_tests::{binary_path, Pipeline};

fn top_args(pipeline: &Pipeline) -> Vec<String> {
    let [ingest, worker, sink] = pipeline.ports.map(|p| format!("http://127.0.0.1:{p}"));
    vec![
        binary_path("wirestream").display().to_string(),
        "top".into(),
        "--ingest".into(),
        ingest,
        "--worker".into(),
        worker,
        "--sink".into(),
        sink,
    ]
}

/// The words of the screen line that starts (inside its border) with `first`.
fn row<'a>(screen: &'a str, first: &str) -> Option<Vec<&'a str>> {
    screen.lines().find_map(|line| {
        // Two panes share a line: take the left one's cells up to its border.
        let cells: Vec<&str> = line
            .split(['│', '┌', '┐', '└', '┘'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        cells
            .into_iter()
            .find(|c| c.split_whitespace().next() == Some(first))
            .map(|c| c.split_whitespace().collect())
    })
}

fn number(word: Option<&&str>) -> f64 {
    word.and_then(|w| w.parse().ok()).unwrap_or(0.0)
}

/// `wirestream report`'s count per outcome (`new`, …, `dead-letter`).
async fn report(pipeline: &Pipeline) -> Vec<(String, i64)> {
    let out = tokio::process::Command::new(binary_path("wirestream"))
        .arg("report")
        .envs(pipeline.service_env())
        .output()
        .await
        .expect("wirestream report runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn top_draws_the_flow_and_sees_a_sink_go_down() {
    let mut pipeline = Pipeline::start().await.expect("pipeline starts");
    let tmux =
        Tmux::start(&top_args(&pipeline), &pipeline.service_env(), 100, 30).expect("tmux starts");
    let trickle = Trickle::start(&pipeline.ingest_url, 100);

    // Rates above zero at every stage while the feed runs.
    let flowing = tmux
        .wait_for(Duration::from_secs(120), |screen| {
            ["ingest", "worker", "sink"].iter().all(|stage| {
                row(screen, stage)
                    .is_some_and(|r| r.get(1) == Some(&"ready") && number(r.get(2)) > 0.0)
            })
        })
        .await;
    let screen = flowing.unwrap_or_else(|s| {
        panic!(
            "no rate above zero at every stage:\n{s}\n{}",
            pipeline.logs()
        )
    });
    assert!(
        screen.contains("verdicts") && screen.contains("consumer lag"),
        "{screen}"
    );

    // Once the feed stops and everything is stored, the verdict mix on the
    // screen is what `wirestream report` counts in Postgres.
    let sent = trickle.stop().await as i64;
    assert!(sent > 0);
    let accounted = pipeline
        .wait_for_count(
            "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM dead_letters)",
            sent,
            Duration::from_secs(180),
        )
        .await;
    assert_eq!(accounted, sent, "{}", pipeline.logs());
    let counts = report(&pipeline).await;
    assert!(
        counts.iter().any(|(v, n)| v == "duplicate" && *n > 0),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|(v, n)| v == "dead-letter" && *n > 0),
        "{counts:?}"
    );
    let matching = tmux
        .wait_for(Duration::from_secs(60), |screen| {
            ["new", "version", "duplicate", "kill", "dead-letter"]
                .iter()
                .all(|verdict| {
                    let want = counts
                        .iter()
                        .find(|(v, _)| v == verdict)
                        .map(|(_, n)| *n)
                        .unwrap_or(0);
                    row(screen, verdict).and_then(|r| r.get(1).and_then(|n| n.parse::<i64>().ok()))
                        == Some(want)
                })
        })
        .await;
    matching.unwrap_or_else(|s| panic!("the verdicts drawn are not {counts:?}:\n{s}"));

    // A sink that stops answering is drawn as down within 3 s.
    pipeline.kill("sink").await;
    let killed = Instant::now();
    let down = tmux
        .wait_for(Duration::from_secs(3), |screen| {
            row(screen, "sink").is_some_and(|r| r.get(1) == Some(&"DOWN"))
        })
        .await;
    let screen =
        down.unwrap_or_else(|s| panic!("sink not shown as down 3 s after it stopped:\n{s}"));
    assert!(
        screen.contains("sink down"),
        "the status line names it:\n{screen}"
    );
    let took = killed.elapsed();

    // The other keys do not end it; q does, with status 0. (Esc is left
    // out: it quits too unless the help is open, and a lone ESC byte read
    // together with the next key is an Alt chord, so its meaning here would
    // depend on timing.)
    for key in ["p", "Tab", "s", "?", "?"] {
        tmux.send_keys(key).expect("keys");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tmux.exit_status(),
        None,
        "a key other than q ended top:\n{}",
        tmux.capture()
    );
    tmux.send_keys("q").expect("q");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = tmux.exit_status() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "q did not end top:\n{}",
            tmux.capture()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        status,
        0,
        "top did not exit 0 after q (128 + N: killed by signal N):\n{}",
        tmux.capture()
    );
    eprintln!("sink shown as down {took:?} after it stopped");
    pipeline.stop().await;
}

/// Runs `top --once`: whether it succeeded, and what it printed.
async fn once(args: &[String]) -> (bool, String) {
    let out = tokio::process::Command::new(&args[0])
        .args(&args[1..])
        .arg("--once")
        .output()
        .await
        .expect("top --once runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn top_once_prints_a_snapshot() {
    let pipeline = Pipeline::start().await.expect("pipeline starts");
    let items: Vec<String> = (0..20)
        .map(|n| wirestream_tests::trickle::item("once", n))
        .collect();
    let response = pipeline
        .post(
            "/v1/articles:batch",
            "application/x-ndjson",
            items.join("\n"),
        )
        .await;
    assert_eq!(response.status(), 202);
    let stored = pipeline
        .wait_for_count("SELECT count(*) FROM articles", 19, Duration::from_secs(60))
        .await;
    assert_eq!(stored, 19, "{}", pipeline.logs());

    let args = top_args(&pipeline);
    let (ok, text) = once(&args).await;
    assert!(ok, "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "plain text, no escape codes:\n{text}"
    );
    for heading in [
        "stages",
        "verdicts",
        "dead letters by reason",
        "consumer lag",
        "feeds and spool folders",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(heading)),
            "no {heading:?} in:\n{text}"
        );
    }
    let words = |first: &str| -> Vec<String> {
        text.lines()
            .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .find(|w| w.first().map(String::as_str) == Some(first))
            .unwrap_or_default()
    };
    // 20 items: 17 new stories, two copies, one empty item.
    let expected = [
        ("new", 1, "17"),
        ("duplicate", 1, "2"),
        ("dead-letter", 1, "1"),
        ("empty_article", 2, "1"),
        ("sink", 1, "ready"),
    ];
    for (first, column, want) in expected {
        assert_eq!(
            words(first).get(column).map(String::as_str),
            Some(want),
            "{first}: {text}"
        );
    }
    pipeline.stop().await;

    // Nothing answers: it says so, and fails.
    let (ok, text) = once(&args).await;
    assert!(!ok, "{text}");
    assert!(text.contains("warning: sink down"), "{text}");
}
