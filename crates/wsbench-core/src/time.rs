//! Dates and times as wsbench writes them (UTC only), on the `jiff` crate: exports, HAR
//! dates and the `{{$isoTimestamp}}` variable.

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;

/// The UTC date and time of `us` microseconds since the epoch (clamped to the years
/// -9999..=9999 that `jiff` represents).
fn utc(us: i64) -> DateTime {
    let ts = Timestamp::from_microsecond(us).unwrap_or(if us < 0 { Timestamp::MIN } else { Timestamp::MAX });
    Offset::UTC.to_datetime(ts)
}

/// `2026-11-22T10:31:05.123456Z` (microseconds since the epoch, UTC).
pub fn iso_us(us: i64) -> String {
    let t = utc(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.subsec_nanosecond() / 1000
    )
}

/// `2026-11-22T10:31:05.123Z`, as Chrome writes HAR dates.
pub fn iso_ms(us: i64) -> String {
    let t = utc(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.subsec_nanosecond() / 1_000_000
    )
}

/// `2026-11-22T10-31-05`: a time that is safe in a file name on every OS.
pub fn file_stamp(us: i64) -> String {
    let t = utc(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Seconds since the epoch with exactly six decimals, written from the integer so
/// that no float rounding creeps in: `1795316685.421769`.
pub fn seconds(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
}

/// Milliseconds with three decimals: `12.345`.
pub fn millis(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// Parse an ISO 8601 date-time as HAR files carry it (`2024-05-01T10:00:00.123Z`,
/// `2022-10-20T08:48:38.013394+00:00`) to microseconds since the epoch. What HAR
/// writers do beyond RFC 3339 is accepted too: no offset (taken as UTC) and more
/// than nine fractional digits (cut to nine).
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, rest) = match s.get(19..) {
        Some(rest) => (&s[..19], rest),
        None => return None,
    };
    let (frac, offset) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            (&r[..n.min(9)], &r[n..])
        }
        None => ("", rest),
    };
    if rest.starts_with('.') && frac.is_empty() {
        return None;
    }
    let offset = if offset.is_empty() { "Z" } else { offset };
    let dot = if frac.is_empty() { "" } else { "." };
    let ts: Timestamp = format!("{whole}{dot}{frac}{offset}").parse().ok()?;
    Some(ts.as_microsecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_utc() {
        let us = 1_795_316_685_421_769;
        assert_eq!(iso_us(us), "2026-11-22T03:04:45.421769Z");
        assert_eq!(iso_ms(us), "2026-11-22T03:04:45.421Z");
        assert_eq!(file_stamp(us), "2026-11-22T03-04-45");
        assert_eq!(seconds(us), "1795316685.421769");
        assert_eq!(seconds(-1), "-0.000001");
        assert_eq!(millis(12_345), "12.345");
        assert_eq!(iso_us(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(iso_us(951_782_400_000_000), "2000-02-29T00:00:00.000000Z");
        assert_eq!(parse_iso("2026-11-22T03:04:45.421769Z"), Some(us));
        assert_eq!(parse_iso("2026-11-22T04:04:45.421769+01:00"), Some(us));
        assert_eq!(parse_iso("2026-11-22T03:04:45.4217691234-00:00"), Some(us));
        assert_eq!(parse_iso("2026-11-22T03:04:45Z"), Some(us - 421_769));
        assert_eq!(parse_iso("2000-02-29T00:00:00.000Z"), Some(951_782_400_000_000));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-22T21:04:45.Z",
            "2026-11-22T21:04:45+1",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }
}
