//! What `wirestream top` knows, built from one scrape of the three services
//! after another; the drawing (`view.rs`) and the plain snapshot only read it.
//!
//! Counters restart from zero with their service, so every counter is kept
//! twice: as exported (since the service started) and as a running total of
//! the increases seen since `top` started, which a restart does not undo.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::prom::{self, Sample};

pub const STAGES: [&str; 3] = ["ingest", "worker", "sink"];
pub const VERDICTS: [&str; 4] = ["new", "version", "duplicate", "kill"];

/// How long rates and trends are remembered (the sparkline shows `TREND`).
const KEEP: Duration = Duration::from_secs(600);
pub const TREND: Duration = Duration::from_secs(300);
/// "Now" is the rate over the last few seconds, so one slow scrape does not
/// show as a drop to zero.
const NOW: Duration = Duration::from_secs(5);
/// Quantiles are of the observations in the last minute.
const QUANTILE_WINDOW: Duration = Duration::from_secs(60);

/// Whether a service answers, and whether it says it can work.
#[derive(Debug, Clone, PartialEq)]
pub enum Health {
    /// Nothing answered yet.
    Unknown,
    /// `/ready` said 200.
    Ready,
    /// It answers, but `/ready` said no (the reason, shortened).
    NotReady(String),
    /// It did not answer in time (the error).
    Down(String),
}

impl Health {
    pub fn word(&self) -> &'static str {
        match self {
            Health::Unknown => "?",
            Health::Ready => "ready",
            Health::NotReady(_) => "unready",
            Health::Down(_) => "DOWN",
        }
    }
}

/// One service's answer to one round of requests.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub health: Health,
    /// `None` when `/metrics` did not answer.
    pub samples: Option<Vec<Sample>>,
}

/// One round: the three services, in [`STAGES`] order.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub at: Instant,
    /// Unix time of the round, for the feeds' "last item" ages.
    pub wall: f64,
    pub stages: [Scrape; 3],
}

/// A counter followed across scrapes and restarts.
#[derive(Debug, Clone, Default)]
pub struct Counter {
    last: Option<f64>,
    /// The value exported now: since the service started.
    pub since_service: f64,
    /// Increases seen since `top` started, across restarts.
    pub since_top: f64,
    points: VecDeque<(Instant, f64)>,
}

impl Counter {
    pub fn observe(&mut self, at: Instant, value: f64) {
        if let Some(last) = self.last {
            // A lower value means the service restarted from zero.
            self.since_top += if value >= last { value - last } else { value };
        }
        self.last = Some(value);
        self.since_service = value;
        self.points.push_back((at, self.since_top));
        while self
            .points
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > KEEP)
        {
            self.points.pop_front();
        }
    }

    /// The running total at `t`: the last point at or before it.
    fn total_at(&self, t: Instant) -> Option<f64> {
        self.points
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .or(self.points.front())
            .map(|(_, v)| *v)
    }

    /// Per second over the last few seconds; `None` without two recent points.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let &(last_at, last) = self.points.back()?;
        if now.duration_since(last_at) > NOW {
            return None;
        }
        let (first_at, first) = self
            .points
            .iter()
            .find(|(t, _)| last_at.duration_since(*t) <= NOW)
            .copied()?;
        let seconds = last_at.duration_since(first_at).as_secs_f64();
        (seconds > 0.0).then(|| (last - first) / seconds)
    }

    /// `slots` rates per second, oldest first, over the last `span`.
    pub fn trend(&self, now: Instant, span: Duration, slots: usize) -> Vec<f64> {
        if slots == 0 || self.points.is_empty() {
            return Vec::new();
        }
        let step = span / slots as u32;
        let start = now.checked_sub(span).unwrap_or(now);
        let first_seen = self.points.front().map(|(t, _)| *t).unwrap_or(now);
        (0..slots as u32)
            .map(|i| {
                let (a, b) = (start + step * i, start + step * (i + 1));
                if b <= first_seen {
                    return 0.0;
                }
                match (self.total_at(a), self.total_at(b)) {
                    (Some(x), Some(y)) => (y - x).max(0.0) / step.as_secs_f64().max(1e-9),
                    _ => 0.0,
                }
            })
            .collect()
    }
}

