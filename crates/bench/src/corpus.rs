//! The end-to-end corpus: the Reuters items repeated with fresh ids until
//! there are enough of them. Only `uri` changes, so a repetition is the same
//! story re-sent under another id: the worker calls it a duplicate, exactly
//! as it would a real agency re-send, and every item still travels the whole
//! pipeline and becomes a row.
//!
//! With `shift`, each repetition also moves its article times forward by the
//! corpus's span (plus a day), so that the stream's article time keeps
//! advancing: many horizons of dedup state come and go, which is how a
//! replay of years of archive looks to the worker (scripts/bench-horizon.sh).
//! A repetition's stories then lie beyond the horizon of the last one's,
//! so they are new again rather than duplicates.

use std::io::{BufRead as _, BufReader, BufWriter, Write as _};
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};

/// The ninjs fields that carry article time.
const TIME_FIELDS: [&str; 2] = ["versioncreated", "firstcreated"];

/// Writes at least `items` NDJSON lines to `out`; the uris of repetition `n`
/// end in `~r<n>` (`tag` marks a separate run, e.g. a latency step).
pub fn write(
    corpus: &Path,
    out: &Path,
    items: usize,
    tag: &str,
    shift: bool,
) -> anyhow::Result<usize> {
    let source = std::fs::File::open(corpus)
        .with_context(|| format!("failed to open {}", corpus.display()))?;
    let lines: Vec<serde_json::Value> = BufReader::new(source)
        .lines()
        .map(|line| -> anyhow::Result<serde_json::Value> {
            Ok(serde_json::from_str(
                &line.context("failed to read the corpus")?,
            )?)
        })
        .collect::<anyhow::Result<_>>()
        .context("the corpus is not NDJSON")?;
    anyhow::ensure!(!lines.is_empty(), "{} is empty", corpus.display());
    let step = if shift {
        round_step(&lines)
    } else {
        Duration::zero()
    };
    let file = std::fs::File::create(out)
        .with_context(|| format!("failed to create {}", out.display()))?;
    let mut writer = BufWriter::new(file);
    let mut written = 0;
    let mut round = 0;
    while written < items {
        for line in &lines {
            if written == items {
                break;
            }
            let mut item = line.clone();
            if let Some(uri) = item.get("uri").and_then(|u| u.as_str()) {
                let fresh = format!("{uri}~{tag}r{round}");
                item["uri"] = serde_json::Value::String(fresh);
            }
            if shift && round > 0 {
                shift_times(&mut item, step * round);
            }
            serde_json::to_writer(&mut writer, &item)?;
            writer.write_all(b"\n")?;
            written += 1;
        }
        round += 1;
    }
    writer.flush()?;
    Ok(written)
}

/// The item's article time in `field`, when it is there and parses.
fn time(item: &serde_json::Value, field: &str) -> Option<DateTime<Utc>> {
    let text = item.get(field)?.as_str()?;
    Some(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc))
}

/// How far each repetition moves: the corpus's span of article time, plus a
/// day so that two repetitions never overlap.
fn round_step(lines: &[serde_json::Value]) -> Duration {
    let all: Vec<DateTime<Utc>> = lines
        .iter()
        .flat_map(|item| TIME_FIELDS.iter().filter_map(|field| time(item, field)))
        .collect();
    match (all.iter().min(), all.iter().max()) {
        (Some(first), Some(last)) => (*last - *first) + Duration::days(1),
        _ => Duration::days(1),
    }
}

/// Moves the item's article times by `by`. A time that does not parse stays
/// as it is (the worker treats the item as undated, as it did the original).
fn shift_times(item: &mut serde_json::Value, by: Duration) {
    for field in TIME_FIELDS {
        if let Some(at) = time(item, field) {
            let moved = (at + by).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            item[field] = serde_json::Value::String(moved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(uri: &str, time: &str) -> serde_json::Value {
        serde_json::json!({ "uri": uri, "versioncreated": time })
    }

    #[test]
    fn each_repetition_moves_by_the_span_plus_a_day() {
        let lines = vec![
            item("a", "1987-02-26T15:00:00Z"),
            item("b", "1987-03-28T15:00:00Z"),
            serde_json::json!({ "uri": "c", "versioncreated": "31-MAR-1987 605:12:19.12" }),
        ];
        assert_eq!(round_step(&lines), Duration::days(31));
        let mut moved = lines[0].clone();
        shift_times(&mut moved, Duration::days(31) * 2);
        assert_eq!(moved["versioncreated"], "1987-04-29T15:00:00Z");
        let mut undated = lines[2].clone();
        shift_times(&mut undated, Duration::days(31));
        assert_eq!(undated, lines[2]);
    }

    #[test]
    fn shifted_repetitions_keep_advancing() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus.ndjson");
        std::fs::write(
            &corpus,
            "{\"uri\":\"a\",\"versioncreated\":\"1987-02-26T00:00:00Z\"}\n{\"uri\":\"b\",\"versioncreated\":\"1987-02-28T00:00:00Z\"}\n",
        )
        .unwrap();
        let out = dir.path().join("out.ndjson");
        assert_eq!(write(&corpus, &out, 5, "", true).unwrap(), 5);
        let times: Vec<String> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["versioncreated"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            times,
            [
                "1987-02-26T00:00:00Z",
                "1987-02-28T00:00:00Z",
                "1987-03-01T00:00:00Z",
                "1987-03-03T00:00:00Z",
                "1987-03-04T00:00:00Z"
            ]
        );
    }
}
