//! The tables `wirestream top` shows, as rows of text: the terminal view
//! draws them with colours, `--once` prints them plainly.

use std::time::Duration;

use super::model::{Health, Model, STAGES, TREND, VERDICTS};

/// How a row should stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Normal,
    /// Stale feed, a service not ready.
    Warn,
    /// A service down.
    Bad,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub cells: Vec<String>,
    pub tone: Tone,
}

impl Row {
    fn new(cells: Vec<String>) -> Row {
        Row {
            cells,
            tone: Tone::Normal,
        }
    }
}

/// One table: a title, column headers (with their widths) and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub header: Vec<(&'static str, u16)>,
    pub rows: Vec<Row>,
    /// A line under the rows (e.g. the latency of the verdicts pane).
    pub note: Option<String>,
}

/// How the lists with many rows are ordered (`s` switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most first: dead letters by count, sources stalest first.
    #[default]
    Most,
    Name,
}

pub const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline, scaled to its own maximum; blanks where nothing flowed.
pub fn sparkline(values: &[f64]) -> String {
    let max = values.iter().cloned().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 || *v <= 0.0 {
                ' '
            } else {
                let i = ((v / max) * (SPARK.len() - 1) as f64).round() as usize;
                SPARK[i.min(SPARK.len() - 1)]
            }
        })
        .collect()
}

/// 1234567 -> "1234567", 12.5 -> "12.5" (counts are whole; rates are not).
pub fn count(n: f64) -> String {
    if !n.is_finite() {
        "-".into()
    } else {
        format!("{:.0}", n)
    }
}

pub fn rate(r: Option<f64>) -> String {
    match r {
        None => "-".into(),
        Some(r) if r >= 100.0 => format!("{r:.0}"),
        Some(r) => format!("{r:.1}"),
    }
}

pub fn seconds(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if !s.is_finite() => "-".into(),
        Some(s) if s < 1.0 => format!("{:.0}ms", s * 1000.0),
        Some(s) if s < 60.0 => format!("{s:.1}s"),
        Some(s) if s < 3600.0 => format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64),
        Some(s) => format!(
            "{}h{:02}m",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        ),
    }
}

fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 {
        format!("{:.1}%", 100.0 * part / whole)
    } else {
        "-".into()
    }
}

fn tone(health: &Health) -> Tone {
    match health {
        Health::Ready => Tone::Normal,
        Health::Unknown | Health::NotReady(_) => Tone::Warn,
        Health::Down(_) => Tone::Bad,
    }
}

/// The stages: state, items/s now and its trend, totals, batch latency, lag.
/// `trend` is the sparkline's width (0 leaves it out).
pub fn stages(m: &Model, trend: u16) -> Table {
    let mut header = vec![("stage", 6), ("state", 7), ("now/s", 7)];
    if trend > 0 {
        header.push(("last 5 min", trend));
    }
    header.extend([
        ("since top", 9),
        ("since start", 11),
        ("batch p50/p99", 13),
        ("lag", 6),
    ]);
    let rows = STAGES
        .iter()
        .zip(&m.stages)
        .map(|(name, s)| {
            let health = s.health();
            let mut cells = vec![
                name.to_string(),
                health.word().to_owned(),
                rate(s.items.rate(m.now)),
            ];
            if trend > 0 {
                cells.push(sparkline(&s.items.trend(m.now, TREND, trend as usize)));
            }
            let (p50, p99) = (
                s.batch.recent(0.5).or(s.batch.lifetime(0.5)),
                s.batch.recent(0.99).or(s.batch.lifetime(0.99)),
            );
            cells.extend([
                count(s.items.since_top),
                count(s.items.since_service),
                format!("{}/{}", seconds(p50), seconds(p99)),
                s.total_lag().map(count).unwrap_or_else(|| "-".into()),
            ]);
            Row {
                cells,
                tone: tone(&health),
            }
        })
        .collect();
    Table {
        title: "stages".into(),
        header,
        rows,
        note: None,
    }
}

