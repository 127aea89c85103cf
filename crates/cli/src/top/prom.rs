//! The Prometheus text exposition format, as much of it as `wirestream top`
//! reads: one sample a line, `name{label="value",...} value [timestamp]`.
//! Comments (`# HELP`, `# TYPE`) are skipped; a line that does not parse is
//! skipped too, so that one odd line never blanks the whole view.

/// One sample: a metric name, its labels (in the order written) and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True when every `(label, value)` of `filter` is on this sample.
    pub fn matches(&self, filter: &[(&str, &str)]) -> bool {
        filter.iter().all(|(k, v)| self.label(k) == Some(*v))
    }
}

/// Parses a whole `/metrics` body.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, used) = parse_labels(after)?;
        labels = parsed;
        rest = &after[used..];
    }
    // The value, then an optional timestamp, which is ignored.
    let value = parse_value(rest.split_whitespace().next()?)?;
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Parses `a="x",b="y"}` and returns the labels and the bytes used, `}` included.
fn parse_labels(text: &str) -> Option<(Vec<(String, String)>, usize)> {
    let mut labels = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i] == b',' || bytes[i] == b' ') {
            i += 1;
        }
        if *bytes.get(i)? == b'}' {
            return Some((labels, i + 1));
        }
        let eq = i + text[i..].find('=')?;
        let key = text[i..eq].trim().to_owned();
        i = eq + 1;
        if *bytes.get(i)? != b'"' {
            return None;
        }
        i += 1;
        let mut value = String::new();
        loop {
            let c = text[i..].chars().next()?;
            i += c.len_utf8();
            match c {
                '"' => break,
                '\\' => {
                    let escaped = text[i..].chars().next()?;
                    i += escaped.len_utf8();
                    value.push(match escaped {
                        'n' => '\n',
                        other => other,
                    });
                }
                other => value.push(other),
            }
        }
        labels.push((key, value));
    }
}

fn parse_value(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        other => other.parse().ok(),
    }
}

/// The sum of every sample of `name` that carries the labels of `filter`.
pub fn sum(samples: &[Sample], name: &str, filter: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for s in samples
        .iter()
        .filter(|s| s.name == name && s.matches(filter))
    {
        *found.get_or_insert(0.0) += s.value;
    }
    found
}

/// A histogram's cumulative buckets, `(upper bound, count)`, sorted by bound,
/// summed over every series of `name` (its `_bucket` samples).
pub fn buckets(samples: &[Sample], name: &str) -> Vec<(f64, f64)> {
    let bucket = format!("{name}_bucket");
    let mut out: Vec<(f64, f64)> = Vec::new();
    for s in samples.iter().filter(|s| s.name == bucket) {
        let Some(le) = s.label("le").and_then(parse_value) else {
            continue;
        };
        match out.iter_mut().find(|(bound, _)| *bound == le) {
            Some((_, count)) => *count += s.value,
            None => out.push((le, s.value)),
        }
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The `q` quantile of cumulative buckets, interpolated linearly inside the
/// bucket it falls in, as Prometheus's `histogram_quantile` does. `None`
/// when the buckets hold no observation.
pub fn quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total;
    let mut lower = (0.0, 0.0);
    for &(bound, count) in buckets {
        if count >= rank {
            if bound.is_infinite() {
                // Past the last finite bucket: its bound is all that is known.
                return Some(lower.0);
            }
            let in_bucket = count - lower.1;
            if in_bucket <= 0.0 {
                return Some(bound);
            }
            return Some(lower.0 + (bound - lower.0) * (rank - lower.1) / in_bucket);
        }
        lower = (bound, count);
    }
    Some(lower.0)
}

/// `now - then`, bucket by bucket, for the observations in between; `None`
/// when the bounds differ or a count went down (the service restarted).
pub fn bucket_delta(now: &[(f64, f64)], then: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    if now.len() != then.len() {
        return None;
    }
    now.iter()
        .zip(then)
        .map(|(&(bound, n), &(bound_then, t))| {
            (bound == bound_then && n >= t).then_some((bound, n - t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP wirestream_worker_verdicts_total Dedup decisions.
# TYPE wirestream_worker_verdicts_total counter
wirestream_worker_verdicts_total{verdict="new",provider=""} 0
wirestream_worker_verdicts_total{verdict="new",provider="reuters"} 12
wirestream_worker_verdicts_total{verdict="duplicate",provider="reuters"} 3
wirestream_ingest_items_produced_total 15 1700000000000
wirestream_ingest_items_received_total{source="feed:http://x/a?b=\"c\"",format="rss"} 7
wirestream_sink_flush_seconds_bucket{le="0.1"} 2
wirestream_sink_flush_seconds_bucket{le="0.5"} 6
wirestream_sink_flush_seconds_bucket{le="+Inf"} 8
wirestream_sink_flush_seconds_sum 3.2
this line is not a sample
odd{unterminated="x} 1
gauge_nan NaN
"#;

    #[test]
    fn reads_names_labels_and_values() {
        let samples = parse(TEXT);
        assert_eq!(samples.len(), 10);
        assert_eq!(
            sum(
                &samples,
                "wirestream_worker_verdicts_total",
                &[("verdict", "new")]
            ),
            Some(12.0)
        );
        assert_eq!(
            sum(&samples, "wirestream_ingest_items_produced_total", &[]),
            Some(15.0)
        );
        let feed = samples
            .iter()
            .find(|s| s.name == "wirestream_ingest_items_received_total")
            .unwrap();
        assert_eq!(feed.label("source"), Some("feed:http://x/a?b=\"c\""));
        assert_eq!(feed.label("format"), Some("rss"));
        assert!(samples
            .iter()
            .any(|s| s.name == "gauge_nan" && s.value.is_nan()));
        assert_eq!(sum(&samples, "absent_metric", &[]), None);
    }

    #[test]
    fn quantiles_interpolate_inside_a_bucket() {
        let samples = parse(TEXT);
        let b = buckets(&samples, "wirestream_sink_flush_seconds");
        assert_eq!(b, vec![(0.1, 2.0), (0.5, 6.0), (f64::INFINITY, 8.0)]);
        // Rank 4 of 8 is half way through the (0.1, 0.5] bucket.
        assert!((quantile(0.5, &b).unwrap() - 0.3).abs() < 1e-9);
        // Rank 7.92 is in +Inf: the last finite bound.
        assert_eq!(quantile(0.99, &b), Some(0.5));
        // Rank 1 of 8 is in the first bucket, from 0.
        assert!((quantile(0.125, &b).unwrap() - 0.05).abs() < 1e-9);
        assert_eq!(quantile(0.5, &[(0.1, 0.0), (f64::INFINITY, 0.0)]), None);
        assert_eq!(quantile(0.5, &[]), None);
    }

    #[test]
    fn bucket_deltas_see_restarts() {
        let then = vec![(0.1, 2.0), (f64::INFINITY, 4.0)];
        let now = vec![(0.1, 3.0), (f64::INFINITY, 9.0)];
        assert_eq!(
            bucket_delta(&now, &then),
            Some(vec![(0.1, 1.0), (f64::INFINITY, 5.0)])
        );
        assert_eq!(bucket_delta(&then, &now), None);
        assert_eq!(bucket_delta(&now, &now[..1]), None);
    }
}
