//! Finding Stata: `STATA_PATH`, then the usual install locations of each OS, then `PATH`.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable that names the Stata executable and wins over every search.
pub const STATA_PATH: &str = "STATA_PATH";

/// Stata's editions, as the executable's name tells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edition {
    /// Stata/MP (`stata-mp`, `StataMP-64.exe`).
    Mp,
    /// Stata/SE (`stata-se`, `StataSE-64.exe`).
    Se,
    /// Stata/BE, formerly IC (`stata`, `Stata-64.exe`).
    Be,
}

impl Edition {
    /// The edition of the executable at `path`, from its file name.
    pub fn from_executable(path: &Path) -> Edition {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".exe").unwrap_or(&name);
        let name = name.strip_prefix('x').unwrap_or(name);
        let rest = name
            .strip_prefix("stata")
            .unwrap_or(name)
            .trim_start_matches('-');
        if rest.starts_with("mp") {
            Edition::Mp
        } else if rest.starts_with("se") {
            Edition::Se
        } else {
            Edition::Be
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Edition::Mp => "MP",
            Edition::Se => "SE",
            Edition::Be => "BE",
        })
    }
}

/// The operating systems whose install layouts the search knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    /// Linux and other Unix systems.
    Linux,
    /// macOS (app bundles under `/Applications`).
    MacOs,
    /// Windows (`C:\Program Files\Stata18\StataMP-64.exe`).
    Windows,
}

impl Os {
    /// The OS this program runs on.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Linux
        }
    }

    /// Executable names to look for in each directory, best first.
    pub fn executable_names(self) -> &'static [&'static str] {
        match self {
            Os::Linux => &[
                "stata-mp",
                "stata-se",
                "stata",
                "xstata-mp",
                "xstata-se",
                "xstata",
            ],
            Os::MacOs => &["stata-mp", "stata-se", "stata"],
            Os::Windows => &[
                "StataMP-64.exe",
                "StataSE-64.exe",
                "Stata-64.exe",
                "StataMP.exe",
                "StataSE.exe",
                "Stata.exe",
            ],
        }
    }
}

/// A Stata executable that was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StataExecutable {
    /// Its full path.
    pub path: PathBuf,
    /// Its edition, from its name.
    pub edition: Edition,
}

impl StataExecutable {
    /// The executable at `path` (not checked), with the edition its name tells.
    pub fn new(path: impl Into<PathBuf>) -> StataExecutable {
        let path = path.into();
        let edition = Edition::from_executable(&path);
        StataExecutable { path, edition }
    }
}

/// Why Stata could not be found.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// `STATA_PATH` is set but does not name an executable.
    #[error(
        "STATA_PATH is set to {path:?}, but {problem}. Set STATA_PATH to the full path of your Stata executable (for example /usr/local/stata18/stata-mp, or C:\\Program Files\\Stata18\\StataMP-64.exe), or unset it to search the usual places"
    )]
    BadStataPath {
        /// The value of `STATA_PATH`.
        path: PathBuf,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Nothing was found anywhere.
    #[error("{}", not_found_message(.looked, .names))]
    NotFound {
        /// Every directory (or pattern that matched nothing) that was searched, in order.
        looked: Vec<String>,
        /// The executable names tried in each.
        names: Vec<&'static str>,
    },
}

fn not_found_message(looked: &[String], names: &[&str]) -> String {
    let mut text = format!(
        "Stata was not found. STATA_PATH is not set; looked for {} in:\n",
        names.join(", ")
    );
    for place in looked {
        text.push_str("  ");
        text.push_str(place);
        text.push('\n');
    }
    text.push_str(
        "Set the environment variable STATA_PATH to the full path of your Stata executable \
         (for example /usr/local/stata18/stata-mp, \
         /Applications/Stata/StataMP.app/Contents/MacOS/stata-mp, or \
         C:\\Program Files\\Stata18\\StataMP-64.exe).",
    );
    text
}

/// Where to look for Stata; [`Locator::from_env`] reads the real environment, tests build one.
#[derive(Clone, Debug)]
pub struct Locator {
    /// The value of `STATA_PATH`, if set.
    pub stata_path: Option<OsString>,
    /// The home directory (`~/stata*`).
    pub home: Option<PathBuf>,
    /// The value of `PATH`.
    pub path_var: Option<OsString>,
    /// Whose install layout to search.
    pub os: Os,
    /// The file-system root the install locations hang from: `/` (or `C:\`); a temporary tree
    /// in tests.
    pub root: PathBuf,
}

impl Locator {
    /// A locator for this machine: `STATA_PATH`, `HOME` (or `USERPROFILE`), `PATH`, this OS.
    pub fn from_env() -> Locator {
        let os = Os::current();
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let root = if os == Os::Windows {
            PathBuf::from("C:\\")
        } else {
            PathBuf::from("/")
        };
        Locator {
            stata_path: std::env::var_os(STATA_PATH).filter(|v| !v.is_empty()),
            home,
            path_var: std::env::var_os("PATH"),
            os,
            root,
        }
    }

    /// Finds Stata: `STATA_PATH` if set, else the first executable in [`Locator::search_dirs`].
    pub fn locate(&self) -> Result<StataExecutable, LocateError> {
        if let Some(value) = &self.stata_path {
            return self.check_stata_path(PathBuf::from(value));
        }
        let names = self.os.executable_names();
        let mut looked = Vec::new();
        for place in self.search_dirs() {
            match place {
                SearchDir::Dir(dir) => {
                    for name in names {
                        let candidate = dir.join(name);
                        if is_executable(&candidate) {
                            return Ok(StataExecutable::new(candidate));
                        }
                    }
                    looked.push(dir.display().to_string());
                }
                SearchDir::NoMatch(pattern) => looked.push(format!("{pattern} (no match)")),
            }
        }
        Err(LocateError::NotFound {
            looked,
            names: names.to_vec(),
        })
    }