/// A histogram's buckets over the last minute.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    points: VecDeque<(Instant, Vec<(f64, f64)>)>,
}

impl Histogram {
    pub fn observe(&mut self, at: Instant, buckets: Vec<(f64, f64)>) {
        if buckets.is_empty() {
            return;
        }
        self.points.push_back((at, buckets));
        // Keep one point older than the window, so the window is whole.
        while self.points.len() > 2 && at.duration_since(self.points[1].0) >= QUANTILE_WINDOW {
            self.points.pop_front();
        }
    }

    /// Quantile of the observations in the last minute; `None` when there
    /// were none. After a restart, of those since the restart.
    pub fn recent(&self, q: f64) -> Option<f64> {
        let (_, now) = self.points.back()?;
        let (_, then) = self.points.front()?;
        let window = prom::bucket_delta(now, then).unwrap_or_else(|| now.clone());
        prom::quantile(q, &window)
    }

    /// Quantile of everything since the service started.
    pub fn lifetime(&self, q: f64) -> Option<f64> {
        prom::quantile(q, &self.points.back()?.1)
    }
}

/// One stage's view: its service's health, items, batches and lag.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub health: Option<Health>,
    pub last_answer: Option<Instant>,
    pub items: Counter,
    pub batch: Histogram,
    /// Consumer lag per topic (messages, summed over partitions).
    pub lag: BTreeMap<String, f64>,
}

impl Stage {
    pub fn health(&self) -> Health {
        self.health.clone().unwrap_or(Health::Unknown)
    }

    pub fn total_lag(&self) -> Option<f64> {
        (!self.lag.is_empty()).then(|| self.lag.values().sum())
    }
}

/// A source ingest heard from: when it last sent an item, and how many.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Source {
    pub last_item: f64,
    pub items: f64,
}

/// Everything shown.
#[derive(Debug, Clone)]
pub struct Model {
    pub stages: [Stage; 3],
    pub verdicts: BTreeMap<&'static str, Counter>,
    /// Dead letters by `(stage, reason)`.
    pub dead_letters: BTreeMap<(String, String), Counter>,
    pub end_to_end: Histogram,
    pub sources: BTreeMap<String, Source>,
    pub now: Instant,
    pub wall: f64,
    pub rounds: u64,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            stages: Default::default(),
            verdicts: VERDICTS.iter().map(|v| (*v, Counter::default())).collect(),
            dead_letters: BTreeMap::new(),
            end_to_end: Histogram::default(),
            sources: BTreeMap::new(),
            now: Instant::now(),
            wall: 0.0,
            rounds: 0,
        }
    }
}

/// The counter of items each stage moves, and the histogram of its batches.
const ITEMS: [(&str, &[(&str, &str)]); 3] = [
    ("wirestream_ingest_items_received_total", &[]),
    ("wirestream_worker_items_consumed_total", &[]),
    ("wirestream_sink_rows_stored_total", &[]),
];
const BATCH: [&str; 3] = [
    "wirestream_ingest_produce_seconds",
    "wirestream_worker_batch_seconds",
    "wirestream_sink_flush_seconds",
];

