//! The report folder: the committed example is what the README's main command
//! makes (byte for byte); the HTML, the Markdown, the charts' data and the
//! CSV tables show the same figures; log text is escaped; the page fetches
//! nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let r = rel.join(p.file_name().unwrap());
            if p.is_dir() {
                walk(&p, &r, out);
            } else {
                out.insert(r, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, Path::new(""), &mut out);
    out
}

/// The report of the demo archive, made once by the README's main command
/// (run from the checkout, as the README says) into a temporary folder.
fn demo_report() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(BIN)
            .current_dir(root())
            .args([
                "report",
                "--archive",
                "sample-logs/demo",
                "--cache-size-gb",
                "12",
                "--out",
            ])
            .arg(dir.path().join("example"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        dir
    })
    .path()
    .join("example")
    .leak()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .map(str::to_owned)
                .zip(rec.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap()
}

#[test]
fn the_committed_example_is_what_the_main_command_makes() {
    let (made, committed) = (files(demo_report()), files(&root().join("reports/example")));
    assert_eq!(
        made.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "run the README's main command and commit reports/example"
    );
    for (k, v) in &made {
        assert!(
            committed[k] == *v,
            "reports/example/{} differs: run the README's main command and commit it",
            k.display()
        );
    }
    for chart in ["headline", "hit_rate", "misses", "overhead"] {
        assert!(made.contains_key(&PathBuf::from(format!("charts/{chart}.svg"))));
        assert!(made.contains_key(&PathBuf::from(format!("charts/{chart}.png"))));
    }
}

#[test]
fn one_thread_or_two_write_the_same_bytes() {
    let committed = files(&root().join("reports/example"));
    for threads in ["1", "2"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("example");
        let o = Command::new(BIN)
            .current_dir(root())
            .args([
                "--threads",
                threads,
                "report",
                "--archive",
                "sample-logs/demo",
            ])
            .args(["--cache-size-gb", "12", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let made = files(&out);
        assert_eq!(
            made.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>()
        );
        for (k, v) in &made {
            assert!(
                committed[k] == *v,
                "{} differs on {threads} threads",
                k.display()
            );
        }
    }
}

#[test]
fn no_table_writes_minus_zero() {
    let tables = demo_report().join("tables");
    for e in std::fs::read_dir(&tables).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            for row in csv_rows(&p) {
                for (col, v) in &row {
                    assert!(
                        !(v.starts_with("-0") && v.parse::<f64>() == Ok(0.0)),
                        "{}: {col} = {v}",
                        p.display()
                    );
                }
            }
        }
    }
}

