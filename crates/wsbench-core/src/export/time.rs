//! Dates and times as exports write them, without a date crate: UTC only.

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01 (`days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Parts {
    y: i64,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    us: u32,
}

fn parts(us: i64) -> Parts {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, mo, d) = civil_from_days(days);
    Parts {
        y,
        mo,
        d,
        h: sod / 3600,
        mi: sod / 60 % 60,
        s: sod % 60,
        us: frac,
    }
}

/// `2026-11-22T10:31:05.123456Z` (microseconds since the epoch, UTC).
pub fn iso_us(us: i64) -> String {
    let p = parts(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        p.y, p.mo, p.d, p.h, p.mi, p.s, p.us
    )
}

/// `2026-11-22T10:31:05.123Z`, as Chrome writes HAR dates.
pub fn iso_ms(us: i64) -> String {
    let p = parts(us);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        p.y,
        p.mo,
        p.d,
        p.h,
        p.mi,
        p.s,
        p.us / 1000
    )
}

/// `2026-11-22T10-31-05`: a time that is safe in a file name on every OS.
pub fn file_stamp(us: i64) -> String {
    let p = parts(us);
    format!("{:04}-{:02}-{:02}T{:02}-{:02}-{:02}", p.y, p.mo, p.d, p.h, p.mi, p.s)
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
/// `2022-10-20T08:48:38.013394+00:00`) to microseconds since the epoch.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)? as u32, num(8..10)? as u32);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac_us = 0i64;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let digits = &r[..n];
        let mut v = 0i64;
        for (i, c) in digits.bytes().take(6).enumerate() {
            v += (c - b'0') as i64 * 10i64.pow(5 - i as u32);
        }
        frac_us = v;
        rest = &r[n..];
    }
    let offset_s = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let t = rest[1..].replace(':', "");
            if t.len() != 4 || !t.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let oh: i64 = t[..2].parse().ok()?;
            let om: i64 = t[2..].parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1_000_000 + frac_us)
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
