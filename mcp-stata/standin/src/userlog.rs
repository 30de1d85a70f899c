//! Logs opened by the do-file itself (`log using f[, text|smcl replace]`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::output::Style;

/// One open user log.
pub(crate) struct UserLog {
    file: File,
    path: PathBuf,
    smcl: bool,
}

const RULE: &str =
    "-------------------------------------------------------------------------------";

impl UserLog {
    /// Creates the log file (the caller checked `replace`).
    pub(crate) fn create(path: &Path, smcl: bool) -> std::io::Result<UserLog> {
        let mut file = File::create(path)?;
        if smcl {
            file.write_all(b"{smcl}\n")?;
        }
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(UserLog { file, path, smcl })
    }

    /// The header block shown when the log opens (`closing` false) or closes (`closing` true).
    pub(crate) fn header(&self, closing: bool) -> Vec<String> {
        let kind = if self.smcl { "smcl" } else { "text" };
        let when = if closing { " closed on" } else { " opened on" };
        let mut lines = Vec::new();
        if !closing {
            lines.push(RULE.to_owned());
        }
        lines.push("      name:  <unnamed>".to_owned());
        lines.push(format!("       log:  {}", self.path.display()));
        lines.push(format!("  log type:  {kind}"));
        lines.push(format!("{when}:  {}", now_text()));
        if closing {
            lines.push(RULE.to_owned());
        }
        lines
    }

    /// Writes one line in `style`.
    pub(crate) fn line(&mut self, style: Style, text: &str) {
        let line = if self.smcl {
            format!("{}{text}\n", style.smcl_tag())
        } else {
            format!("{text}\n")
        };
        let _ = self.file.write_all(line.as_bytes());
    }

    /// Writes the `r(N);` line of an error.
    pub(crate) fn rc_line(&mut self, code: i32) {
        let line = if self.smcl {
            format!("{{txt}}{{search r({code}), local:r({code});}}\n")
        } else {
            format!("r({code});\n")
        };
        let _ = self.file.write_all(line.as_bytes());
    }

    /// Writes the closing block and closes the file.
    pub(crate) fn close(mut self) {
        for line in self.header(true) {
            self.line(Style::Text, &line);
        }
    }
}

/// `12 May 2026, 10:00:00` for the current time (UTC).
fn now_text() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{d:2} {} {y}, {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
