//! Durations on the command line: `30s`, `500ms`, `15m`, `2h`, `80us`, or a plain number of
//! seconds.

use std::time::Duration;

/// Parses `500ms`, `30s`, `15m`, `2h`, `80us` (or `80µs`) or a number of seconds (`1.5`).
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write 500ms, 30s, 15m, 2h or 0"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "us" | "µs" => value / 1_000_000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "`{other}` is not a unit of time: use us, ms, s, m or h (as in 30s)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

/// The shortest exact spelling of a duration in the units [`parse`] reads.
pub(crate) fn format(d: Duration) -> String {
    let us = d.as_micros();
    if !us.is_multiple_of(1000) {
        return format!("{us}us");
    }
    let ms = d.as_millis();
    if ms == 0 {
        "0".to_owned()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_round_trips() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert!(parse("soon").unwrap_err().contains("not a duration"));
        assert!(parse("3 days").unwrap_err().contains("not a unit of time"));
        assert_eq!(parse("80us"), Ok(Duration::from_micros(80)));
        assert_eq!(parse("80µs"), Ok(Duration::from_micros(80)));
        for text in ["0", "80us", "1500us", "250ms", "15s", "30m", "1h", "90s"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
