//! The command line as a user runs it: several builds per log, stdin, the
//! summary's facts and gate, broken input, colours, every output format.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn real(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs/real")
        .join(name)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cachelens");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().expect("cachelens output")
}

fn run_file(args: &[&str], file: &Path) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.push(file.to_str().unwrap());
    run(&all, None)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn builds_of(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    v["builds"].as_array().unwrap().clone()
}

fn temp_log(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn back_to_back_builds_are_separate_builds() {
    let parts = [
        "nodeapp-cold.log",
        "failing-run-test.log",
        "nodeapp-warm.log",
    ];
    let singles: Vec<Value> = parts
        .iter()
        .map(|p| builds_of(&run_file(&["steps"], &real(p))).remove(0))
        .collect();
    for n in [2, 3] {
        let joined: Vec<u8> = parts[..n].iter().flat_map(|p| read(&real(p))).collect();
        let f = temp_log(&joined);
        let builds = builds_of(&run_file(&["steps"], f.path()));
        assert_eq!(builds.len(), n, "{n} logs back to back");
        for (i, b) in builds.iter().enumerate() {
            assert_eq!(b["index"], i);
            assert_eq!(
                without_lines(&b["steps"]),
                without_lines(&singles[i]["steps"]),
                "build {i}"
            );
            assert_eq!(b["hit_rate"], singles[i]["hit_rate"]);
            assert_eq!(b["unparsed_lines"], 0);
        }
    }
}

/// Step records without their line numbers (a build found after others starts later).
fn without_lines(steps: &Value) -> Value {
    let mut steps = steps.clone();
    for s in steps.as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("line");
    }
    steps
}

#[test]
fn buildx_output_with_two_invocations() {
    let out = run_file(&["steps"], &fixture("buildx-registry-cache.log"));
    assert!(out.status.success(), "{}", stderr(&out));
    let builds = builds_of(&out);
    assert_eq!(builds.len(), 2);

    let b = &builds[0];
    let steps = b["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 14, "#1..#14, #0 is no step");
    assert_eq!(b["hit_rate"], 0.8);
    assert_eq!(b["unparsed_lines"], 0);
    assert_eq!(b["cache"]["imports"][0]["ok"], true);
    assert_eq!(b["cache"]["imports"][0]["seconds"], 0.4);
    assert_eq!(
        b["cache"]["exports"][0]["name"],
        "exporting cache to registry"
    );
    assert_eq!(b["cache"]["exports"][0]["seconds"], 1.3);
    let npm = steps.iter().find(|s| s["vertex"] == 10).unwrap();
    assert_eq!(npm["platform"], "linux/amd64");
    assert_eq!(npm["stage"], "deps");
    assert_eq!(npm["position"], serde_json::json!([4, 4]));
    assert_eq!(npm["status"], "cached");
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "auth").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "from").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "export").count(), 1);
    assert_eq!(
        b["warnings"],
        serde_json::json!(["FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"]),
        "the WARN line, listed again by the client, kept once"
    );
    assert_eq!(b["error"], Value::Null);

    let b = &builds[1];
    assert_eq!(b["index"], 1);
    assert_eq!(b["hit_rate"], 0.0);
    assert_eq!(
        b["unparsed_lines"], 0,
        "recap with output lines and the Dockerfile excerpt"
    );
    let import = &b["cache"]["imports"][0];
    assert_eq!(import["ok"], false);
    assert!(
        import["error"]
            .as_str()
            .unwrap()
            .ends_with("tool:cache: not found")
    );
    assert_eq!(
        b["error"],
        "failed to solve: process \"/bin/sh -c ./run-tests.sh\" did not complete successfully: exit code: 1"
    );
}

#[test]
fn summary_names_the_first_miss() {
    let out = run_file(&["summary"], &real("nodeapp-partial-src-change.log"));
    assert!(out.status.success());
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("first miss"))
        .expect("first miss line");
    assert!(line.contains("[5/6] COPY . ."), "{line}");
    assert!(
        text.contains("60% (3 of 5 cacheable steps cached)"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour into a pipe");
}

#[test]
fn summary_shows_a_failed_import_and_its_error() {
    let out = run_file(&["summary"], &real("remote-cache-from-missing-tag.log"));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("cache import"))
        .unwrap();
    assert!(
        line.contains(
            "127.0.0.1:5000/app:does-not-exist FAILED: 127.0.0.1:5000/app:does-not-exist: not found"
        ),
        "{line}"
    );
    assert!(text.contains("(succeeded)"), "a failed import is not fatal");
}

