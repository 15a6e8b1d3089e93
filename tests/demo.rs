//! The shipped demo archive is what its generator makes, and the report over
//! it adds up: the weekly, per-project and per-build tables agree with the totals.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use polars::prelude::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");
const MAKE_DEMO: &str = env!("CARGO_BIN_EXE_make-demo");

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for (k, v) in files(&p) {
                out.insert(Path::new(p.file_name().unwrap()).join(k), v);
            }
        } else {
            out.insert(
                PathBuf::from(p.file_name().unwrap()),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    out
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/demo")
}

#[test]
fn the_shipped_demo_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = Command::new(MAKE_DEMO).arg(&out).output().unwrap();
    assert!(run.status.success(), "{run:?}");
    let (made, shipped) = (files(&out), files(&demo()));
    assert_eq!(
        made.len(),
        181,
        "180 streams and the .cachelens-demo marker"
    );
    assert!(made.contains_key(Path::new(".cachelens-demo")));
    assert_eq!(
        made.keys().collect::<Vec<_>>(),
        shipped.keys().collect::<Vec<_>>(),
        "run `cargo run --bin make-demo` and commit sample-logs/demo"
    );
    for (k, v) in &made {
        assert!(
            shipped[k] == *v,
            "{} differs: run `cargo run --bin make-demo`",
            k.display()
        );
    }
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .map(str::to_owned)
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn sum(rows: &[BTreeMap<String, String>], col: &str) -> f64 {
    rows.iter()
        .map(|r| r[col].parse::<f64>().unwrap_or(0.0))
        .sum()
}

#[test]
fn the_report_over_the_demo_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = |out: &Path| {
        let o = Command::new(BIN)
            .args([
                "report",
                "--archive",
                demo().to_str().unwrap(),
                "--cache-size-gb",
                "12",
            ])
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    let first = run(&out);
    let stdout = String::from_utf8(first.stdout).unwrap();
    // the verdict first, then the window
    assert!(
        stdout.starts_with("The cache paid for itself: saved 3.26 USD of compute"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("180 builds in 180 CodeBuild runs; 2026-09-28 to 2026-11-06"),
        "{stdout}"
    );

    let totals: Value =
        serde_json::from_slice(&std::fs::read(out.join("totals.json")).unwrap()).unwrap();
    let t = &totals["totals"];
    let f = |k: &str| t[k].as_f64().unwrap();
    let tables = out.join("tables");
    let weekly = csv_rows(&tables.join("weekly.csv"));
    assert_eq!(
        weekly
            .iter()
            .map(|w| w["week"].as_str())
            .collect::<Vec<_>>(),
        [
            "2026-W40", "2026-W41", "2026-W42", "2026-W43", "2026-W44", "2026-W45"
        ]
    );
    for (col, total) in [
        ("compute_saved", "compute_saved"),
        ("overhead_cost", "overhead_cost"),
        ("storage_cost", "storage_cost"),
        ("net", "net"),
    ] {
        assert!(
            (sum(&weekly, col) - f(total)).abs() < 1e-6,
            "{col}: {} vs {}",
            sum(&weekly, col),
            f(total)
        );
    }
    assert!((sum(&weekly, "saved_minutes") * 60.0 - f("saved_seconds")).abs() < 1e-6);
    let projects = csv_rows(&tables.join("hit_rate_by_project.csv"));
    assert_eq!(sum(&projects, "cached"), f("cached"));
    assert_eq!(sum(&projects, "cacheable"), f("cacheable"));
    let runs = csv_rows(&tables.join("runs.csv"));
    assert_eq!(runs.len(), 180);
    assert!((sum(&runs, "compute_saved") - f("compute_saved")).abs() < 1e-6);
    assert!(runs.iter().all(
        |r| r["billed_minutes_without_cache"].parse::<f64>().unwrap()
            >= r["billed_minutes"].parse::<f64>().unwrap()
    ));

    // the import outage: six web builds on two days of week 43, and no other failed import
    let builds = csv_rows(&tables.join("builds.csv"));
    let failed: Vec<_> = builds
        .iter()
        .filter(|b| b["import_failed"] == "true")
        .collect();
    assert_eq!(failed.len(), 6);
    assert!(
        failed
            .iter()
            .all(|b| b["week"] == "2026-W43" && b["project"] == "web")
    );
    // feature branches hit less than main
    let branches = csv_rows(&tables.join("hit_rate_by_branch.csv"));
    let rate = |pred: &dyn Fn(&str) -> bool| {
        let rows: Vec<_> = branches
            .iter()
            .filter(|b| pred(&b["branch"]))
            .cloned()
            .collect();
        sum(&rows, "cached") / sum(&rows, "cacheable")
    };
    assert!(rate(&|b| b.starts_with("feature/")) < rate(&|b| b == "main"));
    assert!(f("hit_rate") > 0.2 && f("hit_rate") < 0.9);
    assert!(f("compute_saved") > 0.0 && f("storage_cost") > 0.0);

    // a dataset for Athena/Trino/Spark/DuckDB, written a week at a time: every
    // step once, in the folder of its week
    let steps = csv_rows(&tables.join("steps.csv"));
    let mut weeks: Vec<&str> = steps.iter().map(|s| s["week"].as_str()).collect();
    weeks.sort_unstable();
    weeks.dedup();
    let mut rows = 0;
    let mut folders = 0;
    for e in std::fs::read_dir(out.join("dataset/steps")).unwrap() {
        let folder = e.unwrap().path();
        let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
        let monday =
            NaiveDate::parse_from_str(name.strip_prefix("week=").unwrap(), "%Y-%m-%d").unwrap();
        let file = std::fs::File::open(folder.join("00000000.parquet")).unwrap();
        let df = ParquetReader::new(file).finish().unwrap();
        let days = df.column("day").unwrap().date().unwrap();
        for day in days.as_date_iter() {
            let day = day.unwrap();
            assert!(
                day >= monday && day < monday + chrono::Days::new(7),
                "{day} in {name}"
            );
        }
        rows += df.height();
        folders += 1;
    }
    assert!(out.join("dataset/steps/week=2026-09-28").is_dir());
    assert_eq!((rows, folders), (steps.len(), weeks.len()));
    // the same input gives the same report
    let again = dir.path().join("again");
    run(&again);
    assert_eq!(files(&out), files(&again));
}
