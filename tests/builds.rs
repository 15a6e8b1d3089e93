//! `cachelens builds`: one line per build, on real logs.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn real(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs/real")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn one_line_per_build_with_both_hit_figures() {
    let o = Command::new(BIN)
        .args(["builds", "--no-config"])
        .arg(real("multistage-partial-backend-change.log"))
        .arg(real("nodeapp-warm.log"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("SOURCE") && lines[0].contains("CACHED/TOTAL"));
    let partial = lines[1];
    // 5 of 9 cacheable steps hit; buildx counts 5 cached of all 15 vertices
    assert!(
        partial.contains("multistage-partial-backend-change.log"),
        "{partial}"
    );
    assert!(
        partial.contains(" 56% ") && partial.contains(" 5/15 "),
        "{partial}"
    );
    assert!(
        partial.contains("[backend 1/2] COPY backend/ ./backend/"),
        "{partial}"
    );
    assert!(
        partial.contains("succeeded") && partial.ends_with("none"),
        "{partial}"
    );
    assert!(
        lines[2].contains(" 100% ") && lines[2].contains("  -  "),
        "{}",
        lines[2]
    );
    assert!(text.contains("CACHED/TOTAL is buildx's figure"));
}

#[test]
fn no_build_is_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("x.log");
    std::fs::write(&log, "just some text\n").unwrap();
    let o = Command::new(BIN)
        .args(["builds", "--no-config"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn summary_hints_at_history_and_shows_the_time_saved_with_it() {
    let warm = real("nodeapp-warm.log");
    let o = Command::new(BIN)
        .args(["summary", "--no-config", "--color", "never", &warm])
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("add --history") && err.contains("5 cached steps"),
        "{err}"
    );
    let o = Command::new(BIN)
        .args(["summary", "--no-config", "--color", "never", "--history"])
        .arg(real("nodeapp-cold.log"))
        .arg(&warm)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("time saved"));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("add --history"));
}