    fn check_stata_path(&self, path: PathBuf) -> Result<StataExecutable, LocateError> {
        if path.is_dir() {
            for name in self.os.executable_names() {
                let candidate = path.join(name);
                if is_executable(&candidate) {
                    return Ok(StataExecutable::new(candidate));
                }
            }
            return Err(LocateError::BadStataPath {
                path,
                problem: "that directory holds no Stata executable",
            });
        }
        if !path.exists() {
            return Err(LocateError::BadStataPath {
                path,
                problem: "no such file exists",
            });
        }
        if !is_executable(&path) {
            return Err(LocateError::BadStataPath {
                path,
                problem: "that file is not executable",
            });
        }
        Ok(StataExecutable::new(path))
    }

    /// The directories searched, in order (patterns that matched nothing included).
    pub fn search_dirs(&self) -> Vec<SearchDir> {
        let mut dirs = Vec::new();
        let root = &self.root;
        match self.os {
            Os::Linux => {
                for v in ["stata19", "stata18", "stata17", "stata"] {
                    dirs.push(SearchDir::Dir(root.join("usr/local").join(v)));
                }
                glob_dirs(&mut dirs, &root.join("opt"), "stata", "/opt/stata*");
                if let Some(home) = &self.home {
                    let pattern = format!("{}/stata*", home.display());
                    glob_dirs(&mut dirs, home, "stata", &pattern);
                }
            }
            Os::MacOs => {
                for app in ["StataNow", "Stata", "Stata19", "Stata18", "Stata17"] {
                    for bundle in ["StataMP", "StataSE", "Stata"] {
                        let dir = root
                            .join("Applications")
                            .join(app)
                            .join(format!("{bundle}.app"))
                            .join("Contents/MacOS");
                        dirs.push(SearchDir::Dir(dir));
                    }
                }
            }
            Os::Windows => {
                for program_files in ["Program Files", "Program Files (x86)"] {
                    let base = root.join(program_files);
                    for v in ["Stata19", "Stata18", "Stata17"] {
                        dirs.push(SearchDir::Dir(base.join(v)));
                    }
                    let pattern = format!("{}\\StataNow*", base.display());
                    glob_dirs(&mut dirs, &base, "StataNow", &pattern);
                }
            }
        }
        if let Some(path) = &self.path_var {
            for dir in std::env::split_paths(path) {
                if !dir.as_os_str().is_empty() {
                    dirs.push(SearchDir::Dir(dir));
                }
            }
        }
        dirs
    }
}

/// One place [`Locator`] searches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchDir {
    /// A directory to look into.
    Dir(PathBuf),
    /// A wildcard pattern (`/opt/stata*`) that matched no directory.
    NoMatch(String),
}

/// Adds the subdirectories of `parent` whose names start with `prefix`, newest-looking first.
fn glob_dirs(out: &mut Vec<SearchDir>, parent: &Path, prefix: &str, pattern: &str) {
    let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .to_lowercase()
                .starts_with(&prefix.to_lowercase())
        })
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    if found.is_empty() {
        out.push(SearchDir::NoMatch(pattern.to_owned()));
        return;
    }
    found.sort();
    found.reverse();
    out.extend(found.into_iter().map(SearchDir::Dir));
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_from_names() {
        for (name, edition) in [
            ("/usr/local/stata18/stata-mp", Edition::Mp),
            ("stata-se", Edition::Se),
            ("stata", Edition::Be),
            ("xstata-mp", Edition::Mp),
            ("C:/Program Files/Stata18/StataMP-64.exe", Edition::Mp),
            ("StataSE-64.exe", Edition::Se),
            ("Stata-64.exe", Edition::Be),
            ("StataSE.exe", Edition::Se),
        ] {
            assert_eq!(Edition::from_executable(Path::new(name)), edition, "{name}");
        }
    }

    #[test]
    fn not_found_names_every_place_and_stata_path() {
        let root = tempfile::tempdir().unwrap();
        let locator = Locator {
            stata_path: None,
            home: Some(root.path().join("home")),
            path_var: Some(OsString::from("/nonexistent/bin")),
            os: Os::Linux,
            root: root.path().to_path_buf(),
        };
        let err = locator.locate().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("usr/local/stata18"), "{text}");
        assert!(text.contains("/opt/stata* (no match)"), "{text}");
        assert!(text.contains("/nonexistent/bin"), "{text}");
        assert!(text.contains("STATA_PATH"), "{text}");
        assert!(text.contains("stata-mp, stata-se, stata"), "{text}");
    }

    #[test]
    fn search_order_per_os() {
        let locator = |os| Locator {
            stata_path: None,
            home: None,
            path_var: None,
            os,
            root: PathBuf::from("/nonexistent-root"),
        };
        let mac = locator(Os::MacOs).search_dirs();
        assert_eq!(
            mac[0],
            SearchDir::Dir(PathBuf::from(
                "/nonexistent-root/Applications/StataNow/StataMP.app/Contents/MacOS"
            ))
        );
        let win = locator(Os::Windows).search_dirs();
        assert_eq!(
            win[0],
            SearchDir::Dir(PathBuf::from("/nonexistent-root/Program Files/Stata19"))
        );
        assert!(
            win.iter()
                .any(|d| matches!(d, SearchDir::NoMatch(p) if p.contains("StataNow*")))
        );
    }
}