/// The verdict mix since the worker started, dead letters as a fifth line,
/// and receipt-to-commit latency.
pub fn verdicts(m: &Model) -> Table {
    let dead = m.dead_letter_total();
    let all = m.verdict_total() + dead;
    let mut rows: Vec<Row> = VERDICTS
        .iter()
        .map(|v| {
            let c = &m.verdicts[v];
            Row::new(vec![
                v.to_string(),
                count(c.since_service),
                rate(c.rate(m.now)),
                percent(c.since_service, all),
            ])
        })
        .collect();
    rows.push(Row::new(vec![
        "dead-letter".into(),
        count(dead),
        rate(Some(m.dead_letter_rate())),
        percent(dead, all),
    ]));
    let e2e = &m.end_to_end;
    let note = format!(
        "receipt→commit p50 {} p99 {}",
        seconds(e2e.recent(0.5).or(e2e.lifetime(0.5))),
        seconds(e2e.recent(0.99).or(e2e.lifetime(0.99)))
    );
    Table {
        title: "verdicts".into(),
        header: vec![("verdict", 11), ("count", 9), ("/s", 7), ("share", 6)],
        rows,
        note: Some(note),
    }
}

pub fn dead_letters(m: &Model, sort: Sort) -> Table {
    let mut list: Vec<_> = m.dead_letters.iter().collect();
    if sort == Sort::Most {
        list.sort_by(|a, b| b.1.since_service.total_cmp(&a.1.since_service));
    }
    let rows = list
        .into_iter()
        .map(|((stage, reason), c)| {
            Row::new(vec![
                reason.clone(),
                stage.clone(),
                count(c.since_service),
                rate(c.rate(m.now)),
            ])
        })
        .collect();
    Table {
        title: "dead letters by reason".into(),
        header: vec![("reason", 16), ("stage", 6), ("count", 6), ("/s", 5)],
        rows,
        note: None,
    }
}

pub fn lag(m: &Model) -> Table {
    let mut rows = Vec::new();
    for (name, stage) in STAGES.iter().zip(&m.stages) {
        for (topic, lag) in &stage.lag {
            rows.push(Row::new(vec![name.to_string(), topic.clone(), count(*lag)]));
        }
    }
    Table {
        title: "consumer lag (messages)".into(),
        header: vec![("stage", 6), ("topic", 20), ("lag", 8)],
        rows,
        note: None,
    }
}

/// Feeds, spool folders and HTTP clients ingest heard from; stale ones warn.
pub fn sources(m: &Model, sort: Sort, stale: Duration) -> Table {
    let mut list: Vec<_> = m.sources.iter().collect();
    if sort == Sort::Most {
        list.sort_by(|a, b| a.1.last_item.total_cmp(&b.1.last_item));
    }
    let rows = list
        .into_iter()
        .map(|(name, s)| {
            let age = m.age(s);
            Row {
                cells: vec![
                    name.clone(),
                    format!("{} ago", seconds(Some(age))),
                    count(s.items),
                ],
                tone: if age > stale.as_secs_f64() {
                    Tone::Warn
                } else {
                    Tone::Normal
                },
            }
        })
        .collect();
    Table {
        title: "feeds and spool folders".into(),
        header: vec![("source", 16), ("last item", 10), ("items", 6)],
        rows,
        note: None,
    }
}

/// The services that do not answer or are not ready, for the status line.
pub fn problems(m: &Model) -> Vec<String> {
    STAGES
        .iter()
        .zip(&m.stages)
        .filter_map(|(name, s)| match s.health() {
            Health::Down(why) => Some(format!("{name} down ({why})")),
            Health::NotReady(why) => Some(format!("{name} not ready ({why})")),
            _ => None,
        })
        .collect()
}

/// A table as plain text, columns padded to their widths (cells wider than
/// their column are not cut: text output is for reading and grepping).
pub fn plain(table: &Table) -> String {
    let mut out = format!("{}\n", table.title);
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for ((_, width), cell) in table.header.iter().zip(cells) {
            s.push_str(&format!(" {cell:<w$}", w = *width as usize));
        }
        s.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(table.header.iter().map(|(h, _)| *h).collect()));
    for row in &table.rows {
        out.push_str(&line(row.cells.iter().map(String::as_str).collect()));
    }
    if table.rows.is_empty() {
        out.push_str("  (none)\n");
    }
    if let Some(note) = &table.note {
        out.push_str(&format!("  {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_scale_to_their_peak() {
        assert_eq!(sparkline(&[0.0, 5.0, 10.0]), " ▅█");
        assert_eq!(sparkline(&[0.0, 0.0]), "  ");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(Some(0.0123)), "12ms");
        assert_eq!(seconds(Some(4.56)), "4.6s");
        assert_eq!(seconds(Some(125.0)), "2m05s");
        assert_eq!(seconds(Some(7300.0)), "2h01m");
        assert_eq!(seconds(None), "-");
        assert_eq!(rate(Some(1234.5)), "1234");
        assert_eq!(rate(Some(3.25)), "3.2");
    }
}
