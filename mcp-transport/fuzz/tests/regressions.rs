//! Every corpus input, and every failing input found by fuzzing and kept in
//! `testdata/fuzz/crashes/`, passes its target: fixed bugs stay fixed.

use mcp_fuzz::{Harness, Outcome, Target, corpus, crashes, run_one};

#[test]
fn the_corpus_and_every_kept_crash_pass() {
    let mut harness = Harness::new();
    let mut failed = Vec::new();
    let mut seen = 0;
    for target in Target::ALL {
        let inputs = corpus(target).into_iter().chain(crashes(target));
        for (path, bytes) in inputs {
            seen += 1;
            let input = harness.prepare(target, &bytes);
            if let Outcome::Failed(why) = run_one(&mut harness, target, &input) {
                failed.push(format!("{}: {why}", path.display()));
            }
        }
    }
    assert!(seen >= 40, "the corpus is there: {seen} inputs");
    assert!(
        failed.is_empty(),
        "inputs that fail:\n{}",
        failed.join("\n")
    );
}
