//! Human-friendly sizes and ages, as `docker images` prints them, and the small piece of
//! RFC 3339 date handling they need (no date crate for two functions).

use std::time::{SystemTime, UNIX_EPOCH};

/// Decimal units as Docker's `go-units.HumanSize`: `74.3MB`, `1.23kB`, `512B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    // Three significant digits, trailing zeros dropped: 74.3, 4.26, 512, 1.2.
    let text = if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text}{}", UNITS[unit])
}

/// `3 minutes ago`, `2 days ago`, `About an hour ago`, like `docker images`.
pub fn human_age(created_unix: i64, now_unix: i64) -> String {
    let secs = (now_unix - created_unix).max(0);
    let (minute, hour, day, week, month, year) =
        (60, 3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400);
    let text = match secs {
        s if s < 1 => "Less than a second".to_string(),
        s if s < minute => plural(s, "second"),
        s if s < 2 * minute => "About a minute".to_string(),
        s if s < hour => plural(s / minute, "minute"),
        s if s < 2 * hour => "About an hour".to_string(),
        s if s < 2 * day => plural(s / hour, "hour"),
        s if s < 2 * week => plural(s / day, "day"),
        s if s < 2 * month => plural(s / week, "week"),
        s if s < 2 * year => plural(s / month, "month"),
        s => plural(s / year, "year"),
    };
    format!("{text} ago")
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| s.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !matches!(s.get(10..11)?, "T" | "t" | " ") {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    let days = crate::state::time::days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = crate::state::time::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(1_230), "1.23kB");
        assert_eq!(human_size(74_300_000), "74.3MB");
        assert_eq!(human_size(4_260_000), "4.26MB");
        assert_eq!(human_size(1_200_000_000), "1.2GB");
    }

    #[test]
    fn ages() {
        assert_eq!(human_age(0, 180), "3 minutes ago");
        assert_eq!(human_age(0, 90), "About a minute ago");
        assert_eq!(human_age(0, 5 * 86_400), "5 days ago");
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-02-29T12:34:56.123456789Z"),
            Some(1_709_210_096)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T14:34:56+02:00"),
            Some(1_709_210_096)
        );
        assert_eq!(format_rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