impl Model {
    pub fn ingest(&mut self, snapshot: &Snapshot) {
        let at = snapshot.at;
        self.now = at;
        self.wall = snapshot.wall;
        self.rounds += 1;
        for (i, scrape) in snapshot.stages.iter().enumerate() {
            let stage = &mut self.stages[i];
            stage.health = Some(scrape.health.clone());
            if !matches!(scrape.health, Health::Down(_)) {
                stage.last_answer = Some(at);
            }
            let Some(samples) = &scrape.samples else {
                stage.lag.clear();
                continue;
            };
            let (name, filter) = ITEMS[i];
            if let Some(v) = prom::sum(samples, name, filter) {
                stage.items.observe(at, v);
            }
            stage.batch.observe(at, prom::buckets(samples, BATCH[i]));
            stage.lag = lag(samples);
            for (s_stage, reason, value) in dead_letters(samples) {
                self.dead_letters
                    .entry((s_stage, reason))
                    .or_default()
                    .observe(at, value);
            }
            match i {
                0 => self.sources = sources(samples),
                1 => {
                    for verdict in VERDICTS {
                        if let Some(v) = prom::sum(
                            samples,
                            "wirestream_worker_verdicts_total",
                            &[("verdict", verdict)],
                        ) {
                            self.verdicts.entry(verdict).or_default().observe(at, v);
                        }
                    }
                }
                _ => self.end_to_end.observe(
                    at,
                    prom::buckets(samples, "wirestream_end_to_end_latency_seconds"),
                ),
            }
        }
    }

    /// Verdicts since the worker started, all four.
    pub fn verdict_total(&self) -> f64 {
        self.verdicts.values().map(|c| c.since_service).sum()
    }

    /// Dead letters since their services started.
    pub fn dead_letter_total(&self) -> f64 {
        self.dead_letters.values().map(|c| c.since_service).sum()
    }

    /// Dead letters per second now, every stage and reason.
    pub fn dead_letter_rate(&self) -> f64 {
        self.dead_letters
            .values()
            .filter_map(|c| c.rate(self.now))
            .sum()
    }

    /// Seconds since a source's last item.
    pub fn age(&self, source: &Source) -> f64 {
        (self.wall - source.last_item).max(0.0)
    }
}

/// Lag per topic: the largest report of each partition (every replica
/// reports the whole group), summed over partitions.
fn lag(samples: &[Sample]) -> BTreeMap<String, f64> {
    let mut by_partition: BTreeMap<(String, String), f64> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| s.name == "wirestream_consumer_lag_messages")
    {
        let key = (
            s.label("topic").unwrap_or("").to_owned(),
            s.label("partition").unwrap_or("").to_owned(),
        );
        let entry = by_partition.entry(key).or_insert(0.0);
        *entry = entry.max(s.value);
    }
    let mut out = BTreeMap::new();
    for ((topic, _), v) in by_partition {
        *out.entry(topic).or_insert(0.0) += v;
    }
    out
}

fn dead_letters(samples: &[Sample]) -> Vec<(String, String, f64)> {
    let mut out: BTreeMap<(String, String), f64> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| s.name == "wirestream_dead_letters_total")
    {
        let key = (
            s.label("stage").unwrap_or("").to_owned(),
            s.label("reason").unwrap_or("").to_owned(),
        );
        *out.entry(key).or_insert(0.0) += s.value;
    }
    out.into_iter().map(|((a, b), v)| (a, b, v)).collect()
}