#[test]
fn summary_of_a_warm_build_is_100_percent() {
    let out = run_file(&["summary"], &real("nodeapp-warm.log"));
    assert!(stdout(&out).contains("100% (5 of 5 cacheable steps cached)"));
    let json = run_file(&["summary", "--format", "json"], &real("nodeapp-warm.log"));
    let b = &builds_of(&json)[0];
    assert_eq!(b["hit_rate"], 1.0);
    assert_eq!(b["cached"], 5);
    assert_eq!(b["first_miss"], Value::Null);
    assert_eq!(b["outcome"], "succeeded");
}

#[test]
fn min_hit_rate_gates_with_exit_code_4() {
    let log = real("nodeapp-partial-src-change.log"); // 60 %
    let low = run_file(&["summary", "--min-hit-rate", "80"], &log);
    assert_eq!(low.status.code(), Some(4));
    assert!(
        stderr(&low).contains("hit rate 60% is below --min-hit-rate 80%"),
        "{}",
        stderr(&low)
    );
    assert!(
        stdout(&low).contains("first miss"),
        "the summary is still printed"
    );
    let ok = run_file(&["summary", "--min-hit-rate", "60%"], &log);
    assert_eq!(ok.status.code(), Some(0));
    // no cacheable step: nothing to gate on
    let none = run_file(
        &["summary", "--min-hit-rate", "100"],
        &real("failing-dockerfile-parse-error.log"),
    );
    assert_eq!(none.status.code(), Some(0));
    let bad = run_file(&["summary", "--min-hit-rate", "180"], &log);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn reads_standard_input() {
    let log = read(&real("nodeapp-partial-src-change.log"));
    for args in [&["summary", "-"][..], &["summary"][..]] {
        let out = run(args, Some(&log));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).starts_with("stdin · build 1"),
            "{}",
            stdout(&out)
        );
    }
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&log).unwrap();
        e.finish().unwrap()
    };
    let out = run(&["steps", "-"], Some(&gz));
    assert_eq!(builds_of(&out)[0]["hit_rate"], 0.6, "gzip on stdin");
}

