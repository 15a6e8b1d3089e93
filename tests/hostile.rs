//! Hostile inputs through the command line: nothing panics, nothing is misread
//! silently, every refusal names the file (and the line) with the documented
//! exit code, time stays linear and memory bounded, and the readable builds
//! next to a bad input are still reported.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn real(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs/real")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cachelens runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// No panic, no Rust debug dump.
fn sane(o: &Output) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE") && !err.contains(" { "),
        "{err}"
    );
}

fn builds(o: &Output) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    v["builds"].as_array().expect("builds").clone()
}

/// `nodeapp-cold.log` with its line `at` (1-based) replaced.
fn with_line(dir: &Path, name: &str, at: usize, line: &[u8]) -> PathBuf {
    let text = fs::read(real("nodeapp-cold.log")).unwrap();
    let mut out = Vec::new();
    for (i, l) in text.split_inclusive(|&b| b == b'\n').enumerate() {
        if i + 1 == at {
            out.extend_from_slice(line);
            out.push(b'\n');
        } else {
            out.extend_from_slice(l);
        }
    }
    let path = dir.join(name);
    fs::write(&path, out).unwrap();
    path
}

#[test]
fn implausible_done_times_are_unparsed_lines_located_not_silent() {
    let dir = tempfile::tempdir().unwrap();
    let nines = format!("#8 DONE {}.5s", "9".repeat(54));
    for (i, bad) in [
        "#8 DONE 1e308s",
        "#8 DONE -1s",
        "#8 DONE NaNs",
        "#8 DONE inf",
        "#8 DONE 700000s",
        nines.as_str(),
    ]
    .iter()
    .enumerate()
    {
        let log = with_line(dir.path(), &format!("bad{i}.log"), 37, bad.as_bytes());
        let path = log.to_str().unwrap();
        let o = run(&["steps", path, real("nodeapp-warm.log").to_str().unwrap()]);
        sane(&o);
        assert_eq!(o.status.code(), Some(0), "{bad}");
        assert_eq!(builds(&o).len(), 2, "{bad}: the good log is still reported");
        assert_eq!(builds(&o)[1]["unparsed_lines"], 0);
        let b = &builds(&o)[0];
        assert_eq!(b["unparsed_lines"], 1, "{bad}");
        assert_eq!(b["first_unparsed_line"], 37, "{bad}");
        let step8 = b["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["vertex"] == 8)
            .unwrap();
        assert_eq!(step8["status"], "incomplete", "{bad}");
        assert!(step8["seconds"].is_null(), "{bad}: no bill of 1e51 minutes");
        assert!(
            stderr(&o).contains(&format!(
                "{path}: build 1: 1 unparsed lines (first at line 37)"
            )),
            "{bad}: {}",
            stderr(&o)
        );
        // the summary says the build is incomplete, not that it succeeded
        let o = run(&["summary", path]);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("build 1 (incomplete)"), "{bad}: {out}");
    }
}

