//! Timestamps as providers write them, to UTC.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

/// Parses a provider timestamp. Accepts, in this order:
///
/// * RFC 3339 / ISO 8601 with an offset: `2019-05-10T16:02:28+02:00`, `…Z`;
/// * RFC 2822, as in RSS: `Tue, 10 Jun 2003 04:00:00 GMT`;
/// * ISO 8601 without an offset (taken as UTC): `2019-05-10T16:02:28`,
///   `2019-05-10 16:02:28.5`, or a bare date `2019-05-10` (midnight UTC);
/// * compact ISO 8601 as in NewsML 1 and IPTC7901: `20161121T152106-0500`,
///   `20161121T152106Z`, `20161121T152106`;
/// * the Reuters-21578 form `26-FEB-1987 15:01:01.79` (UTC).
///
/// Returns None when none fits, or when the year is outside 1000–9999:
/// chrono's `%Y` takes any number of digits and a sign, so a two-digit year
/// (`99-12-31`, `05-03-24`) would be read as the year 99 or 5, an embargo
/// long past. The caller records a warning.
pub(crate) fn parse(value: &str) -> Option<DateTime<Utc>> {
    parse_any(value).filter(|time| (1000..=9999).contains(&time.year()))
}

fn parse_any(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(value) {
        return Some(parsed.with_timezone(&Utc));
    }
    // RFC 3339 without the colon in the offset, or with a lowercase t/space.
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(parsed) = DateTime::parse_from_str(value, format) {
            return Some(parsed.with_timezone(&Utc));
        }
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(value) {
        return Some(parsed.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y%m%dT%H%M%S",
        "%d-%b-%Y %H:%M:%S%.f",
    ] {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(value, format) {
            return Some(parsed.and_utc());
        }
    }
    if let Some(compact) = value.strip_suffix('Z') {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(compact, "%Y%m%dT%H%M%S") {
            return Some(parsed.and_utc());
        }
    }
    if let Ok(parsed) = DateTime::parse_from_str(value, "%Y%m%dT%H%M%S%z") {
        return Some(parsed.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|midnight| midnight.and_utc());
    }
    None
}

/// Parses an optional timestamp field, recording a warning when it is present
/// but unparseable. A blank value counts as absent.
pub(crate) fn parse_field(
    field: &str,
    value: Option<&str>,
    warnings: &mut Vec<String>,
) -> Option<DateTime<Utc>> {
    let value = value?;
    if value.trim().is_empty() {
        return None;
    }
    let parsed = parse(value);
    if parsed.is_none() {
        warnings.push(format!("unparseable {field}: {value:?}"));
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(value: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(value)
            .expect("test literal")
            .with_timezone(&Utc)
    }

    #[test]
    fn years_not_written_with_four_digits_are_refused() {
        for value in [
            "99-12-31 23:00:00",
            "05-03-24",
            "-2024-03-05",
            "0000-01-01",
            "0099-12-31T23:00:00Z",
        ] {
            assert_eq!(parse(value), None, "{value}");
        }
        let mut warnings = Vec::new();
        assert_eq!(
            parse_field("embargoed", Some("99-12-31 23:00:00"), &mut warnings),
            None
        );
        assert_eq!(warnings, ["unparseable embargoed: \"99-12-31 23:00:00\""]);
        // RFC 2822's two-digit years have a rule of their own, and keep it.
        assert_eq!(
            parse("Tue, 10 Jun 03 04:00:00 GMT"),
            Some(utc("2003-06-10T04:00:00Z"))
        );
    }

    #[test]
    fn parses_the_forms_providers_send() {
        let cases = [
            ("2019-05-10T16:02:28+02:00", "2019-05-10T14:02:28Z"),
            ("2019-11-15T14:39:44Z", "2019-11-15T14:39:44Z"),
            ("2019-05-10T16:02:28.250+0200", "2019-05-10T14:02:28.250Z"),
            ("Tue, 10 Jun 2003 04:00:00 GMT", "2003-06-10T04:00:00Z"),
            ("Tue, 10 Jun 2003 04:00:00 +0200", "2003-06-10T02:00:00Z"),
            ("2019-05-10T16:02:28", "2019-05-10T16:02:28Z"),
            ("2019-05-10 16:02:28.5", "2019-05-10T16:02:28.5Z"),
            ("2019-05-10", "2019-05-10T00:00:00Z"),
            ("20161121T152106-0500", "2016-11-21T20:21:06Z"),
            ("20161121T152106Z", "2016-11-21T15:21:06Z"),
            ("20161121T152106", "2016-11-21T15:21:06Z"),
            ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01.79Z"),
            ("  1987-02-26T15:01:01Z ", "1987-02-26T15:01:01Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Some(utc(expected)), "{input}");
        }
    }

    #[test]
    fn a_garbled_date_is_a_warning_not_an_error() {
        // Reuters-21578 item with an impossible hour.
        let mut warnings = Vec::new();
        let value = Some("31-MAR-1987 605:12:19.12");
        assert_eq!(parse_field("versioncreated", value, &mut warnings), None);
        assert_eq!(
            warnings,
            [r#"unparseable versioncreated: "31-MAR-1987 605:12:19.12""#]
        );

        assert_eq!(parse_field("embargoed", Some(" "), &mut warnings), None);
        assert_eq!(parse_field("embargoed", None, &mut warnings), None);
        assert_eq!(warnings.len(), 1);
    }
}