#[test]
fn broken_input_never_panics() {
    // binary junk
    let junk: Vec<u8> = (0..64 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let f = temp_log(&junk);
    let out = run_file(&["summary"], f.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no BuildKit build found"),
        "{}",
        stderr(&out)
    );

    // empty file
    let f = temp_log(b"");
    let out = run_file(&["steps"], f.path());
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(builds_of(&out).len(), 0);

    // the client's own error, no build
    let out = run_file(
        &["summary"],
        &real("non-buildkit/unsupported-docker28-client-buildkit-no-buildx.log"),
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("buildx component is missing"),
        "{}",
        stderr(&out)
    );

    // truncated in the middle of a line, inside a running vertex
    let log = read(&real("multistage-cold.log"));
    let cut = log
        .windows(17)
        .position(|w| w == b"compiling backend")
        .unwrap()
        + 5;
    let f = temp_log(&log[..cut]);
    let out = run_file(&["steps"], f.path());
    assert!(out.status.success());
    let b = &builds_of(&out)[0];
    let backend = b["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vertex"] == 10)
        .unwrap();
    assert_eq!(backend["status"], "incomplete");

    // invalid UTF-8 in a step name, and a missing file
    let f = temp_log(b"#1 [1/2] RUN echo \xff\xfe\n#1 DONE 1.0s\n");
    let b = &builds_of(&run_file(&["steps"], f.path()))[0];
    assert_eq!(b["steps"][0]["name"], "[1/2] RUN echo \u{fffd}\u{fffd}");
    let out = run(&["summary", "/nonexistent/build.log"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read /nonexistent/build.log"));
}

#[test]
fn unparsed_lines_are_counted_and_located() {
    let mut log = read(&real("nodeapp-warm.log"));
    let at = log.windows(3).position(|w| w == b"\n\n#").unwrap() + 1;
    log.splice(at..at, b"this is not buildkit\n".iter().copied());
    let f = temp_log(&log);
    let out = run_file(&["steps"], f.path());
    let b = &builds_of(&out)[0];
    assert_eq!(b["unparsed_lines"], 1);
    let line = log[..at].iter().filter(|c| **c == b'\n').count() + 1;
    assert_eq!(b["first_unparsed_line"], line);
    assert!(stderr(&out).contains(&format!("1 unparsed lines (first at line {line})")));
    assert_eq!(b["hit_rate"], 1.0);
}

#[test]
fn ansi_colour_and_crlf_give_the_same_records() {
    let log = read(&real("multistage-partial-backend-change.log"));
    let plain = builds_of(&run_file(
        &["steps"],
        &real("multistage-partial-backend-change.log"),
    ));
    let crlf: Vec<u8> = log
        .iter()
        .flat_map(|&c| {
            if c == b'\n' {
                vec![b'\r', b'\n']
            } else {
                vec![c]
            }
        })
        .collect();
    let coloured: Vec<u8> = String::from_utf8(log.clone())
        .unwrap()
        .lines()
        .map(|l| format!("\x1b[34m{l}\x1b[0m\n"))
        .collect::<String>()
        .into_bytes();
    for (what, bytes) in [("crlf", crlf), ("ansi", coloured)] {
        let f = temp_log(&bytes);
        let mut got = builds_of(&run_file(&["steps"], f.path()));
        got[0]["source"] = plain[0]["source"].clone();
        assert_eq!(got, plain, "{what}");
    }
}

#[test]
fn colour_only_when_asked() {
    let log = real("failing-run-test.log");
    let always = stdout(&run_file(&["summary", "--color", "always"], &log));
    assert!(always.contains("\x1b["));
    let never = stdout(&run_file(&["summary", "--color", "never"], &log));
    assert!(!never.contains('\x1b'));
    assert_eq!(
        never,
        stdout(&run_file(&["summary"], &log)),
        "auto into a pipe is never"
    );
}

#[test]
fn markdown_summary_escapes_log_text() {
    let f = temp_log(b"#1 [1/1] RUN echo '<script>alert(1)</script>' | tee x\n#1 DONE 2.0s\n");
    let md = stdout(&run_file(&["summary", "--format", "markdown"], f.path()));
    assert!(
        md.contains("`[1/1] RUN echo '<script>alert(1)</script>' \\| tee x`"),
        "{md}"
    );
    assert!(md.contains("| 1 | `[1/1] RUN"), "{md}");
    assert!(md.starts_with("### cachelens: "), "{md}");
    let first_miss = md.lines().find(|l| l.contains("First miss")).unwrap();
    assert!(first_miss.contains("executed"), "{first_miss}");
}

#[test]
fn ndjson_and_csv_have_one_row_per_step() {
    let log = fixture("buildx-registry-cache.log");
    let json = builds_of(&run_file(&["steps"], &log));
    let total: usize = json
        .iter()
        .map(|b| b["steps"].as_array().unwrap().len())
        .sum();

    let nd = stdout(&run_file(&["steps", "--format", "ndjson"], &log));
    let rows: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), total);
    assert_eq!(rows.last().unwrap()["build"], 1);
    assert_eq!(rows[0]["source"], log.display().to_string());
    assert_eq!(rows[0]["vertex"], 1);

    let csv_out = run_file(&["steps", "--format", "csv"], &log);
    let mut r = csv::Reader::from_reader(&csv_out.stdout[..]);
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), total);
    let npm = records
        .iter()
        .find(|r| &r[col("build")] == "0" && &r[col("vertex")] == "10")
        .unwrap();
    assert_eq!(&npm[col("position")], "4/4");
    assert_eq!(&npm[col("status")], "cached");
    assert_eq!(&npm[col("cacheable")], "true");
    // its layer: 40.12 MB downloaded in 1.0 s, extracted in 0.5 s
    assert_eq!(
        (
            &npm[col("fetch_layers")],
            &npm[col("fetch_bytes")],
            &npm[col("fetch_seconds")]
        ),
        ("1", "40120000", "1.5")
    );
    let nd_npm = rows
        .iter()
        .find(|r| r["build"] == 0 && r["vertex"] == 10)
        .unwrap();
    assert_eq!(
        nd_npm["fetch"],
        serde_json::json!({"layers": 1, "bytes": 40_120_000, "seconds": 1.5})
    );
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    // `script` (util-linux) gives the command a pseudo-terminal as stdout
    let log = real("nodeapp-warm.log");
    let cmd = format!("{BIN} summary {}", log.display());
    let on_tty = |no_color: Option<&str>| {
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]).env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c
            .stdin(Stdio::null())
            .output()
            .expect("script (util-linux)");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(on_tty(None).contains("\x1b["), "colours on a terminal");
    assert!(
        !on_tty(Some("1")).contains('\x1b'),
        "NO_COLOR=1 turns them off"
    );
}

