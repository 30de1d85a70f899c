//! The command line: flags, the `do` request, and the edition taken from the program's name.

use std::path::Path;

/// Stata's editions, as the executable's name tells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Edition {
    Mp,
    Se,
    Be,
}

impl Edition {
    /// `MP`, `SE` or `BE`, as `c(edition_real)` shows it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Edition::Mp => "MP",
            Edition::Se => "SE",
            Edition::Be => "BE",
        }
    }

    /// The edition of an executable called `name` (`stata-mp`, `StataSE-64.exe`, `xstata`...).
    pub(crate) fn from_program_name(name: &str) -> Edition {
        let file = Path::new(name)
            .file_name()
            .map(|f| f.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let file = file.strip_suffix(".exe").unwrap_or(&file);
        let rest = file.strip_prefix('x').unwrap_or(file);
        let rest = rest.strip_prefix("stata").unwrap_or(rest);
        let rest = rest.trim_start_matches('-');
        if rest.starts_with("mp") {
            Edition::Mp
        } else if rest.starts_with("se") {
            Edition::Se
        } else {
            Edition::Be
        }
    }
}

/// What the program was asked to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Run one do-file and write its log.
    Batch {
        do_file: String,
        args: Vec<String>,
        smcl: bool,
    },
    /// Read commands from standard input.
    Console,
}

/// The parsed command line.
#[derive(Debug)]
pub(crate) struct Cli {
    pub(crate) mode: Mode,
    pub(crate) quiet: bool,
    pub(crate) edition: Edition,
}

/// Parses `args` (with `args[0]` the program name); `Err` holds the usage message.
pub(crate) fn parse(args: &[String]) -> Result<Cli, String> {
    let program = args.first().map(String::as_str).unwrap_or("stata");
    let edition = Edition::from_program_name(program);
    let mut batch = false;
    let mut smcl = false;
    let mut quiet = false;
    let mut rest = args.iter().skip(1).peekable();
    while let Some(arg) = rest.peek() {
        let flag = match arg.strip_prefix('-').or_else(|| arg.strip_prefix('/')) {
            Some(flag) if !flag.is_empty() => flag,
            _ => break,
        };
        for c in flag.chars() {
            match c {
                'b' | 'e' => batch = true,
                's' => {
                    batch = true;
                    smcl = true;
                }
                'q' => quiet = true,
                other => return Err(format!("unrecognized option -{other}")),
            }
        }
        rest.next();
    }
    let remaining: Vec<String> = rest.cloned().collect();
    let do_request = match remaining.split_first() {
        None => None,
        Some((cmd, tail)) if cmd == "do" => match tail.split_first() {
            Some((file, args)) => Some((file.clone(), args.to_vec())),
            None => return Err("do: a file name is required".into()),
        },
        Some((other, _)) => return Err(format!("unrecognized argument {other}")),
    };
    let mode = match (batch, do_request) {
        (true, Some((do_file, args))) => Mode::Batch {
            do_file,
            args,
            smcl,
        },
        (true, None) => return Err("batch mode needs: do filename".into()),
        (false, Some(_)) => return Err("do filename needs batch mode (-b)".into()),
        (false, None) => Mode::Console,
    };
    Ok(Cli {
        mode,
        quiet,
        edition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn editions_follow_the_program_name() {
        for (name, edition) in [
            ("/usr/local/stata18/stata-mp", Edition::Mp),
            ("stata-se", Edition::Se),
            ("stata", Edition::Be),
            ("xstata-mp", Edition::Mp),
            ("StataMP-64.exe", Edition::Mp),
            ("StataSE-64.exe", Edition::Se),
            ("Stata-64.exe", Edition::Be),
        ] {
            assert_eq!(Edition::from_program_name(name), edition, "{name}");
        }
    }

    #[test]
    fn batch_flags_unix_and_windows() {
        let cli = parse(&args(&["stata-mp", "-b", "-q", "do", "a b.do", "x"])).unwrap();
        assert_eq!(
            cli.mode,
            Mode::Batch {
                do_file: "a b.do".into(),
                args: vec!["x".into()],
                smcl: false
            }
        );
        assert!(cli.quiet);
        let cli = parse(&args(&["StataMP-64.exe", "/e", "/q", "do", "f.do"])).unwrap();
        assert!(matches!(cli.mode, Mode::Batch { .. }));
        let cli = parse(&args(&["stata", "-s", "do", "f.do"])).unwrap();
        assert!(matches!(cli.mode, Mode::Batch { smcl: true, .. }));
    }

    #[test]
    fn console_and_usage_errors() {
        assert_eq!(parse(&args(&["stata", "-q"])).unwrap().mode, Mode::Console);
        assert!(parse(&args(&["stata", "-b"])).is_err());
        assert!(parse(&args(&["stata", "-x"])).is_err());
        assert!(parse(&args(&["stata", "-b", "run", "f.do"])).is_err());
    }
}
