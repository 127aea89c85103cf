//! `wirestream top`: a live terminal view of the pipeline, from the three
//! services' `/metrics` (or from a Prometheus that scrapes them).
//!
//! A task fetches a round of metrics every second with short timeouts and
//! hands it over a channel; the drawing loop never waits on the network, so
//! a service that stops answering shows as down and the view keeps moving.

mod fetch;
mod model;
mod prom;
mod rows;
mod view;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use wirestream_runtime::Config;

use fetch::{Fetcher, Source};
use model::{Model, Snapshot};
use rows::Sort;
use view::Ui;

#[derive(clap::Args)]
pub struct Args {
    /// Ingest's base URL (default: from `ingest.listen` in the config).
    #[arg(long)]
    ingest: Option<String>,
    /// Worker's base URL (default: from `worker.listen`).
    #[arg(long)]
    worker: Option<String>,
    /// Sink's base URL (default: from `sink.listen`).
    #[arg(long)]
    sink: Option<String>,
    /// Read everything from this Prometheus instead (jobs `wirestream-ingest`, `-worker`, `-sink`).
    #[arg(long, conflicts_with_all = ["ingest", "worker", "sink"])]
    prometheus: Option<String>,
    /// Print one plain-text snapshot (two rounds, `--interval` apart, for the rates) and exit.
    #[arg(long)]
    once: bool,
    /// Time between rounds.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    interval: Duration,
    /// How long a service may take to answer before it shows as down.
    #[arg(long, default_value = "800ms", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// A source quiet for longer than this shows in the warning colour (the alert's 15 minutes).
    #[arg(long, default_value = "15m", value_parser = humantime::parse_duration)]
    stale: Duration,
}

/// `http://` + a listen address; a wildcard address is reached on loopback.
pub fn service_url(listen: std::net::SocketAddr) -> String {
    let host = if listen.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        listen.ip().to_string()
    };
    format!("http://{host}:{}", listen.port())
}

/// The consumer lag a service reports, summed over its topics; `None` when
/// it does not answer or reports none.
pub async fn lag_of(base: &str) -> Option<f64> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()?;
    let body = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    prom::sum(&prom::parse(&body), "wirestream_consumer_lag_messages", &[])
}

fn source(config: &Config, args: &Args) -> Source {
    match &args.prometheus {
        Some(url) => Source::Prometheus(url.trim_end_matches('/').to_owned()),
        None => {
            let pick = |given: &Option<String>, listen| {
                given
                    .as_deref()
                    .map(|u| u.trim_end_matches('/').to_owned())
                    .unwrap_or_else(|| service_url(listen))
            };
            Source::Services([
                pick(&args.ingest, config.ingest.listen),
                pick(&args.worker, config.worker.listen),
                pick(&args.sink, config.sink.listen),
            ])
        }
    }
}