#[test]
fn format_in_reads_one_format_or_tells_them_apart() {
    let raw = fixture("rawjson-pairs/nodeapp-src-change.rawjson.log");
    for args in [
        &["steps"][..],
        &["steps", "--format-in", "auto"],
        &["steps", "--format-in", "rawjson"],
    ] {
        let out = run_file(args, &raw);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let b = &builds_of(&out)[0];
        assert_eq!(
            (b["format"].as_str(), b["hit_rate"].as_f64()),
            (Some("rawjson"), Some(0.6))
        );
    }
    let out = run_file(&["summary", "--format-in", "plain"], &raw);
    assert_eq!(
        out.status.code(),
        Some(3),
        "rawjson read as plain holds no build"
    );
    let tty = run_file(
        &["summary", "--format", "json", "--format-in", "tty"],
        &fixture("tty/buildx-tty.log"),
    );
    assert!(tty.status.success(), "{}", stderr(&tty));
    let out = run(&["steps", "--format-in", "xml"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn summary_prices_the_time_saved_from_history() {
    let log = real("nodeapp-partial-src-change.log");
    let json = |history: &str| {
        let out = run(
            &[
                "summary",
                "--format",
                "json",
                "--compute-type",
                "general1.medium",
                "--history",
                real(history).to_str().unwrap(),
                log.to_str().unwrap(),
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        builds_of(&out)[0]["savings"].clone()
    };
    // cached here: WORKDIR, COPY package*.json, RUN npm ci; the cold build ran them in 0.0 s, 0.0 s and 3.2 s
    let saved = json("nodeapp-cold.log");
    assert_eq!(saved["seconds"], 3.2);
    assert_eq!(saved["unknown"], 0);
    assert!((saved["cost"].as_f64().unwrap() - 3.2 / 60.0 * 0.01).abs() < 1e-12);
    assert_eq!(saved["compute_type"], "general1.medium");
    // a warm history never ran them: unknown, not zero
    let saved = json("nodeapp-warm.log");
    assert_eq!(
        (saved["seconds"].as_f64(), saved["unknown"].as_u64()),
        (Some(0.0), Some(3))
    );
    // without history, no savings line
    let plain = builds_of(&run_file(&["summary", "--format", "json"], &log));
    assert_eq!(plain[0]["savings"], Value::Null);
}

#[test]
fn summary_history_takes_the_layer_fetch_from_the_hits_saving() {
    // the full remote hit pulls 5 layers under its last step, 0.2 s in all
    let log = real("remote-inline-cache-import.log");
    let out = run(
        &[
            "summary",
            "--format",
            "json",
            "--history",
            real("nodeapp-cold.log").to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let b = &builds_of(&out)[0];
    let saved = &b["savings"];
    let (gross, fetch, net) = (
        saved["seconds"].as_f64().unwrap(),
        saved["fetch_seconds"].as_f64().unwrap(),
        saved["net_seconds"].as_f64().unwrap(),
    );
    assert!((fetch - 0.2).abs() < 1e-9, "{fetch}");
    assert!((gross - fetch - net).abs() < 1e-9);
    assert_eq!(b["fetch"]["layers"], 5);
    let table = run(
        &[
            "summary",
            "--color",
            "never",
            "--history",
            real("nodeapp-cold.log").to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        None,
    );
    let text = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(text.contains("net of 0.2s layer fetch"), "{text}");
    assert!(
        text.contains(
            "cache fetch  5 layers in 0.2s under 1 step (sizes not printed); import manifest 0.0s"
        ),
        "{text}"
    );
}

#[test]
fn dockerignore_printed_before_the_dockerfile_is_still_one_build() {
    let log = fixture("multistage-cold-dockerignore-first.log");
    let one = builds_of(&run_file(&["steps"], &log));
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["steps"].as_array().unwrap().len(), 15);
    let twice = temp_log(&[read(&log), read(&log)].concat());
    let two = builds_of(&run_file(&["steps"], twice.path()));
    assert_eq!(two.len(), 2);
    assert_eq!(
        without_lines(&two[1]["steps"]),
        without_lines(&one[0]["steps"])
    );
}

/// What a child writes to stdout, line by line, as it comes.
fn lines_of(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn standard_input_streams_each_build_as_it_ends() {
    let log = std::fs::read(real("nodeapp-warm.log")).unwrap();
    for args in [
        &["steps", "--format", "ndjson", "-"][..],
        &["summary", "--color", "never", "-"][..],
    ] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let lines = lines_of(&mut child);
        // the first build, and the first line of the next one: the first has ended
        stdin.write_all(&log).unwrap();
        stdin
            .write_all(b"#0 building with \"default\" instance using docker driver\n")
            .unwrap();
        stdin.flush().unwrap();
        let first = lines
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{args:?}: nothing written while stdin is open: {e}"));
        let whole = run(args, Some(&log));
        let expected = String::from_utf8_lossy(&whole.stdout);
        assert_eq!(Some(first.as_str()), expected.lines().next(), "{args:?}");
        drop(stdin);
        assert!(child.wait().unwrap().success(), "{args:?}");
    }
}

#[test]
fn no_input_on_a_terminal_is_a_usage_error() {
    // `script` (util-linux) runs the command on a pseudo-terminal: its stdin is one
    for command in [
        "summary",
        "steps",
        "report --out /nonexistent/never-written",
    ] {
        let out = Command::new("script")
            .args(["-qec", &format!("{BIN} {command}"), "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("script (util-linux)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{command}: {text}");
        assert!(
            text.contains("no input: give LOG files"),
            "{command}: {text}"
        );
        assert!(
            text.contains("usage: cachelens <COMMAND>"),
            "{command}: {text}"
        );
    }
}

#[test]
fn archived_stream_files_given_as_paths_read_as_with_archive() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/demo");
    let group = demo.join("%2Faws%2Fcodebuild%2Fweb");
    let file = std::fs::read_dir(&group)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .unwrap();
    let by_path = run(&["steps", file.to_str().unwrap()], None);
    assert!(by_path.status.success(), "{}", stderr(&by_path));
    let b = &builds_of(&by_path)[0];
    let stream = file.file_stem().unwrap().to_str().unwrap();
    assert_eq!(b["source"], format!("/aws/codebuild/web/{stream}"));
    assert_eq!(b["build_id"], format!("web:{stream}"));
    // the archive's folder given as a path reads the same builds as --archive
    let folder = run(&["steps", demo.to_str().unwrap()], None);
    let archive = run(
        &["steps", "--archive", demo.to_str().unwrap(), "--offline"],
        None,
    );
    assert!(folder.status.success(), "{}", stderr(&folder));
    assert_eq!(builds_of(&folder).len(), 180);
    assert_eq!(builds_of(&folder), builds_of(&archive));
}

#[test]
fn lines_outside_builds_are_told_only_when_they_may_be_misread() {
    let build = "#1 [1/1] RUN a\n#1 DONE 1.0s\n";
    // other commands' output around a build: not news, but --verbose tells it
    let quiet = temp_log(format!("$ docker login\nLogin Succeeded\n{build}npm test\n").as_bytes());
    let out = run_file(&["steps"], quiet.path());
    assert!(out.status.success());
    assert_eq!(stderr(&out), "", "a few lines of other output are not news");
    // always in the records
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["outside"][0]["unparsed_outside"], 3);
    assert_eq!(doc["outside"][0]["unparsed_outside_shaped"], 0);
    let out = run_file(&["steps", "--verbose"], quiet.path());
    assert!(
        stderr(&out)
            .contains("3 of 5 lines stand outside any BuildKit build (0 shaped like BuildKit's)"),
        "{}",
        stderr(&out)
    );
    // a BuildKit-shaped line no rule read (a glued terminal line): a possible misread
    let glued = temp_log(format!("{build}#5 DONE 1.0s#1 [internal] load\n").as_bytes());
    let out = run_file(&["summary"], glued.path());
    assert!(
        stderr(&out).contains("1 line in 1 log shaped like BuildKit's but read into no build"),
        "{}",
        stderr(&out)
    );
    // most of a log that has builds outside them: many, whatever they are
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("test {i} of the suite passed\n"));
    }
    text.push_str(build);
    let crowded = temp_log(text.as_bytes());
    let out = run_file(&["steps"], crowded.path());
    assert!(
        stderr(&out).contains("30 of its 32 lines stand outside any BuildKit build"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_codebuild_run_comes_before_its_builds_unless_it_holds_too_many() {
    use cachelens::synth::{DockerBuild, RunSpec, codebuild_events, text};
    let log = std::fs::read(real("nodeapp-warm.log")).unwrap();
    for (builds, run_first) in [(2, true), (70, false)] {
        let spec = RunSpec {
            start_ms: 1_790_553_600_000,
            builds: vec![
                DockerBuild {
                    command: "docker build .",
                    output: &log,
                    fails: false,
                };
                builds
            ],
        };
        let o = run(
            &["summary", "--color", "never", "-"],
            Some(&text(&codebuild_events(&spec))),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        let run_at = out.find("CodeBuild run").expect("the run's section");
        let first_build = out.find("· build 1 ").expect("a build");
        assert_eq!(run_at < first_build, run_first, "{builds} builds:\n{out}");
        assert_eq!(out.matches("· build ").count(), builds);
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // what `cachelens --generate complete-fish | head -3` does: the reader goes first
    let kinds = [
        "complete-bash",
        "complete-zsh",
        "complete-fish",
        "complete-powershell",
        "man",
    ];
    for kind in kinds {
        let mut child = Command::new(BIN)
            .args(["--generate", kind])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cachelens");
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kind}: {err}");
        assert!(!err.contains("panicked"), "{kind}: {err}");
    }
}

/// The text of an archived CodeBuild stream of the demo: its events' messages.
fn demo_stream_text(group: &str, nth: usize) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs/demo")
        .join(group);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    std::fs::read_to_string(&files[nth])
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["m"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn codebuild_runs_put_together_in_one_file_are_told_apart() {
    let runs = [
        demo_stream_text("%2Faws%2Fcodebuild%2Fweb", 0),
        demo_stream_text("%2Faws%2Fcodebuild%2Fapi", 1),
        demo_stream_text("%2Faws%2Fcodebuild%2Fworker", 2),
    ];
    let f = temp_log(runs.concat().as_bytes());
    let name = f.path().to_str().unwrap().to_owned();

    let steps = run_file(&["steps"], f.path());
    assert!(steps.status.success(), "{}", stderr(&steps));
    let doc: Value = serde_json::from_slice(&steps.stdout).unwrap();
    let records = doc["runs"].as_array().unwrap();
    assert_eq!(records.len(), 3, "a run record per CodeBuild run");
    for (record, text) in records.iter().zip(&runs) {
        assert_eq!(record["source"], name.as_str());
        let phases = record["phases"].as_array().unwrap();
        let entered = text.matches("Entering phase ").count();
        assert!(
            (entered..=entered + 1).contains(&phases.len()),
            "{} phases for {entered} entered",
            phases.len()
        );
        assert_eq!(phases[0]["name"], "DOWNLOAD_SOURCE");
    }
    let builds = builds_of(&steps);
    let per_run: usize = runs
        .iter()
        .map(|t| t.matches("Running command docker build").count())
        .sum();
    assert_eq!(builds.len(), per_run);
    let indexes: Vec<_> = builds
        .iter()
        .map(|b| b["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (0..per_run as u64).collect::<Vec<_>>());

    // the summary: each run's section, then its builds
    let summary = stdout(&run_file(&["summary", "--color", "never"], f.path()));
    let sections: Vec<usize> = summary
        .match_indices("CodeBuild run ")
        .map(|(at, _)| at)
        .collect();
    assert_eq!(sections.len(), 3, "{summary}");
    for pair in sections.windows(2) {
        assert!(
            summary[pair[0]..pair[1]].matches("POST_BUILD").count() == 1,
            "one run's phases per section:\n{summary}"
        );
    }
}
