//! The generator's command line, read by clap (as the project's own CLI is): its options,
//! their defaults, `--help`, and a clear error (exit status 2) for anything it does not know.

use clap::Parser;
use clap::builder::TypedValueParser as _;

/// The sections a run can be limited to (`--only`), in the order they run.
pub const SECTIONS: [&str; 6] = ["http", "stdio", "latency", "flood", "rss", "idle"];

/// The servers of the HTTP calls/s cells, as `--http-servers` names them.
pub const HTTP_SERVERS: [&str; 4] = ["ours", "stateless", "rmcp", "bare"];

/// Starts each server (ours, rmcp-server, bare, found beside this binary) in a process of its
/// own for every cell, drives it, and prints Markdown tables with ratios on stdout (progress
/// on stderr). Usually run through run.sh or ab.sh.
#[derive(Debug, Clone, PartialEq, Parser)]
#[command(
    name = "loadgen",
    after_help = "Environment:\n  \
        SIDEBYSIDE_STDERR       when set, the servers' stderr is not discarded\n  \
        OURS_HTTP_IDLE_POLL_US  read by the `ours` server: its HTTP idle poll window, in µs (0: off)\n  \
        BARE_SPIN_NS            read by `bare`: nanoseconds to spin on each request (no system call)\n  \
        BARE_TOUCH_KIB          read by `bare`: KiB of cache lines to write on each request"
)]
pub struct Options {
    /// Repeats of every cell, at least 1.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..).map(|n| n as usize))]
    pub repeats: usize,
    /// Seconds per throughput or flood cell.
    #[arg(long, value_name = "S", default_value_t = 2.0, value_parser = seconds, allow_negative_numbers = true)]
    pub secs: f64,
    /// Seconds of the memory-under-load cell.
    #[arg(long, value_name = "S", default_value_t = 20.0, value_parser = seconds, allow_negative_numbers = true)]
    pub load_secs: f64,
    /// Idle sessions opened in the idle cell.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub sessions: usize,
    /// Steps of the latency call, 1 ms apart.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub events: u64,
    /// Client counts of the HTTP calls/s cells.
    #[arg(long, value_name = "N,M", value_delimiter = ',', default_values_t = [1, 4, 16],
          value_parser = clap::value_parser!(u64).range(1..800).map(|n| n as usize))]
    pub http_clients: Vec<usize>,
    /// Servers of the HTTP calls/s cells (default: all four).
    #[arg(long, value_name = "A,B", value_delimiter = ',',
          value_parser = clap::builder::PossibleValuesParser::new(HTTP_SERVERS))]
    pub http_servers: Vec<String>,
    /// Run only these sections (default: all).
    #[arg(long, value_name = "A,B", value_delimiter = ',',
          value_parser = clap::builder::PossibleValuesParser::new(SECTIONS))]
    pub only: Vec<String>,
}

/// A number of seconds above zero.
fn seconds(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => Ok(s),
        _ => Err("expected a number of seconds above 0".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    use super::*;

    fn run(args: &[&str]) -> Result<Options, clap::Error> {
        Options::try_parse_from(std::iter::once("loadgen").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_is_well_formed() {
        Options::command().debug_assert();
    }

    #[test]
    fn no_arguments_are_the_defaults() {
        let options = run(&[]).unwrap();
        assert_eq!(
            (options.repeats, options.secs, options.load_secs),
            (3, 2.0, 20.0)
        );
        assert_eq!((options.sessions, options.events), (1000, 2000));
        assert!(options.only.is_empty());
        assert_eq!(options.http_clients, [1, 4, 16]);
        assert!(options.http_servers.is_empty());
    }

    #[test]
    fn help_lists_every_option_and_the_environment() {
        let help = run(&["--help"]).unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        let text = help.to_string();
        for name in [
            "--repeats",
            "--secs",
            "--load-secs",
            "--sessions",
            "--events",
            "--only",
            "--http-clients",
            "--http-servers",
            "OURS_HTTP_IDLE_POLL_US",
            "BARE_SPIN_NS",
            "BARE_TOUCH_KIB",
        ] {
            assert!(text.contains(name), "{name} missing from the usage");
        }
    }

    #[test]
    fn every_option_is_read_with_a_space_or_an_equals_sign() {
        let options = run(&[
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
            "--http-clients=4,16",
            "--http-servers",
            "ours,bare",
        ])
        .unwrap();
        assert_eq!(
            options,
            Options {
                repeats: 1,
                secs: 0.5,
                load_secs: 3.0,
                sessions: 10,
                events: 50,
                only: vec!["http".into(), "idle".into()],
                http_clients: vec![4, 16],
                http_servers: vec!["ours".into(), "bare".into()],
            }
        );
    }

    #[test]
    fn what_it_does_not_know_is_refused_with_status_two() {
        for (args, kind) in [
            (&["--hepl"][..], ErrorKind::UnknownArgument),
            (&["http"], ErrorKind::UnknownArgument),
            (&["--repeats"], ErrorKind::InvalidValue),
            (&["--repeats", "0"], ErrorKind::ValueValidation),
            (&["--secs", "-1"], ErrorKind::ValueValidation),
            (&["--secs", "0"], ErrorKind::ValueValidation),
            (&["--only", "http,stdoi"], ErrorKind::InvalidValue),
            (&["--events", "many"], ErrorKind::ValueValidation),
            (&["--http-clients", "0"], ErrorKind::ValueValidation),
            (&["--http-clients", "800"], ErrorKind::ValueValidation),
            (&["--http-servers", "hyper"], ErrorKind::InvalidValue),
        ] {
            let error = run(args).unwrap_err();
            assert_eq!(error.kind(), kind, "{args:?}: {error}");
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
    }
}
