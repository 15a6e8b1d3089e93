//! Safe by default (issue 11): writes that cannot destroy, one bad input that
//! hides nothing, text that cannot spoof a terminal or a spreadsheet, bounded
//! time on AWS, and an IAM policy that lists exactly what the code calls.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn real(name: &str) -> PathBuf {
    root().join("sample-logs/real").join(name)
}

fn cachelens(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cachelens")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

/// A copy of the demo archive in `dir`.
fn demo_copy(dir: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for e in fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let t = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &t);
            } else {
                fs::copy(&p, &t).unwrap();
            }
        }
    }
    let to = dir.join("demo");
    copy(&root().join("sample-logs/demo"), &to);
    to
}

/// `report` of one real log into `out`, run from `dir`.
fn report(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let log = real("nodeapp-warm.log");
    let mut args = vec!["report", log.to_str().unwrap(), "--out", out];
    args.extend_from_slice(extra);
    cachelens(dir, &args)
}

fn age(path: &Path, by: Duration) {
    let f = fs::File::open(path).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

#[test]
fn report_out_never_deletes_a_folder_it_did_not_write() {
    let t = tempfile::tempdir().unwrap();
    let keep = t.path().join("keep-me");
    fs::create_dir(&keep).unwrap();
    fs::write(keep.join("precious.txt"), "keep").unwrap();
    let o = report(t.path(), "keep-me", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(
        "keep-me is not empty and cachelens did not write it (no .cachelens-report file in it)"
    ));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(keep.join("precious.txt")).unwrap(),
        "keep"
    );
    assert_eq!(names(t.path()), ["keep-me"], "nothing left beside it");

    // --force replaces it, and the result is a report cachelens may replace again
    let o = report(t.path(), "keep-me", &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!keep.join("precious.txt").exists());
    assert!(keep.join(".cachelens-report").is_file());
    assert!(keep.join("index.html").is_file());
    let o = report(t.path(), "keep-me", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(names(t.path()), ["keep-me"]);

    // an empty folder and a new one are written
    fs::create_dir(t.path().join("empty")).unwrap();
    for out in ["empty", "new/deeper"] {
        let o = report(t.path(), out, &[]);
        assert!(o.status.success(), "{out}: {}", stderr(&o));
        assert!(t.path().join(out).join(".cachelens-report").is_file());
    }
}

#[test]
fn report_out_is_never_an_input() {
    let t = tempfile::tempdir().unwrap();
    let demo = demo_copy(t.path());
    let before = names(&demo);
    let with_archive = |out: &str| {
        cachelens(
            t.path(),
            &[
                "report",
                "--archive",
                "demo",
                "--cache-size-gb",
                "1",
                "--out",
                out,
            ],
        )
    };
    for (out, relation) in [
        ("demo", "is the input"),
        ("demo/sub", "is inside the input"),
        (".", "holds the input"),
    ] {
        let o = with_archive(out);
        assert_eq!(o.status.code(), Some(1), "{out}: {}", stderr(&o));
        assert!(stderr(&o).contains(relation), "{out}: {}", stderr(&o));
        assert_eq!(names(&demo), before, "the archive is untouched");
    }
    // a log given as input, and a folder holding it
    let logs = t.path().join("logs");
    fs::create_dir(&logs).unwrap();
    fs::copy(real("nodeapp-warm.log"), logs.join("b.log")).unwrap();
    for out in ["logs/b.log", "logs"] {
        let o = cachelens(t.path(), &["report", "logs/b.log", "--out", out, "--force"]);
        assert_eq!(o.status.code(), Some(1), "{out}: {}", stderr(&o));
        assert!(stderr(&o).contains("cachelens never writes over what it reads"));
    }
    assert_eq!(names(&logs), ["b.log"]);
    assert_eq!(
        fs::read(logs.join("b.log")).unwrap(),
        fs::read(real("nodeapp-warm.log")).unwrap()
    );
    assert_eq!(names(t.path()), ["demo", "logs"], "nothing left behind");
}

#[test]
fn report_out_file_and_current_directory_fail_cleanly() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("notes.txt"), "mine").unwrap();
    let o = report(t.path(), "notes.txt", &["--force"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.txt exists and is not a folder"));
    assert_eq!(
        fs::read_to_string(t.path().join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(names(t.path()), ["notes.txt"], "not moved aside");

    let work = t.path().join("work");
    fs::create_dir(&work).unwrap();
    for out in [".", "..", "./"] {
        let o = report(&work, out, &[]);
        assert_eq!(o.status.code(), Some(1), "{out}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("current directory"),
            "{out}: {}",
            stderr(&o)
        );
        assert!(names(&work).is_empty(), "{out}: {:?}", names(&work));
        assert_eq!(names(t.path()), ["notes.txt", "work"], "{out}");
    }
}

#[test]
fn stale_temporary_folders_of_killed_reports_are_removed_fresh_ones_kept() {
    let t = tempfile::tempdir().unwrap();
    // pids above Linux's limit, from another pid namespace: only age tells
    let stale = t.path().join(".cachelens-report-4194999-00000000-dead");
    let old = t.path().join(".cachelens-old-4194999-00000000-dead");
    let fresh = t.path().join(".cachelens-report-4194998-00000000-busy");
    let other = t.path().join(".cachelens-mine");
    // what an earlier cachelens left (the issue's `--out .` run), and another program's
    let legacy = t.path().join(".cachelens-report-aB3xY9");
    let theirs = t.path().join(".tmpAb12Cd");
    for d in [&stale, &old, &fresh, &other, &legacy, &theirs] {
        fs::create_dir(d).unwrap();
        fs::write(d.join("x"), "x").unwrap();
    }
    for d in [&stale, &old, &other, &legacy, &theirs] {
        age(d, Duration::from_secs(3600));
    }
    let o = report(t.path(), "out", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        names(t.path()),
        [
            ".cachelens-mine",
            ".cachelens-report-4194998-00000000-busy",
            ".tmpAb12Cd",
            "out"
        ]
    );
}

#[test]
fn until_before_since_is_a_usage_error() {
    let t = tempfile::tempdir().unwrap();
    let o = cachelens(
        t.path(),
        &[
            "fetch",
            "--log-group",
            "g",
            "--since",
            "1d",
            "--until",
            "7d",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--until"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn one_unreadable_input_hides_nothing() {
    let t = tempfile::tempdir().unwrap();
    let good = real("nodeapp-warm.log");
    let good = good.to_str().unwrap();
    let alone = cachelens(t.path(), &["summary", good]);
    assert!(alone.status.success());
    let empty = t.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let o = cachelens(
        t.path(),
        &[
            "summary",
            "/nonexistent",
            good,
            "empty",
            "/nonexistent/b.log",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        stdout(&alone),
        "the good log's summary is printed"
    );
    let err = stderr(&o);
    assert!(
        err.contains("skipped: cannot read /nonexistent: No such file or directory (os error 2)\n"),
        "{err}"
    );
    assert!(err.contains("skipped: empty: no *.log"), "{err}");
    assert!(err.contains("3 inputs could not be read"), "{err}");
    assert_eq!(
        err.matches("os error 2").count(),
        2,
        "said once per path: {err}"
    );

    let o = cachelens(t.path(), &["steps", "/nonexistent", good]);
    assert_eq!(o.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["builds"].as_array().unwrap().len(), 1);
    // nothing readable at all: still 1, with the reason
    let o = cachelens(t.path(), &["steps", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot read /nonexistent"));
}

#[test]
fn errors_say_the_os_error_once() {
    let t = tempfile::tempdir().unwrap();
    let good = real("nodeapp-warm.log");
    for args in [
        &[
            "diagnose",
            "--baseline",
            "/nonexistent",
            good.to_str().unwrap(),
        ][..],
        &[
            "summary",
            "--pricing",
            "/nonexistent.toml",
            "--history",
            good.to_str().unwrap(),
            good.to_str().unwrap(),
        ][..],
    ] {
        let o = cachelens(t.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o).matches("os error 2").count(),
            1,
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// A build whose step names, error and file name carry terminal controls,
/// bidi overrides and spreadsheet formulas.
const SPOOF: &str = "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n#2 =HYPERLINK(\"http://x\")\n#2 DONE 0.1s\n\n#3 [1/2] RUN echo a\u{8}\u{8}b\u{7f}\u{9b}31m\u{9d}0;t\u{7}\u{202e}gnp.exe\n#3 DONE 1.0s\n\n#4 [2/2] RUN echo c\n#4 ERROR: -2+3 @x \u{202e}evil\n";

/// Characters that must never reach a terminal raw.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect()
}

#[test]
fn log_text_and_file_names_cannot_drive_the_terminal() {
    let t = tempfile::tempdir().unwrap();
    let name = "evil\u{1b}[2J\u{202e}gol.log";
    fs::write(t.path().join(name), SPOOF).unwrap();
    fs::write(t.path().join("none\u{9b}.log"), "no build here\n").unwrap();
    let first = |args: &[&str]| {
        let mut all = args.to_vec();
        all.push(name);
        all.push("none\u{9b}.log");
        all.push("missing\u{8}.log");
        cachelens(t.path(), &all)
    };
    for args in [
        &["summary", "--color", "never"][..],
        &["summary", "--format", "markdown"][..],
        &["diagnose", "--color", "never"][..],
        &["diagnose", "--format", "markdown"][..],
        &["summary", "--format", "json"][..],
        &["steps"][..],
        &["steps", "--format", "ndjson"][..],
        &["diagnose", "--format", "json"][..],
    ] {
        let o = first(args);
        let (out, err) = (stdout(&o), stderr(&o));
        assert!(!out.is_empty(), "{args:?}: {err}");
        assert_eq!(
            raw_controls(&out),
            Vec::<char>::new(),
            "{args:?} stdout: {out}"
        );
        assert_eq!(
            raw_controls(&err),
            Vec::<char>::new(),
            "{args:?} stderr: {err}"
        );
        assert!(err.contains("missing\\u{8}.log"), "{args:?}: {err}");
        assert!(
            err.contains("none\\u{9b}.log: no BuildKit build found"),
            "{args:?}: {err}"
        );
    }
    let o = first(&["summary", "--color", "never"]);
    let out = stdout(&o);
    assert!(
        out.contains("evil\\u{1b}[2J\\u{202e}gol.log · build 1"),
        "{out}"
    );
    assert!(
        out.contains("\\u{9b}31m\\u{9d}0;t\\u{7}\\u{202e}gnp.exe"),
        "{out}"
    );
    // with colours, the only escapes are cachelens' own SGR sequences
    let o = first(&["summary", "--color", "always"]);
    let out = stdout(&o);
    let without_sgr: String = out
        .split('\u{1b}')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part
            } else {
                assert!(part.starts_with('['), "{part:?}");
                part.split_once('m').expect("an SGR sequence").1
            }
        })
        .collect();
    assert_eq!(raw_controls(&without_sgr), Vec::<char>::new(), "{out}");
}

#[test]
fn csv_cells_cannot_be_formulas_and_numbers_keep_their_sign() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("=cmd.log"), SPOOF).unwrap();
    let o = cachelens(t.path(), &["steps", "--format", "csv", "=cmd.log"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut rows = csv::Reader::from_reader(&o.stdout[..]);
    let header = rows.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(&r[col("source")], "'=cmd.log");
    }
    assert_eq!(&rows[1][col("name")], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&rows[3][col("error")], "'-2+3 @x \u{202e}evil");
    assert_eq!(&rows[2][col("seconds")], "1");

    // the report's CSV tables too (tables::tests: only text columns)
    let o = cachelens(t.path(), &["report", "=cmd.log", "--out", "r"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let totals = fs::read_to_string(t.path().join("r/totals.json")).unwrap();
    assert!(
        totals.contains("\"=cmd.log\""),
        "JSON keeps the value: {totals}"
    );
}

/// `(service prefix, Operation)` of every AWS call in `src/`: each `.send()`
/// ends a chain `client.<operation>()…` in a file that uses one SDK's `Client`.
fn operations_in_src() -> std::collections::BTreeSet<String> {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    files(&root().join("src"), &mut paths);
    let mut ops = std::collections::BTreeSet::new();
    for path in paths {
        let text = fs::read_to_string(&path).unwrap();
        let sends = text.matches(".send()").count();
        let mut found = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("client") {
            rest = &rest[at + "client".len()..];
            let after = rest.trim_start();
            let Some(call) = after.strip_prefix('.') else {
                continue;
            };
            let name: String = call
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if call[name.len()..].starts_with("()") && name != "clone" {
                found.push(name);
            }
        }
        assert_eq!(
            found.len(),
            sends,
            "{}: every .send() must follow client.<operation>() ({found:?})",
            path.display()
        );
        if found.is_empty() {
            continue;
        }
        let services: std::collections::BTreeSet<&str> =
            ["cloudwatchlogs", "codebuild", "ecr", "s3"]
                .into_iter()
                .filter(|s| text.contains(&format!("aws_sdk_{s}::Client")))
                .collect();
        assert_eq!(
            services.len(),
            1,
            "{}: one SDK client per file",
            path.display()
        );
        let prefix = match services.into_iter().next().unwrap() {
            "cloudwatchlogs" => "logs",
            s => s,
        };
        for name in found {
            let pascal: String = name
                .split('_')
                .map(|w| w[..1].to_uppercase() + &w[1..])
                .collect();
            // the one operation whose IAM action has another name
            let action = match (prefix, pascal.as_str()) {
                ("s3", "ListObjectsV2") => "ListBucket".to_owned(),
                _ => pascal,
            };
            ops.insert(format!("{prefix}:{action}"));
        }
    }
    ops
}

/// The actions of the IAM policy in the README.
fn actions_in_readme() -> std::collections::BTreeSet<String> {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let after = &readme[readme
        .find("The IAM policy it needs")
        .expect("the policy section")..];
    let block = &after[after.find("```json\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let policy: serde_json::Value = serde_json::from_str(block).expect("the policy is JSON");
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap())
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_readme_iam_policy_lists_exactly_the_calls_the_code_makes() {
    let code = operations_in_src();
    assert!(
        code.contains("logs:GetLogEvents") && code.contains("ecr:BatchGetImage"),
        "{code:?}"
    );
    let policy = actions_in_readme();
    let missing: Vec<_> = code.difference(&policy).collect();
    let unused: Vec<_> = policy.difference(&code).collect();
    assert!(
        missing.is_empty() && unused.is_empty(),
        "the README's IAM policy lacks {missing:?} and grants {unused:?}, which nothing calls"
    );
}

/// A loopback server that reads each HTTP request and answers `response`
/// (or, when `None`, never answers); its endpoint and the requests it saw.
fn local_server(
    response: Option<&'static str>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut writer = conn.try_clone().unwrap();
                let mut reader = BufReader::new(conn);
                loop {
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if let Some((k, v)) = line.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    counter.fetch_add(1, Ordering::Relaxed);
                    match response {
                        Some(r) => {
                            if writer.write_all(r.as_bytes()).is_err() {
                                return;
                            }
                        }
                        // hold the connection open, say nothing
                        None => std::thread::sleep(Duration::from_secs(600)),
                    }
                }
            });
        }
    });
    (url, seen)
}

/// `cachelens fetch` of a log group against `endpoint`, and how long it took.
fn fetch_from(endpoint: &str, extra: &[&str]) -> (Output, Duration) {
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("archive");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "fetch",
        "--log-group",
        "/aws/codebuild/app",
        "--no-codebuild-api",
    ])
    .arg("--archive")
    .arg(&archive)
    .args(extra);
    support::aws_env(&mut cmd, endpoint);
    let started = std::time::Instant::now();
    let o = cmd.output().unwrap();
    (o, started.elapsed())
}

/// No `Debug` dump of an SDK error reaches the user.
fn no_debug_dump(err: &str) {
    for dump in [
        "DispatchFailure(",
        "ConnectorError {",
        "Os {",
        "Some(",
        "source: ",
    ] {
        assert!(!err.contains(dump), "a Debug dump ({dump}): {err}");
    }
}

#[test]
fn an_endpoint_that_never_answers_ends_within_the_bound() {
    let (url, seen) = local_server(None);
    let (o, took) = fetch_from(
        &url,
        &[
            "--max-attempts",
            "2",
            "--read-timeout",
            "1s",
            "--connect-timeout",
            "1s",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // 2 attempts of at most 1 s + 2 × 1 s, and one backoff
    assert!(took < Duration::from_secs(15), "took {took:?}: {err}");
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 2, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "one retry note, one error: {err}");
    assert!(
        lines[0].starts_with("cachelens: DescribeLogStreams: ")
            && lines[0].ends_with("retrying (attempt 2 of 2, --max-attempts)"),
        "{err}"
    );
    assert!(lines[1].contains("timed out"), "{err}");
    assert!(lines[1].contains("--read-timeout"), "{err}");
    no_debug_dump(&err);
}

#[test]
fn s3_calls_end_within_the_bound_too() {
    let (url, _) = local_server(None);
    let bound = [
        "--max-attempts",
        "2",
        "--read-timeout",
        "1s",
        "--connect-timeout",
        "1s",
    ];
    let t = tempfile::tempdir().unwrap();
    let log = real("nodeapp-warm.log");
    let runs: [Vec<&str>; 2] = [
        vec![
            "fetch",
            "--s3-logs",
            "s3://ci-logs/app/",
            "--no-codebuild-api",
        ],
        vec![
            "report",
            log.to_str().unwrap(),
            "--out",
            "s3://reports/team/",
        ],
    ];
    for args in runs {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(t.path()).args(&args).args(bound);
        support::aws_env(&mut cmd, &url);
        let started = std::time::Instant::now();
        let o = cmd.output().unwrap();
        let took = started.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            took < Duration::from_secs(15),
            "{args:?} took {took:?}: {err}"
        );
        let last = err.lines().last().unwrap();
        assert!(
            last.contains("S3 ") && last.contains("timed out"),
            "{args:?}: {err}"
        );
        no_debug_dump(&err);
    }
}

#[test]
fn nothing_listening_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (o, took) = fetch_from(
        &format!("http://127.0.0.1:{port}"),
        &["--max-attempts", "3"],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}: {err}");
    assert_eq!(err.matches("retrying (attempt").count(), 2, "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(
            "cachelens: DescribeLogStreams on /aws/codebuild/app: cannot reach the AWS endpoint"
        ) && last.contains("Connection refused")
            && last.contains("--endpoint-url"),
        "{err}"
    );
    no_debug_dump(&err);

    // no credentials at all: said before any connection is tried
    let mut cmd = Command::new(BIN);
    cmd.args(["fetch", "--log-group", "g", "--archive", "/nonexistent/a"]);
    support::aws_env(&mut cmd, &format!("http://127.0.0.1:{port}"));
    let o = cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no AWS credentials") && err.contains("AWS_PROFILE"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    no_debug_dump(&err);
}

const DENIED: &str = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: denied-1\r\nContent-Length: 130\r\n\r\n{\"__type\":\"AccessDeniedException\",\"message\":\"User: arn:aws:iam::123456789012:user/ci is not authorized to perform this operation\"}";

#[test]
fn access_denied_names_the_policy() {
    assert_eq!(DENIED.split("\r\n\r\n").nth(1).unwrap().len(), 130);
    let (url, seen) = local_server(Some(DENIED));
    let (o, _) = fetch_from(&url, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "not retried: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("access denied (AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized")
            && err.contains("IAM policy"),
        "{err}"
    );
    no_debug_dump(&err);

    // ECR, for report --cache-repo
    let t = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.current_dir(t.path())
        .arg("report")
        .arg(real("nodeapp-warm.log"))
        .args(["--cache-repo", "cache", "--out", "r"]);
    support::aws_env(&mut cmd, &url);
    let o = cmd.output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ECR DescribeImages on cache: access denied"),
        "{err}"
    );
    assert!(!t.path().join("r").exists());
    no_debug_dump(&err);
}
