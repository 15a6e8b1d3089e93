//! Snapshots (insta) of the post_build summary, on top of the checked
//! expectations in `real_logs.rs`: what a user reads, exactly.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn summary(format: &str, log: &str) -> String {
    let out = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["summary", "--color", "never", "--format", format, log])
        .output()
        .expect("run cachelens");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn summary_tables() {
    for log in [
        "sample-logs/real/nodeapp-partial-src-change.log",
        "sample-logs/real/remote-cache-from-missing-tag.log",
        "sample-logs/real/failing-run-test.log",
        "sample-logs/real/multistage-partial-backend-change.log",
        "sample-logs/real/remote-inline-cache-export.log",
        "sample-logs/real/remote-inline-cache-import-partial.log",
        "tests/fixtures/buildx-registry-cache.log",
    ] {
        let name = log.rsplit('/').next().unwrap().trim_end_matches(".log");
        insta::assert_snapshot!(format!("table-{name}"), summary("table", log));
        insta::assert_snapshot!(format!("markdown-{name}"), summary("markdown", log));
    }
}