fn sources(samples: &[Sample]) -> BTreeMap<String, Source> {
    let mut out: BTreeMap<String, Source> = BTreeMap::new();
    for s in samples {
        let Some(source) = s.label("source") else {
            continue;
        };
        match s.name.as_str() {
            "wirestream_ingest_last_item_timestamp_seconds" => {
                let e = out.entry(source.to_owned()).or_default();
                e.last_item = e.last_item.max(s.value);
            }
            "wirestream_ingest_items_received_total" => {
                out.entry(source.to_owned()).or_default().items += s.value;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A round where every service answers with `texts` (ingest, worker, sink).
    pub(crate) fn round(at: Instant, wall: f64, texts: [&str; 3]) -> Snapshot {
        Snapshot {
            at,
            wall,
            stages: texts.map(|t| Scrape {
                health: Health::Ready,
                samples: Some(prom::parse(t)),
            }),
        }
    }

    #[test]
    fn counters_survive_a_restart() {
        let t0 = Instant::now();
        let mut c = Counter::default();
        c.observe(t0, 100.0);
        c.observe(t0 + Duration::from_secs(1), 150.0);
        // The service restarted and counted 20 since.
        c.observe(t0 + Duration::from_secs(2), 20.0);
        assert_eq!(c.since_service, 20.0);
        assert_eq!(c.since_top, 70.0);
        assert_eq!(c.rate(t0 + Duration::from_secs(2)), Some(35.0));
        // Nothing heard for longer than "now": no rate rather than a stale one.
        assert_eq!(c.rate(t0 + Duration::from_secs(60)), None);
    }

    #[test]
    fn trends_show_when_items_flowed() {
        let t0 = Instant::now();
        let mut c = Counter::default();
        for s in 0..=10u64 {
            // 10 items a second for 5 s, then nothing.
            c.observe(t0 + Duration::from_secs(s), (s.min(5) * 10) as f64);
        }
        let trend = c.trend(t0 + Duration::from_secs(10), Duration::from_secs(10), 2);
        assert_eq!(trend, vec![10.0, 0.0]);
    }

    #[test]
    fn a_round_fills_every_part() {
        let t0 = Instant::now();
        let ingest =
            "wirestream_ingest_items_received_total{source=\"spool:in\",format=\"ndjson\"} 10\n\
                      wirestream_ingest_last_item_timestamp_seconds{source=\"spool:in\"} 1000\n";
        let worker = "wirestream_worker_items_consumed_total{source=\"spool:in\"} 10\n\
                      wirestream_worker_verdicts_total{verdict=\"new\",provider=\"\"} 0\n\
                      wirestream_worker_verdicts_total{verdict=\"new\",provider=\"r\"} 7\n\
                      wirestream_worker_verdicts_total{verdict=\"duplicate\",provider=\"r\"} 2\n\
                      wirestream_dead_letters_total{stage=\"worker\",reason=\"empty_article\"} 1\n\
                      wirestream_consumer_lag_messages{group=\"g\",topic=\"raw\",partition=\"0\"} 3\n\
                      wirestream_consumer_lag_messages{group=\"g\",topic=\"raw\",partition=\"1\"} 4\n";
        let sink = "wirestream_sink_rows_stored_total{table=\"articles\"} 9\n\
                    wirestream_sink_rows_stored_total{table=\"dead_letters\"} 1\n\
                    wirestream_end_to_end_latency_seconds_bucket{le=\"1\"} 9\n\
                    wirestream_end_to_end_latency_seconds_bucket{le=\"+Inf\"} 9\n";
        let mut m = Model::default();
        m.ingest(&round(t0, 1030.0, [ingest, worker, sink]));
        assert_eq!(m.stages[2].items.since_service, 10.0);
        assert_eq!(m.stages[1].lag.get("raw"), Some(&7.0));
        assert_eq!(m.verdicts["new"].since_service, 7.0);
        assert_eq!(m.verdict_total(), 9.0);
        assert_eq!(m.dead_letter_total(), 1.0);
        let source = &m.sources["spool:in"];
        assert_eq!((source.items, m.age(source)), (10.0, 30.0));
        assert!(m.end_to_end.lifetime(0.5).unwrap() <= 1.0);
        // A worker that stops answering keeps its totals, loses its lag.
        let mut down = round(t0 + Duration::from_secs(1), 1031.0, [ingest, worker, sink]);
        down.stages[1] = Scrape {
            health: Health::Down("timed out".into()),
            samples: None,
        };
        m.ingest(&down);
        assert_eq!(m.stages[1].health(), Health::Down("timed out".into()));
        assert!(m.stages[1].lag.is_empty());
        assert_eq!(m.verdicts["new"].since_service, 7.0);
    }
}
