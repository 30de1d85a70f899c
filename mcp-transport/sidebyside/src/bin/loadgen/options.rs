//! The generator's command line: its options, their defaults, `--help`, and a clear error
//! (with the exit status 2) for anything it does not know.

use std::fmt;
use std::str::FromStr;

/// The sections a run can be limited to (`--only`), in the order they run.
pub const SECTIONS: [&str; 6] = ["http", "stdio", "latency", "flood", "rss", "idle"];

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Repeats of every cell (`--repeats`).
    pub repeats: usize,
    /// Seconds per throughput or flood cell (`--secs`).
    pub secs: f64,
    /// Seconds of the memory-under-load cell (`--load-secs`).
    pub load_secs: f64,
    /// Idle sessions opened in the idle cell (`--sessions`).
    pub sessions: usize,
    /// Steps of the latency call (`--events`).
    pub events: u64,
    /// The sections to run; empty: all (`--only`).
    pub only: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            repeats: 3,
            secs: 2.0,
            load_secs: 20.0,
            sessions: 1000,
            events: 2000,
            only: Vec::new(),
        }
    }
}

/// What parsing the command line gave.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// Run with these options.
    Run(Options),
    /// `--help` (or `-h`): print [`usage`] and exit.
    Help,
}

/// Why a command line was refused.
#[derive(Debug, PartialEq)]
pub enum OptionError {
    /// An option the generator does not have.
    Unknown(String),
    /// An option given without its value.
    MissingValue(&'static str),
    /// A value its option does not take.
    BadValue {
        option: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::Unknown(arg) => write!(f, "unknown option {arg:?}"),
            OptionError::MissingValue(option) => write!(f, "{option} needs a value"),
            OptionError::BadValue {
                option,
                value,
                expected,
            } => write!(f, "{option} {value:?}: expected {expected}"),
        }
    }
}

/// The options: name, value's placeholder, what it sets (with its default).
const OPTIONS: [(&str, &str, &str); 6] = [
    ("--repeats", "N", "repeats of every cell, at least 1 (3)"),
    ("--secs", "S", "seconds per throughput or flood cell (2)"),
    (
        "--load-secs",
        "S",
        "seconds of the memory-under-load cell (20)",
    ),
    (
        "--sessions",
        "N",
        "idle sessions opened in the idle cell (1000)",
    ),
    (
        "--events",
        "N",
        "steps of the latency call, 1 ms apart (2000)",
    ),
    (
        "--only",
        "A,B",
        "run only these sections, among http,stdio,latency,flood,rss,idle (all)",
    ),
];

/// The text `--help` prints.
pub fn usage() -> String {
    let mut text = String::from(
        "usage: loadgen [OPTION VALUE | OPTION=VALUE]...\n\n\
         Starts each server (ours, rmcp-server, bare, found beside this binary) in a process\n\
         of its own for every cell, drives it, and prints Markdown tables with ratios on\n\
         stdout (progress on stderr). Usually run through run.sh or ab.sh.\n\nOptions:\n",
    );
    for (name, value, what) in OPTIONS {
        text.push_str(&format!("  {:<18}{what}\n", format!("{name} {value}")));
    }
    text.push_str(
        "  -h, --help        print this text and exit\n\nEnvironment:\n  \
         SIDEBYSIDE_STDERR       when set, the servers' stderr is not discarded\n  \
         OURS_HTTP_IDLE_POLL_US  read by the `ours` server: its HTTP idle poll window, in µs (0: off)\n",
    );
    text
}

/// Reads the arguments after the program's name.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Parsed, OptionError> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(Parsed::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let Some(&(option, _, _)) = OPTIONS.iter().find(|(n, _, _)| *n == name) else {
            return Err(OptionError::Unknown(arg));
        };
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or(OptionError::MissingValue(option))?,
        };
        match option {
            "--repeats" => {
                options.repeats = number(option, &value, "a whole number of at least 1")?;
                if options.repeats == 0 {
                    return Err(bad(option, &value, "a whole number of at least 1"));
                }
            }
            "--secs" => options.secs = seconds(option, &value)?,
            "--load-secs" => options.load_secs = seconds(option, &value)?,
            "--sessions" => options.sessions = number(option, &value, "a whole number")?,
            "--events" => options.events = number(option, &value, "a whole number")?,
            "--only" => {
                options.only = value.split(',').map(str::to_owned).collect();
                if options.only.iter().any(|s| !SECTIONS.contains(&s.as_str())) {
                    return Err(bad(
                        option,
                        &value,
                        "sections among http,stdio,latency,flood,rss,idle, comma-separated",
                    ));
                }
            }
            _ => unreachable!("every option in OPTIONS is read above"),
        }
    }
    Ok(Parsed::Run(options))
}

fn bad(option: &'static str, value: &str, expected: &'static str) -> OptionError {
    OptionError::BadValue {
        option,
        value: value.to_owned(),
        expected,
    }
}

fn number<T: FromStr>(
    option: &'static str,
    value: &str,
    expected: &'static str,
) -> Result<T, OptionError> {
    value.parse().map_err(|_| bad(option, value, expected))
}

fn seconds(option: &'static str, value: &str) -> Result<f64, OptionError> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err(bad(option, value, "a number of seconds above 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Parsed, OptionError> {
        parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn no_arguments_are_the_defaults() {
        assert_eq!(run(&[]), Ok(Parsed::Run(Options::default())));
    }

    #[test]
    fn help_wins_wherever_it_stands() {
        assert_eq!(run(&["--help"]), Ok(Parsed::Help));
        assert_eq!(run(&["-h"]), Ok(Parsed::Help));
        assert_eq!(run(&["--repeats", "1", "--help"]), Ok(Parsed::Help));
        let text = usage();
        for (name, _, _) in OPTIONS {
            assert!(text.contains(name), "{name} missing from the usage");
        }
    }

    #[test]
    fn every_option_is_read_with_a_space_or_an_equals_sign() {
        let parsed = run(&[
            "--repeats",
            "1",
            "--secs=0.5",
            "--load-secs",
            "3",
            "--sessions=10",
            "--events",
            "50",
            "--only",
            "http,idle",
        ]);
        assert_eq!(
            parsed,
            Ok(Parsed::Run(Options {
                repeats: 1,
                secs: 0.5,
                load_secs: 3.0,
                sessions: 10,
                events: 50,
                only: vec!["http".into(), "idle".into()],
            }))
        );
    }

    #[test]
    fn what_it_does_not_know_is_refused_by_name() {
        assert_eq!(run(&["--hepl"]), Err(OptionError::Unknown("--hepl".into())));
        assert_eq!(run(&["http"]), Err(OptionError::Unknown("http".into())));
        assert_eq!(
            run(&["--repeats"]),
            Err(OptionError::MissingValue("--repeats"))
        );
        assert!(matches!(
            run(&["--repeats", "0"]),
            Err(OptionError::BadValue {
                option: "--repeats",
                ..
            })
        ));
        assert!(matches!(
            run(&["--secs", "-1"]),
            Err(OptionError::BadValue {
                option: "--secs",
                ..
            })
        ));
        assert!(matches!(
            run(&["--only", "http,stdoi"]),
            Err(OptionError::BadValue {
                option: "--only",
                ..
            })
        ));
        assert_eq!(
            run(&["--events", "many"]).unwrap_err().to_string(),
            "--events \"many\": expected a whole number"
        );
    }
}