fn describe(source: &Source) -> String {
    match source {
        Source::Services(urls) => urls
            .iter()
            .map(|u| u.trim_start_matches("http://"))
            .collect::<Vec<_>>()
            .join(" "),
        Source::Prometheus(url) => format!("via {url}"),
    }
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let source = source(config, &args);
    let ui = Ui {
        stale: args.stale,
        source: describe(&source),
        ..Ui::default()
    };
    let fetcher = Fetcher::new(source, args.timeout)?;
    if args.once {
        let mut model = Model::default();
        model.ingest(&fetcher.round().await);
        tokio::time::sleep(args.interval).await;
        model.ingest(&fetcher.round().await);
        print!("{}", snapshot(&model, &ui));
        // For scripts: failure when no service answered at all.
        let any = model
            .stages
            .iter()
            .any(|s| !matches!(s.health(), model::Health::Down(_)));
        return Ok(if any {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let stop = CancellationToken::new();
    let (tx, rx) = mpsc::channel(4);
    let fetching = tokio::spawn(fetcher.run(args.interval, tx, stop.clone()));
    // The terminal loop blocks on key events: on a thread of its own.
    let drawn = tokio::task::spawn_blocking(move || interactive(rx, ui)).await;
    stop.cancel();
    let _ = fetching.await;
    drawn.context("the terminal view failed")??;
    Ok(ExitCode::SUCCESS)
}

/// The plain-text snapshot of `--once`.
fn snapshot(m: &Model, ui: &Ui) -> String {
    let clock = chrono::DateTime::from_timestamp(m.wall as i64, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    let mut out = format!("wirestream top  {clock}  {}\n", ui.source);
    for problem in rows::problems(m) {
        out.push_str(&format!("warning: {problem}\n"));
    }
    out.push('\n');
    let tables = [rows::stages(m, 0)]
        .into_iter()
        .chain(view::Pane::ALL.iter().map(|p| view::table(m, ui, *p)));
    let parts: Vec<String> = tables.map(|t| rows::plain(&t)).collect();
    out.push_str(&parts.join("\n"));
    out
}

impl Ui {
    /// Applies a key; true when it asks to quit.
    pub fn key(&mut self, code: KeyCode, modifiers: KeyModifiers) -> bool {
        if code == KeyCode::Char('q')
            || code == KeyCode::Esc && !self.help
            || (code == KeyCode::Char('c') && modifiers.contains(KeyModifiers::CONTROL))
        {
            return true;
        }
        if self.help {
            self.help = false;
            return false;
        }
        match code {
            KeyCode::Char('p') | KeyCode::Char(' ') => self.paused = !self.paused,
            KeyCode::Tab | KeyCode::Right => self.pane = self.pane.next(),
            KeyCode::Char('s') => {
                self.sort = match self.sort {
                    Sort::Most => Sort::Name,
                    Sort::Name => Sort::Most,
                }
            }
            KeyCode::Char('?') | KeyCode::Char('h') => self.help = true,
            _ => {}
        }
        false
    }
}

fn interactive(mut rx: mpsc::Receiver<Snapshot>, mut ui: Ui) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init().context("failed to set up the terminal")?;
    let result = (|| -> anyhow::Result<()> {
        let mut model = Model::default();
        loop {
            // Rounds that came while paused are dropped: the counters'
            // running totals pick the increase up at the next one.
            while let Ok(round) = rx.try_recv() {
                if !ui.paused {
                    model.ingest(&round);
                }
            }
            terminal
                .draw(|frame| view::draw(frame, &model, &ui))
                .context("failed to draw")?;
            if event::poll(Duration::from_millis(100)).context("failed to read the terminal")? {
                if let Event::Key(key) = event::read().context("failed to read a key")? {
                    if key.kind == KeyEventKind::Press && ui.key(key.code, key.modifiers) {
                        return Ok(());
                    }
                }
            }
        }
    })();
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers as M;

    #[test]
    fn keys_pause_switch_sort_help_and_quit() {
        let mut ui = Ui::default();
        assert!(!ui.key(KeyCode::Char('p'), M::NONE));
        assert!(ui.paused);
        ui.key(KeyCode::Tab, M::NONE);
        assert_eq!(ui.pane, view::Pane::DeadLetters);
        ui.key(KeyCode::Char('s'), M::NONE);
        assert_eq!(ui.sort, Sort::Name);
        ui.key(KeyCode::Char('?'), M::NONE);
        assert!(ui.help);
        // Any key closes the help, and does nothing else.
        ui.key(KeyCode::Char('p'), M::NONE);
        assert!(!ui.help && ui.paused);
        assert!(ui.key(KeyCode::Char('q'), M::NONE));
        assert!(ui.key(KeyCode::Char('c'), M::CONTROL));
    }

    #[test]
    fn listen_addresses_become_urls() {
        assert_eq!(
            service_url("0.0.0.0:18080".parse().unwrap()),
            "http://127.0.0.1:18080"
        );
        assert_eq!(
            service_url("10.0.0.2:1".parse().unwrap()),
            "http://10.0.0.2:1"
        );
    }

    #[test]
    fn a_snapshot_is_plain_text() {
        let mut m = Model::default();
        m.ingest(&model::tests::round(
            std::time::Instant::now(),
            0.0,
            [
                "",
                "wirestream_worker_verdicts_total{verdict=\"kill\",provider=\"p\"} 4\n",
                "",
            ],
        ));
        let text = snapshot(&m, &Ui::default());
        assert!(text.contains("verdicts\n"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["kill", "4", "-", "100.0%"]),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "no escape codes in a snapshot");
    }
}
