//! Finding Stata in temporary trees laid out like each OS's installs, with the stand-in
//! installed under Stata's names.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use common::*;
use mcp_stata::{
    BatchOptions, BatchRun, Edition, LocateError, Locator, Os, RunStatus, StataConfig,
};

fn locator(root: &Path, os: Os) -> Locator {
    Locator {
        stata_path: None,
        home: Some(root.join("home/ann")),
        path_var: Some(OsString::from(root.join("bin"))),
        os,
        root: root.to_path_buf(),
    }
}

#[test]
fn linux_install_order() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let l = locator(root, Os::Linux);
    assert!(matches!(l.locate(), Err(LocateError::NotFound { .. })));

    let on_path = install(&root.join("bin"), "stata");
    assert_eq!(l.locate().unwrap().path, on_path);
    let home = install(&root.join("home/ann/stata17"), "stata-se");
    assert_eq!(l.locate().unwrap().path, home, "~/stata* before PATH");
    let opt = install(&root.join("opt/stata18"), "xstata-mp");
    assert_eq!(l.locate().unwrap().path, opt, "/opt/stata* before ~");
    let local = install(&root.join("usr/local/stata17"), "stata-se");
    let found = l.locate().unwrap();
    assert_eq!(found.path, local, "/usr/local/stata17 before /opt");
    assert_eq!(found.edition, Edition::Se);
    let mp = install(&root.join("usr/local/stata17"), "stata-mp");
    assert_eq!(
        l.locate().unwrap().path,
        mp,
        "MP before SE in one directory"
    );
    let newer = install(&root.join("usr/local/stata19"), "stata");
    let found = l.locate().unwrap();
    assert_eq!((found.path, found.edition), (newer, Edition::Be));
}

#[test]
fn macos_and_windows_layouts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mac = install(
        &root.join("Applications/Stata/StataSE.app/Contents/MacOS"),
        "stata-se",
    );
    let found = locator(root, Os::MacOs).locate().unwrap();
    assert_eq!((found.path, found.edition), (mac, Edition::Se));

    let win = install(&root.join("Program Files/StataNow19"), "StataMP-64.exe");
    let found = locator(root, Os::Windows).locate().unwrap();
    assert_eq!((found.path, found.edition), (win, Edition::Mp));
}

#[test]
fn stata_path_wins_and_is_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    install(&root.join("usr/local/stata18"), "stata-mp");
    let chosen = install(&root.join("elsewhere"), "stata-se");
    let mut l = locator(root, Os::Linux);
    l.stata_path = Some(chosen.clone().into());
    assert_eq!(l.locate().unwrap().path, chosen);
    l.stata_path = Some(root.join("elsewhere").into());
    assert_eq!(l.locate().unwrap().path, chosen, "a directory is searched");

    l.stata_path = Some(root.join("missing/stata-mp").into());
    let err = l.locate().unwrap_err();
    assert!(matches!(err, LocateError::BadStataPath { .. }));
    assert!(err.to_string().contains("no such file"), "{err}");

    let plain = root.join("not-executable");
    std::fs::write(&plain, "").unwrap();
    l.stata_path = Some(plain.into());
    assert!(
        l.locate()
            .unwrap_err()
            .to_string()
            .contains("not executable")
    );
}

#[test]
fn not_found_lists_every_place() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("opt/stata18")).unwrap();
    let err = locator(root, Os::Linux).locate().unwrap_err();
    let text = err.to_string();
    for place in [
        root.join("usr/local/stata19"),
        root.join("usr/local/stata18"),
        root.join("usr/local/stata17"),
        root.join("usr/local/stata"),
        root.join("opt/stata18"),
        root.join("bin"),
    ] {
        assert!(
            text.contains(place.to_str().unwrap()),
            "{place:?} missing from:\n{text}"
        );
    }
    assert!(text.contains("stata* (no match)"), "{text}");
    assert!(text.contains("STATA_PATH"));
}

/// The edition follows the executable's name all the way into Stata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn located_stand_in_runs_with_its_edition() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    install(&root.join("usr/local/stata18"), "stata-se");
    let mut config = StataConfig::new(locator(root, Os::Linux).locate().unwrap());
    config.jobs_dir = root.join("jobs");
    let do_file: PathBuf = root.join("ed.do");
    std::fs::write(&do_file, "display \"`c(edition_real)'\"\n").unwrap();
    let mut run = BatchRun::start(&config, &do_file, BatchOptions::default())
        .await
        .unwrap();
    let done = collect(&mut run, |_| {}).await;
    assert_eq!(done.outcome().status, RunStatus::Success);
    assert!(done.texts().contains(&"SE"), "{:?}", done.texts());
}
