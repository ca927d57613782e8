//! Parsing of sizes and durations as Alluxio writes them.

/// Parses a byte size such as `64MB`, `1.5GB`, `10k` or `1024`; units are powers of 1024.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1 << 10,
        "m" | "mb" => 1 << 20,
        "g" | "gb" => 1 << 30,
        "t" | "tb" => 1 << 40,
        "p" | "pb" => 1 << 50,
        _ => return None,
    };
    let v = n * mult as f64;
    if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
        return None;
    }
    Some(v as u64)
}

/// Parses a duration to milliseconds: `10ms`, `1s`/`1sec`, `5min`/`5m`, `1h`/`1hr`/`1hour`,
/// `1d`/`1day`; a bare number is milliseconds. `-1` (and other negatives) parse as given,
/// for properties where a negative value means "never".
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "ms" | "millisecond" | "milliseconds" => 1.0,
        "s" | "sec" | "secs" | "second" | "seconds" => 1e3,
        "m" | "min" | "mins" | "minute" | "minutes" => 60e3,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600e3,
        "d" | "day" | "days" => 86400e3,
        _ => return None,
    };
    let v = (n * mult).round();
    if !v.is_finite() || v > i64::MAX as f64 {
        return None;
    }
    Some(if neg { -(v as i64) } else { v as i64 })
}

/// Formats a byte count the way Alluxio prints sizes (`FormatUtils.getSizeFromBytes`):
/// up to 5 KiB in bytes (`4352B`), then the largest unit keeping the value at most 5120
/// (`34.67KB`, `2048.00MB`).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if n <= 5 * 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    for unit in UNITS.iter().take(UNITS.len() - 1) {
        if v <= 5.0 * 1024.0 {
            return format!("{v:.2}{unit}");
        }
        v /= 1024.0;
    }
    format!("{v:.2}EB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("64MB"), Some(64 << 20));
        assert_eq!(parse_bytes("1.5GB"), Some(3 << 29));
        assert_eq!(parse_bytes("10k"), Some(10240));
        assert_eq!(parse_bytes("100"), Some(100));
        assert_eq!(parse_bytes("64XB"), None);
        assert_eq!(parse_bytes("MB"), None);
        assert_eq!(format_bytes(64 << 20), "64.00MB");
        assert_eq!(format_bytes(4352), "4352B");
        assert_eq!(format_bytes(35502), "34.67KB");
        assert_eq!(format_bytes(2 << 30), "2048.00MB");
        assert_eq!(format_bytes(12), "12B");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("10ms"), Some(10));
        assert_eq!(parse_duration_ms("1sec"), Some(1000));
        assert_eq!(parse_duration_ms("5min"), Some(300_000));
        assert_eq!(parse_duration_ms("1hour"), Some(3_600_000));
        assert_eq!(parse_duration_ms("1day"), Some(86_400_000));
        assert_eq!(parse_duration_ms("-1"), Some(-1));
        assert_eq!(parse_duration_ms("5 fortnights"), None);
    }
}