#[test]
fn html_markdown_charts_and_tables_agree() {
    let out = demo_report();
    let html = read(&out.join("index.html"));
    let md = read(&out.join("report.md"));
    let data: Value = serde_json::from_str(&read(&out.join("charts/data.json"))).unwrap();
    let totals: Value = serde_json::from_str(&read(&out.join("totals.json"))).unwrap();
    let t = &totals["totals"];
    let weekly = csv_rows(&out.join("tables/weekly.csv"));
    let builds = csv_rows(&out.join("tables/builds.csv"));
    let cur = t["currency"].as_str().unwrap();

    let weeks = data["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), weekly.len());
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    for (w, row) in weeks.iter().zip(&weekly) {
        assert_eq!(w["week"].as_str().unwrap(), row["week"]);
        for col in [
            "saved_minutes",
            "compute_saved",
            "overhead_cost",
            "storage_cost",
            "net",
        ] {
            assert!(close(w[col].as_f64().unwrap(), num(row, col)), "{col}");
        }
        let overhead: f64 = builds
            .iter()
            .filter(|b| b["week"] == row["week"])
            .map(|b| num(b, "overhead_seconds"))
            .sum::<f64>()
            / 60.0;
        assert!(close(w["overhead_minutes"].as_f64().unwrap(), overhead));

        // the same row, formatted the same, in both pages
        let cells = [
            row["week"].clone(),
            row["builds"].clone(),
            format!("{:.0}%", num(row, "hit_rate") * 100.0),
            format!("{:.1}", num(row, "saved_minutes")),
            format!("{:.2}", num(row, "compute_saved")),
            format!("{overhead:.1}"),
            format!("{:.2}", num(row, "overhead_cost")),
            format!("{:.2}", num(row, "fetch_gb")),
            format!("{:.2}", num(row, "storage_cost")),
            format!("{:+.2}", num(row, "net")),
        ];
        let tone = if num(row, "net") < 0.0 {
            "loss"
        } else {
            "gain"
        };
        let intervals = [
            format!(
                "{:.1} to {:.1}",
                num(row, "saved_minutes_low"),
                num(row, "saved_minutes_high")
            ),
            format!(
                "{:.2} to {:.2}",
                num(row, "compute_saved_low"),
                num(row, "compute_saved_high")
            ),
        ];
        let html_row = format!(
            "<tr><td>{}</td><td class=\"{tone}\">{}</td><td>{}</td></tr>",
            cells[..9].join("</td><td>"),
            cells[9],
            intervals.join("</td><td>")
        );
        // the week's intervals hold its point estimates
        for col in ["saved_minutes", "compute_saved"] {
            let (lo, hi) = (
                num(row, &format!("{col}_low")),
                num(row, &format!("{col}_high")),
            );
            assert!(
                lo - 1e-9 <= num(row, col) && num(row, col) <= hi + 1e-9,
                "{col}"
            );
        }
        let md_row = format!("| {} |", cells.join(" | "));
        assert!(html.contains(&html_row), "{html_row}");
        assert!(md.contains(&md_row), "{md_row}");
    }

    // the headline figures: equal to the CSV sums, formatted alike in both pages
    let sum = |col: &str| weekly.iter().map(|r| num(r, col)).sum::<f64>();
    for (label, col, class) in [
        ("Net savings", "net", "figure gain"),
        ("Compute saved", "compute_saved", "figure"),
        ("ECR storage", "storage_cost", "figure"),
    ] {
        let total = t[col].as_f64().unwrap();
        assert!((sum(col) - total).abs() < 1e-6, "{col}");
        let value = if col == "net" {
            format!("{total:+.2} {cur}")
        } else {
            format!("{total:.2} {cur}")
        };
        assert!(
            html.contains(&format!(
                r#"<div class="{class}"><div class="label">{label}</div><div class="value">{value}</div>"#
            )),
            "{label} {value}"
        );
        assert!(md.contains(&format!("| {label} | {value} |")), "{label}");
    }
    let minutes = format!("{:.1}", t["saved_seconds"].as_f64().unwrap() / 60.0);
    assert!((sum("saved_minutes") * 60.0 - t["saved_seconds"].as_f64().unwrap()).abs() < 1e-6);
    assert!(html.contains(&format!(
        r#"<div class="label">Compute minutes saved</div><div class="value">{minutes}</div>"#
    )));
    assert!(md.contains(&format!("| Compute minutes saved | {minutes} |")));
    let rate = format!("{:.0}%", t["hit_rate"].as_f64().unwrap() * 100.0);
    assert!(md.contains(&format!("| Hit rate | {rate} |")));
    assert!(html.contains(&format!(
        r#"<div class="label">Hit rate</div><div class="value">{rate}</div>"#
    )));

    // the overhead split: import + fetch + export, in totals.json and the pages
    let part = |k: &str| t[k].as_f64().unwrap();
    assert!(
        (part("import_seconds") + part("fetch_seconds") + part("export_seconds")
            - part("overhead_seconds"))
        .abs()
            < 1e-6
    );
    let split = format!(
        "| Cache overhead (import + fetch + export) | {:.1} min ({:.1} + {:.1} + {:.1}),",
        part("overhead_seconds") / 60.0,
        part("import_seconds") / 60.0,
        part("fetch_seconds") / 60.0,
        part("export_seconds") / 60.0
    );
    assert!(md.contains(&split), "{split}");
    // hits by origin: the table's rows add up to the totals, and to the hits
    let origins = csv_rows(&out.join("tables/hits_by_origin.csv"));
    let by = &t["hits_by_origin"];
    let hits: u64 = ["remote", "local", "undetermined"]
        .iter()
        .map(|o| {
            let rows: f64 = origins
                .iter()
                .filter(|r| r["hit_origin"] == *o)
                .map(|r| num(r, "hits"))
                .sum();
            assert_eq!(rows as u64, by[o]["hits"].as_u64().unwrap(), "{o}");
            rows as u64
        })
        .sum();
    assert_eq!(hits, t["cached"].as_u64().unwrap());

    // the misses chart shows the top of step_keys.csv
    let keys = csv_rows(&out.join("tables/step_keys.csv"));
    let top = data["top_steps"].as_array().unwrap();
    assert!(!top.is_empty());
    for (s, row) in top.iter().zip(&keys) {
        assert_eq!(s["step_key"].as_str().unwrap(), row["step_key"]);
        assert_eq!(s["misses"].as_f64().unwrap(), num(row, "misses"));
        assert!(close(
            s["minutes_lost"].as_f64().unwrap(),
            num(row, "minutes_lost")
        ));
    }
    // the header: window, sources, price table date
    assert!(html.contains("2026-09-28 to 2026-11-06"));
    assert!(html.contains(r#"<details id="sources"><summary>180 logs</summary>"#));
    assert!(html.contains(", and 130 more</details>"));
    // the verdict comes first, before the window and the sources
    let verdict = html.find(r#"<section class="verdict gain" id="verdict">"#);
    assert!(verdict.is_some_and(|v| v < html.find(r#"id="about""#).unwrap()));
    assert!(html.contains("The cache paid for itself: saved 3.26 USD of compute"));
    assert!(md.starts_with("# Docker build cache report"));
    assert!(
        md.lines()
            .nth(2)
            .unwrap()
            .starts_with("> 🟢 **net +1.52 USD**: The cache paid")
    );
    let date = totals["pricing"]["date"].as_str().unwrap();
    assert!(html.contains(&format!("price table of {date}")));
    assert!(md.contains(&format!("price table of {date}")));
    assert!(md.contains("](charts/headline.png)"));
}

/// A tiny log whose step names carry markup and quotes.
const HOSTILE: &str = r#"#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s

#2 [1/3] FROM docker.io/library/alpine:3.19
#2 DONE 0.1s

#3 [2/3] RUN echo "<script>alert(1)</script>" 'it''s' | tee "/tmp/a&b"
#3 DONE 2.5s

#4 [3/3] RUN echo "<img src=x onerror=alert(2)>"
#4 DONE 1.0s
"#;

/// The report of [`HOSTILE`], written into `dir`.
fn hostile_report(dir: &Path) -> PathBuf {
    let log = dir.join("hostile.log");
    std::fs::write(&log, HOSTILE).unwrap();
    let out = dir.join("report");
    let o = Command::new(BIN)
        .arg("report")
        .arg(&log)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn plain_files_say_what_is_known_builds_from_files_and_no_dates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let o = Command::new(BIN)
        .current_dir(root())
        .args(["report", "sample-logs/real", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // the verdict first, then what is known of the window
    assert!(
        stdout.lines().nth(1).is_some_and(
            |l| l.starts_with("26 builds from 26 files; no dates in the logs: hit rate")
        ),
        "{stdout}"
    );
    assert!(!stdout.contains('?'), "{stdout}");
    let why = "No week to show: the logs hold no dates";
    let md = read(&out.join("report.md"));
    assert!(md.contains("| Window | no dates in the logs |"), "{md}");
    assert!(md.contains("| Builds | 26 builds from 26 files |"), "{md}");
    assert!(
        md.contains("| ECR storage | unknown (no cache size given) |"),
        "{md}"
    );
    assert_eq!(
        md.matches(why).count(),
        3,
        "the three per-week sections: {md}"
    );
    assert!(!md.contains("| Week |"), "no empty weekly table");
    let html = read(&out.join("index.html"));
    assert!(html.contains("<div class=\"value\">26 builds from 26 files</div>"));
    assert_eq!(html.matches(why).count(), 3);
    assert!(!html.contains("id=\"weekly\""));
    let totals: Value =
        serde_json::from_str::<Value>(&read(&out.join("totals.json"))).unwrap()["totals"].take();
    assert_eq!(
        (totals["runs"].as_u64(), totals["codebuild_runs"].as_u64()),
        (Some(26), Some(0))
    );
    assert!(totals["first_day"].is_null());
}

#[test]
fn log_text_is_escaped_and_the_page_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = hostile_report(dir.path());
    let html = read(&out.join("index.html"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    let md = read(&out.join("report.md"));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    assert!(!md.contains("<script") && !md.contains("<img"));
    for page in [&html, &md] {
        assert!(!page.contains("http"), "a URL in the page");
    }
    // no tag loads anything (escaped text has no '<', so these are the real tags)
    for tag in html.split('<').skip(1).filter_map(|t| t.split('>').next()) {
        for attr in ["src=", "href=", "xlink:"] {
            assert!(!tag.contains(attr), "<{tag}>");
        }
        assert!(
            !tag.starts_with("link") && !tag.starts_with("script"),
            "<{tag}>"
        );
    }
    assert!(!html.contains("url(") && !html.contains("@import"));
    // the misses chart's SVG (inlined) escapes it too
    let svg = read(&out.join("charts/misses.svg"));
    assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script"));
}

#[test]
fn intervals_in_totals_tables_and_the_headline_chart() {
    let out = demo_report();
    let totals: Value = serde_json::from_str(&read(&out.join("totals.json"))).unwrap();
    let t = &totals["totals"];
    let f = |k: &str| t[k].as_f64().unwrap();
    for (interval, point) in [
        ("saved_minutes_interval", f("saved_seconds") / 60.0),
        ("compute_saved_interval", f("compute_saved")),
        ("net_interval", f("net")),
    ] {
        let (lo, hi) = (
            t[interval]["low"].as_f64().unwrap(),
            t[interval]["high"].as_f64().unwrap(),
        );
        assert!(
            lo - 1e-9 <= point && point <= hi + 1e-9,
            "{interval}: {lo} {point} {hi}"
        );
    }
    let minutes = &t["saved_minutes_interval"];
    assert!(
        minutes["high"].as_f64().unwrap() > minutes["low"].as_f64().unwrap(),
        "the demo's step times vary: the minutes saved are not certain"
    );
    let html = read(&out.join("index.html"));
    assert!(html.contains(&format!(
        r#"<div class="interval">90 %: {:.1} to {:.1}</div>"#,
        minutes["low"].as_f64().unwrap(),
        minutes["high"].as_f64().unwrap()
    )));
    let svg = read(&out.join("charts/headline.svg"));
    assert!(svg.contains("90 % interval of compute saved"));
    let data: Value = serde_json::from_str(&read(&out.join("charts/data.json"))).unwrap();
    for w in data["weeks"].as_array().unwrap() {
        let i = &w["compute_saved_interval"];
        let point = w["compute_saved"].as_f64().unwrap();
        assert!(
            i["low"].as_f64().unwrap() <= point + 1e-9
                && point <= i["high"].as_f64().unwrap() + 1e-9
        );
    }
}

#[test]
fn miss_causes_name_each_projects_costliest_cause_as_diagnose_finds_them() {
    let out = demo_report();
    let rows = csv_rows(&out.join("tables/miss_causes.csv"));
    assert!(!rows.is_empty());
    // per project, rank 1 is the cause that lost the most minutes, with its evidence
    let mut projects: BTreeMap<String, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for r in &rows {
        projects.entry(r["project"].clone()).or_default().push(r);
    }
    assert_eq!(
        projects.keys().map(String::as_str).collect::<Vec<_>>(),
        ["api", "web", "worker"]
    );
    for (project, causes) in &projects {
        let first = causes.iter().find(|r| r["rank"] == "1").unwrap();
        let most = causes
            .iter()
            .map(|r| num(r, "minutes_lost"))
            .fold(0.0f64, f64::max);
        assert_eq!(num(first, "minutes_lost"), most, "{project}");
        let stream = first["example_build"].split_once(':').unwrap().1;
        assert!(
            first["evidence"].contains(stream),
            "{project}: the evidence is the example's: {}",
            first["evidence"]
        );
        assert!(!first["fix"].is_empty() && !first["example_step"].is_empty());
    }
    // the builds per project and cause are those `diagnose --all` finds
    let o = Command::new(BIN)
        .current_dir(root())
        .args([
            "diagnose",
            "--archive",
            "sample-logs/demo",
            "--all",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut counted: BTreeMap<(String, String), u32> = BTreeMap::new();
    for d in doc["diagnoses"].as_array().unwrap() {
        let project = d["build_id"].as_str().unwrap().split(':').next().unwrap();
        for c in d["causes"].as_array().unwrap() {
            *counted
                .entry((project.to_owned(), c["cause"].as_str().unwrap().to_owned()))
                .or_default() += 1;
        }
    }
    let tabled: BTreeMap<(String, String), u32> = rows
        .iter()
        .map(|r| {
            (
                (r["project"].clone(), r["cause"].clone()),
                num(r, "builds") as u32,
            )
        })
        .collect();
    assert_eq!(tabled, counted);
    // both pages show the section, each project's first in bold
    let (html, md) = (read(&out.join("index.html")), read(&out.join("report.md")));
    assert!(html.contains("<h2>What to fix first</h2>") && md.contains("## What to fix first"));
    for causes in projects.values() {
        let first = causes.iter().find(|r| r["rank"] == "1").unwrap();
        assert!(html.contains(&format!(
            "<tr class=\"first\"><td>{}</td><td>{}</td><td>{}</td>",
            first["project"], first["cause"], first["builds"]
        )));
        assert!(md.contains(&format!(
            "| **{}** | **{}** | {} |",
            first["project"], first["cause"], first["builds"]
        )));
    }
}

/// The demo's report with `args` (a cache size, or none) into `dir`; its stdout.
fn demo_report_with(dir: &Path, args: &[&str]) -> String {
    let o = Command::new(BIN)
        .current_dir(root())
        .args([
            "report",
            "--archive",
            "sample-logs/demo",
            "--color",
            "always",
        ])
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_loss_is_red_and_an_unknown_storage_makes_the_net_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let loss = dir.path().join("loss");
    let stdout = demo_report_with(&loss, &["--cache-size-gb", "100"]);
    let first = stdout.lines().next().unwrap();
    // bold red, the verdict first
    assert!(
        first.starts_with("\x1b[1m\x1b[31mThe cache did not pay for itself"),
        "{first:?}"
    );
    assert!(first.contains("net -10.04 USD"), "{first}");
    let html = read(&loss.join("index.html"));
    assert!(html.contains(r#"<section class="verdict loss" id="verdict">"#));
    assert!(html.contains(
        r#"<div class="figure loss"><div class="label">Net savings</div><div class="value">-10.04 USD</div>"#
    ));
    assert!(!html.contains(r#"class="verdict gain""#) && !html.contains("figure gain"));
    let md = read(&loss.join("report.md"));
    assert!(md.contains("> 🔴 **net -10.04 USD**: The cache did not pay for itself"));

    let unknown = dir.path().join("unknown");
    let stdout = demo_report_with(&unknown, &[]);
    assert!(stdout.contains("Whether the cache pays for itself is unknown"));
    assert!(stdout.contains("net: unknown"), "{stdout}");
    let totals: Value = serde_json::from_str(&read(&unknown.join("totals.json"))).unwrap();
    for k in ["storage_cost", "cache_cost", "net", "return_ratio"] {
        assert!(totals["totals"][k].is_null(), "{k}");
    }
    for row in csv_rows(&unknown.join("tables/weekly.csv")) {
        assert_eq!(
            row["net"], "",
            "a week's net without storage is unknown, not a number"
        );
    }
    let html = read(&unknown.join("index.html"));
    assert!(html.contains(r#"<section class="verdict unknown" id="verdict">"#));
    assert!(html.contains(
        r#"<div class="figure unknown"><div class="label">Net savings</div><div class="value">unknown</div>"#
    ));
    assert!(html.contains(r#"<td class="unknown">unknown</td>"#));
    // no net is drawn where it is unknown
    let data: Value = serde_json::from_str(&read(&unknown.join("charts/data.json"))).unwrap();
    assert!(
        data["weeks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["net"].is_null())
    );
    assert!(!read(&unknown.join("charts/headline.svg")).contains("net savings"));
}

/// Headless Chromium, if installed; `tests/run.sh` installs it and sets
/// `CACHELENS_REQUIRE_CHROMIUM` so that a missing one fails there.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CACHELENS_REQUIRE_CHROMIUM").is_none(),
            "chromium is not installed (tests/run.sh installs Debian's package as root)"
        );
        eprintln!("SKIPPED: no chromium on PATH (tests/run.sh installs it)");
    }
    found
}

/// Runs Chromium headless on `page` with `args`, in a fresh profile; its stdout.
fn headless(chromium: &Path, page: &Path, args: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

/// Width and number of distinct colours of a PNG.
fn png_colours(path: &Path) -> (u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let colours: std::collections::BTreeSet<&[u8]> = buf[..info.buffer_size()]
        .chunks(step)
        .map(|px| &px[..3.min(step)])
        .collect();
    (info.width, colours.len())
}

/// The verdict's background when the cache paid for itself, and when not (index.html's CSS).
const VERDICT_GAIN: [u8; 3] = [0xe6, 0xf4, 0xec];
/// See [`VERDICT_GAIN`].
const VERDICT_LOSS: [u8; 3] = [0xfb, 0xe9, 0xe5];

/// How many pixels of a PNG have the colour `rgb`.
fn pixels_of(path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf[..info.buffer_size()]
        .chunks(info.color_type.samples())
        .filter(|px| px[..3] == rgb)
        .count()
}

#[test]
fn chromium_renders_the_page_at_desktop_and_phone_widths() {
    let Some(chromium) = chromium() else { return };
    let page = demo_report().join("index.html");
    let shots = tempfile::tempdir().unwrap();
    for (width, height) in [(1280, 2400), (390, 2400)] {
        let shot = shots.path().join(format!("{width}.png"));
        headless(
            &chromium,
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                format!("--window-size={width},{height}"),
            ],
        );
        let (w, colours) = png_colours(&shot);
        assert_eq!(w, width);
        assert!(colours > 200, "{width} px: only {colours} colours: blank?");
    }

    // on a phone's first screen: the verdict, in the colour of its sign (the
    // demo's gain; with a 100 GB cache, a loss), the sources collapsed
    let loss = shots.path().join("loss");
    demo_report_with(&loss, &["--cache-size-gb", "100"]);
    for (page, tone, other) in [
        (page.clone(), VERDICT_GAIN, VERDICT_LOSS),
        (loss.join("index.html"), VERDICT_LOSS, VERDICT_GAIN),
    ] {
        let shot = shots.path().join("phone.png");
        headless(
            &chromium,
            &page,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=390,844".to_owned(),
            ],
        );
        let (n, m) = (pixels_of(&shot, tone), pixels_of(&shot, other));
        assert!(
            n > 390 * 60 && m == 0,
            "{}: {n} verdict pixels, {m} of the other sign",
            page.display()
        );
    }

    // the page's text holds the headline figures of totals.json
    let dom = headless(&chromium, &page, &["--dump-dom".to_owned()]);
    let totals: Value = serde_json::from_str(&read(&demo_report().join("totals.json"))).unwrap();
    let t = &totals["totals"];
    let cur = t["currency"].as_str().unwrap();
    let f = |k: &str| t[k].as_f64().unwrap();
    for figure in [
        format!("{:.2} {cur}", f("net")),
        format!("{:.2} {cur}", f("compute_saved")),
        format!("{:.2} {cur}", f("storage_cost")),
        format!("{:.1}", f("saved_seconds") / 60.0),
        format!("{:.0}%", f("hit_rate") * 100.0),
        format!(
            "{} builds in {} CodeBuild runs",
            f("builds"),
            f("codebuild_runs")
        ),
    ] {
        assert!(dom.contains(&figure), "{figure} not in the rendered page");
    }
    assert!(dom.contains("Cache savings against its cost, per ISO week"));
    assert!(
        dom.contains(r#"<details id="sources"><summary>"#),
        "the sources collapsed"
    );
}

#[test]
fn chromium_shows_an_injected_script_as_text() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = hostile_report(dir.path());
    let dom = headless(
        &chromium,
        &out.join("index.html"),
        &["--dump-dom".to_owned()],
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<script") && !dom.contains("<img"), "{dom}");
}

/// A build of `RUN big`: executed in `secs`, or (`None`) cached after fetching
/// a 1.5 GB layer in `fetch` seconds (new printer lines, synthesised from
/// `grammars/buildkit-plain.ebnf` rule `fetch-status`).
fn big_step(executed: Option<f64>, fetch: f64) -> String {
    let layer = format!("sha256:{}", "e".repeat(64));
    let head = "#1 importing cache manifest from r/app:cache\n#1 DONE 0.2s\n\n\
                #2 [1/2] FROM docker.io/library/alpine:3.20\n#2 DONE 0.0s\n\n\
                #3 [2/2] RUN make big\n";
    match executed {
        Some(secs) => format!("{head}#3 DONE {secs:.1}s\n"),
        None => format!(
            "{head}#3 {layer} 512.00MB / 1.50GB {:.1}s\n#3 {layer} 1.50GB / 1.50GB {:.1}s done\n\
             #3 extracting {layer} 1.0s done\n#3 CACHED\n",
            fetch / 3.0,
            fetch - 1.0
        ),
    }
}

#[test]
fn a_step_whose_fetch_outlasts_its_run_is_flagged_with_both_medians() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // executed in 2, 3 and 4 s (median 3); cached after fetches of 5, 6 and 7 s (median 6)
    for (i, (executed, fetch)) in [
        (Some(2.0), 0.0),
        (Some(3.0), 0.0),
        (Some(4.0), 0.0),
        (None, 5.0),
        (None, 6.0),
        (None, 7.0),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(logs.join(format!("b{i}.log")), big_step(executed, fetch)).unwrap();
    }
    let pricing = dir.path().join("nat.toml");
    std::fs::write(&pricing, "[ecr]\nnat_gateway_per_gb = 0.045\n").unwrap();
    let out = dir.path().join("report");
    let o = Command::new(BIN)
        .arg("report")
        .arg(&logs)
        .arg("--pricing")
        .arg(&pricing)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = read(&out.join("report.md"));
    let row = "| - | RUN make big | 6.0 s (median of 3) | 3.0 s (median of 3) | keep that layer out of the registry cache";
    assert!(md.contains(row), "{md}");
    let html = read(&out.join("index.html"));
    assert!(html.contains("<td>6.0 s (median of 3)</td><td>3.0 s (median of 3)</td>"));
    let keys = csv_rows(&out.join("tables/step_keys.csv"));
    let big = keys
        .iter()
        .find(|k| k["step_key"] == "RUN make big")
        .unwrap();
    assert_eq!(big["cache_loses"], "true");
    assert_eq!(num(big, "net_saved_seconds"), -3.0);
    // 3 layers of 1.5 GB through a NAT gateway at 0.045 per GB
    let t = &serde_json::from_str::<Value>(&read(&out.join("totals.json"))).unwrap()["totals"];
    assert_eq!(t["fetch_layers"], 3);
    assert!((t["fetch_gb"].as_f64().unwrap() - 4.5).abs() < 1e-9);
    assert!((t["transfer_cost"].as_f64().unwrap() - 4.5 * 0.045).abs() < 1e-9);
    assert!((t["fetch_seconds"].as_f64().unwrap() - 18.0).abs() < 1e-9);
    assert_eq!(t["hits_by_origin"]["remote"]["hits"], 3);
    assert!(md.contains("| - | – | remote | 3 | 3 | "), "{md}");
    // each cached step saves its median minus its own fetch
    let steps = csv_rows(&out.join("tables/steps.csv"));
    let mut net: Vec<f64> = steps
        .iter()
        .filter(|s| s["cached"] == "true")
        .map(|s| num(s, "net_saved_seconds"))
        .collect();
    net.sort_by(f64::total_cmp);
    assert_eq!(net, [-4.0, -3.0, -2.0]);
}
