//! The report's Parquet dataset read by real engines (`tests/engines/dataset.py`):
//! pyarrow with a strict schema merge, DuckDB and Apache Spark each compute
//! the weekly and per-project hit rates, which must equal the report's own
//! tables; `athena.sql` parses (sqlglot) and names exactly the declared columns.
//! `tests/run.sh` installs the engines and sets `CACHELENS_REQUIRE_ENGINES`, so
//! that a missing one fails there; elsewhere the test says SKIPPED.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether python3 can import every engine's module.
fn engines_installed() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import pyarrow, duckdb, pyspark, sqlglot"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CACHELENS_REQUIRE_ENGINES").is_none(),
            "pyarrow, duckdb, pyspark or sqlglot is missing (tests/run.sh installs them)"
        );
        eprintln!(
            "SKIPPED: pyarrow, duckdb, pyspark or sqlglot is missing (tests/run.sh installs them)"
        );
    }
    found
}

fn engines(report: &Path, which: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg(root().join("tests/engines/dataset.py"))
        .arg(report)
        .args(which)
        .output()
        .unwrap()
}

fn report(args: &[&str], out: &Path) {
    let o = Command::new(BIN)
        .current_dir(root())
        .arg("report")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn engines_read_the_dataset_and_agree_with_the_report() {
    if !engines_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    report(
        &["--archive", "sample-logs/demo", "--cache-size-gb", "12"],
        &out,
    );
    let o = engines(&out, &[]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for engine in ["pyarrow", "duckdb", "spark", "athena-sql"] {
        assert!(said.contains(&format!("{engine}: 6 files")), "{said}");
    }
}

#[test]
fn the_engine_check_fails_on_a_dataset_that_disagrees() {
    if !engines_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    report(
        &["--archive", "sample-logs/demo", "--cache-size-gb", "12"],
        &out,
    );
    // one week's file gone: the weekly hit rates no longer match the report's
    let steps = out.join("dataset/steps");
    let week = std::fs::read_dir(&steps).unwrap().next().unwrap().unwrap();
    std::fs::remove_dir_all(week.path()).unwrap();
    let o = engines(&out, &["duckdb"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("duckdb: weekly hit rate"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // a column declared with another type than the files have
    let schema = out.join("dataset/schema.json");
    let text = std::fs::read_to_string(&schema).unwrap();
    std::fs::write(&schema, text.replacen("\"int\"", "\"bigint\"", 1)).unwrap();
    let o = engines(&out, &["pyarrow"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pyarrow: build_index is int32"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