#[test]
fn a_trailing_nul_is_binary_data_reported_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = with_line(dir.path(), "nul.log", 37, b"#8 DONE 3.2s\0");
    let path = log.to_str().unwrap();
    let o = run(&["steps", path, real("nodeapp-warm.log").to_str().unwrap()]);
    sane(&o);
    assert_eq!(o.status.code(), Some(0));
    let all = builds(&o);
    assert_eq!(all.len(), 2, "the good log is still reported");
    assert_eq!(all[0]["unparsed_lines"], 1);
    assert_eq!(all[0]["first_unparsed_line"], 37);
    let offset = fs::read(&log)
        .unwrap()
        .iter()
        .position(|&b| b == 0)
        .unwrap();
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{path}:37: binary file (a NUL byte at offset {offset})"
        )),
        "{err}"
    );
    // a binary file: no build (exit 3), said so
    let bin = dir.path().join("image.txt");
    fs::write(&bin, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0").unwrap();
    let o = run(&["summary", bin.to_str().unwrap()]);
    sane(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("binary file (a NUL byte at offset 8)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn lone_carriage_returns_end_lines_and_the_gate_still_works() {
    let dir = tempfile::tempdir().unwrap();
    let lf = fs::read(real("nodeapp-cold.log")).unwrap();
    let cr: Vec<u8> = lf
        .iter()
        .map(|&b| if b == b'\n' { b'\r' } else { b })
        .collect();
    let path = dir.path().join("mac.log");
    fs::write(&path, cr).unwrap();
    let o = run(&["steps", path.to_str().unwrap()]);
    sane(&o);
    let a = run(&["steps", real("nodeapp-cold.log").to_str().unwrap()]);
    let (mut mac, mut unix) = (builds(&o), builds(&a));
    for b in mac.iter_mut().chain(unix.iter_mut()) {
        b["source"] = Value::Null;
    }
    assert_eq!(mac, unix, "CR line ends read as LF ones");
    // a cold build: the gate fails as it does on the LF log
    let o = run(&["summary", "--min-hit-rate", "80", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
}

#[test]
fn a_file_without_a_buildkit_build_is_no_build_found() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = readme.to_str().unwrap();
    for cmd in ["summary", "steps"] {
        let o = run(&[cmd, readme]);
        sane(&o);
        assert_eq!(o.status.code(), Some(3), "{cmd}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{readme}: no BuildKit build found")),
            "{}",
            stderr(&o)
        );
    }
    let o = run(&["summary", "-f", "json", readme]);
    assert!(
        builds(&o).is_empty(),
        "no succeeded build with INCOMPLETE steps"
    );
    // next to a real log, the real log's build is reported
    let o = run(&["steps", readme, real("nodeapp-warm.log").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(builds(&o).len(), 1);
}

#[test]
fn a_log_cut_short_is_an_incomplete_build() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(real("nodeapp-cold.log")).unwrap();
    let cut: String = text.lines().take(36).map(|l| format!("{l}\n")).collect();
    let path = dir.path().join("cut.log");
    fs::write(&path, cut).unwrap();
    let o = run(&["summary", path.to_str().unwrap()]);
    sane(&o);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("build 1 (incomplete)"), "{out}");
    let o = run(&["summary", "-f", "json", path.to_str().unwrap()]);
    assert_eq!(builds(&o)[0]["outcome"], "incomplete");
    let o = run(&["summary", "-f", "markdown", path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("incomplete"));
}

#[test]
fn two_builds_glued_without_a_newline_lose_no_line_silently() {
    let dir = tempfile::tempdir().unwrap();
    let one = fs::read_to_string(real("nodeapp-cold.log")).unwrap();
    let glued = format!("{}{one}", one.trim_end_matches('\n'));
    let last = one.trim_end_matches('\n').lines().count();
    let path = dir.path().join("glued.log");
    fs::write(&path, glued).unwrap();
    let o = run(&[
        "steps",
        path.to_str().unwrap(),
        real("nodeapp-warm.log").to_str().unwrap(),
    ]);
    sane(&o);
    let mut all = builds(&o);
    let good = all.pop().unwrap();
    assert!(
        good["source"]
            .as_str()
            .unwrap()
            .ends_with("nodeapp-warm.log")
    );
    let unparsed: u64 = all
        .iter()
        .map(|b| b["unparsed_lines"].as_u64().unwrap())
        .sum();
    assert!(unparsed >= 1, "the glued line is counted: {all:?}");
    let located = all
        .iter()
        .any(|b| b["first_unparsed_line"].as_u64() == Some(last as u64));
    assert!(located, "the glued line {last} is located: {}", stderr(&o));
    assert!(stderr(&o).contains("unparsed lines"), "{}", stderr(&o));
}

#[test]
fn an_unfinished_pretty_printed_rawjson_object_takes_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    // 1.4 MB: an object that never closes (it took 84 s when re-parsed per line)
    let mut text = String::from("{\n");
    for _ in 0..80_000 {
        text.push_str("  \"vertexes\": [],\n");
    }
    let path = dir.path().join("open.json.log");
    fs::write(&path, &text).unwrap();
    let started = Instant::now();
    let o = run(&["summary", path.to_str().unwrap()]);
    let took = started.elapsed();
    sane(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(stderr(&o).contains("no BuildKit build found"));
}

#[test]
fn lines_and_objects_over_max_line_are_counted_and_located() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("#8 0.1 {}", "x".repeat(5000));
    let log = with_line(dir.path(), "long.log", 35, long.as_bytes());
    let path = log.to_str().unwrap();
    let o = run(&["steps", "--max-line", "4K", path]);
    sane(&o);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(builds(&o)[0]["unparsed_lines"], 1);
    assert!(
        stderr(&o).contains(&format!(
            "{path}:35: a line of 5007 bytes is longer than --max-line"
        )),
        "{}",
        stderr(&o)
    );
    // a pretty-printed object over the cap
    let mut json = String::from("{\n  \"vertexes\": [\n");
    for _ in 0..400 {
        json.push_str("    {\"digest\": \"sha256:0\", \"name\": \"x\"},\n");
    }
    let obj = dir.path().join("object.log");
    fs::write(&obj, json).unwrap();
    let o = run(&["steps", "--max-line", "4K", obj.to_str().unwrap()]);
    sane(&o);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains(&format!(
            "{}:1: a rawjson object longer than --max-line",
            obj.display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_gzip_bomb_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b'\n'; 1 << 20];
    for _ in 0..6 {
        gz.write_all(&zeros).unwrap();
    }
    let bomb = dir.path().join("bomb.log.gz");
    fs::write(&bomb, gz.finish().unwrap()).unwrap();
    let o = run(&["summary", "--max-input-size", "2M", bomb.to_str().unwrap()]);
    sane(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "{}: more than 2 MiB of log after decompression: not read (--max-input-size",
            bomb.display()
        )),
        "{}",
        stderr(&o)
    );
    // raised, it is read (and holds no build)
    let o = run(&["summary", "--max-input-size", "7M", bomb.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

#[test]
fn endless_standard_input_ends_with_a_clear_message() {
    let o = Command::new(BIN)
        .args(["summary", "--max-input-size", "8M", "-"])
        .stdin(fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    sane(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stdin: more than 8 MiB of log: not read"),
        "{}",
        stderr(&o)
    );
}
