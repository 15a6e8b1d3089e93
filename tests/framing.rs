//! CI framing, data-driven (`tests/framing/*.toml`): every real log in
//! `sample-logs/real/` (and the rawjson and tty fixtures) wrapped the way CI
//! systems and wrappers wrap output, alone and mixed two to a file, parses to
//! the same records as the bare log; lines that merely start with a clock, a
//! date or spaces are not cut; a pasted tail keeps the statuses and times it
//! shows (`grammars/ci-framing.ebnf`, rule A5 of `buildkit-plain.ebnf`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cachelens::model::{Format, Status};
use cachelens::parse::parse_log;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Framings {
    framing: Vec<FramingCase>,
    mix: Vec<Mix>,
}

#[derive(Deserialize, Clone)]
struct FramingCase {
    name: String,
    prefix: String,
    first: Option<String>,
    split: Option<String>,
    #[serde(default)]
    head: Vec<String>,
    #[serde(default)]
    tail: Vec<String>,
    framing: Option<String>,
    #[serde(default)]
    stamped: bool,
}

#[derive(Deserialize)]
struct Mix {
    first: String,
    second: String,
}

#[derive(Deserialize)]
struct Negatives {
    case: Vec<Negative>,
}

#[derive(Deserialize)]
struct Negative {
    name: String,
    log: String,
    /// Per build, its steps as `[vertex, name, status, seconds or "null"]`.
    builds: Vec<Vec<(u32, String, String, Value)>>,
    #[serde(default)]
    errors_outside: Vec<String>,
    /// The framing the builds report (none: the log is bare).
    framing: Option<String>,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = root().join("tests/framing").join(name);
    toml::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The real logs, and the rawjson and tty fixtures (`tests/fixtures/`).
fn real_logs() -> Vec<PathBuf> {
    let dir = root().join("sample-logs/real");
    let mut logs: Vec<PathBuf> = [
        dir.clone(),
        dir.join("non-buildkit"),
        root().join("tests/fixtures/rawjson-pairs"),
        root().join("tests/fixtures/tty"),
    ]
    .iter()
    .flat_map(|d| std::fs::read_dir(d).unwrap())
    .map(|e| e.unwrap().path())
    .filter(|p| p.extension().is_some_and(|e| e == "log"))
    .collect();
    logs.sort();
    assert!(logs.len() >= 26, "the real logs are there");
    logs
}

/// Lines with their ends (`\n`, `\r\n`) kept, so a wrapper changes nothing else.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

/// `template` with its placeholders filled for output line `i`.
fn fill(template: &str, i: usize) -> String {
    let base: DateTime<Utc> = "2024-05-21T08:22:00Z".parse().unwrap();
    let t = base + Duration::milliseconds(1237 * i as i64);
    let mut out = template.to_owned();
    for (key, value) in [
        ("{iso3}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        ("{iso6}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()),
        ("{iso6n}", t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()),
        (
            "{iso7}",
            format!("{}{:07}Z", t.format("%Y-%m-%dT%H:%M:%S."), i),
        ),
        ("{iso9}", t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()),
        ("{isoz}", t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        ("{date}", t.format("%Y-%m-%d").to_string()),
        ("{clock}", t.format("%H:%M:%S").to_string()),
        ("{ms3}", t.format("%3f").to_string()),
        ("{cb}", t.format("%Y/%m/%d %H:%M:%S").to_string()),
        ("{us6}", t.format("%6f").to_string()),
        ("{epoch_ms}", t.timestamp_millis().to_string()),
        ("{hex2}", format!("{:02x}", i % 256)),
        ("{ESC}", "\x1b".to_owned()),
        ("{BEL}", "\x07".to_owned()),
    ] {
        out = out.replace(key, &value);
    }
    out
}

/// `lines` (of a log) in framing `f`, numbered from output line `at`.
fn frame_lines(f: &FramingCase, lines: &[&[u8]], at: &mut usize, out: &mut Vec<u8>) {
    // a label goes on the first line that is not blank
    let labelled = lines.iter().position(|l| !split_end(l).0.is_empty());
    for (i, line) in lines.iter().enumerate() {
        let prefix = match &f.first {
            Some(first) if Some(i) == labelled => first,
            _ => &f.prefix,
        };
        let (body, end) = split_end(line);
        match &f.split {
            // GitLab cuts long output lines: the rest follows with `+`
            Some(split) if body.len() > 40 && is_output_line(body) => {
                let cut = (20..body.len())
                    .find(|&c| std::str::from_utf8(&body[..c]).is_ok())
                    .unwrap_or(body.len());
                out.extend(fill(prefix, *at).bytes());
                out.extend_from_slice(&body[..cut]);
                out.push(b'\n');
                *at += 1;
                out.extend(fill(split, *at).bytes());
                out.extend_from_slice(&body[cut..]);
            }
            _ => {
                out.extend(fill(prefix, *at).bytes());
                out.extend_from_slice(body);
            }
        }
        out.extend_from_slice(end);
        *at += 1;
    }
}

/// `#N <secs> <text>`: a vertex's output, the lines a runner may cut.
fn is_output_line(body: &[u8]) -> bool {
    let Some(rest) = body.strip_prefix(b"#") else {
        return false;
    };
    let mut words = rest.splitn(3, |&c| c == b' ');
    let n = words.next().unwrap_or_default();
    let secs = words.next().unwrap_or_default();
    !n.is_empty()
        && n.iter().all(u8::is_ascii_digit)
        && secs.contains(&b'.')
        && secs.iter().all(|c| c.is_ascii_digit() || *c == b'.')
}

/// Fails with the framed log kept in the temp folder to look at.
fn same_records(framed: &[u8], expected: &Value, what: &str) {
    let got = records(framed);
    if got != *expected {
        let name: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let path = std::env::temp_dir().join(format!(
            "framing-{}.log",
            &name[name.len().saturating_sub(80)..]
        ));
        std::fs::write(&path, framed).unwrap();
        assert_eq!(got, *expected, "{what} (the input: {})", path.display());
    }
}

/// A line and its end (`\n`, `\r\n` or nothing).
fn split_end(line: &[u8]) -> (&[u8], &[u8]) {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    (body, &line[body.len()..])
}

fn own_lines(which: &[String], at: &mut usize, out: &mut Vec<u8>) {
    for h in which {
        out.extend(fill(h, *at).bytes());
        out.push(b'\n');
        *at += 1;
    }
}

/// The whole log in framing `f`, with the CI's own lines around it.
fn frame(f: &FramingCase, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    own_lines(&f.head, &mut at, &mut out);
    frame_lines(f, &lines(bytes), &mut at, &mut out);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    own_lines(&f.tail, &mut at, &mut out);
    out
}

/// The first half of the log in `a`, the rest in `b` (a program's output
/// changes hands between lines of BuildKit's, not inside a rawjson object).
fn mix(a: &FramingCase, b: &FramingCase, bytes: &[u8]) -> Vec<u8> {
    let all = lines(bytes);
    let inside_object = |l: &[u8]| matches!(l.first(), Some(b' ' | b'}' | b']'));
    let half = (all.len() / 2..all.len())
        .find(|&i| !inside_object(all[i]))
        .unwrap_or(all.len());
    let mut out = Vec::new();
    let mut at = 0;
    own_lines(&a.head, &mut at, &mut out);
    frame_lines(a, &all[..half], &mut at, &mut out);
    frame_lines(b, &all[half..], &mut at, &mut out);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// What must not change with the framing: the records, without line numbers,
/// framing and wall-clock fields.
fn records(bytes: &[u8]) -> Value {
    let log = parse_log(bytes, "log");
    let mut builds = serde_json::to_value(&log.builds).unwrap();
    for b in builds.as_array_mut().unwrap() {
        let b = b.as_object_mut().unwrap();
        for field in [
            "lines",
            "first_unparsed_line",
            "framing",
            "started_at",
            "ended_at",
            "error_lines",
        ] {
            b.remove(field);
        }
        if let Some(c) = b.get_mut("context").and_then(Value::as_object_mut) {
            c.remove("line");
        }
        for s in b["steps"].as_array_mut().unwrap() {
            s.as_object_mut().unwrap().remove("line");
        }
    }
    serde_json::json!({ "builds": builds, "errors_outside": log.errors_outside.iter().map(|e| &e.1).collect::<Vec<_>>() })
}

fn bare() -> FramingCase {
    FramingCase {
        name: "bare".into(),
        prefix: String::new(),
        first: None,
        split: None,
        head: Vec::new(),
        tail: Vec::new(),
        framing: None,
        stamped: false,
    }
}

#[test]
fn framed_real_logs_give_the_records_of_the_bare_ones() {
    let table: Framings = load("framings.toml");
    let mut checked = 0;
    for path in real_logs() {
        let bare_log = std::fs::read(&path).unwrap();
        let expected = records(&bare_log);
        for f in &table.framing {
            let framed = frame(f, &bare_log);
            let what = format!("{} as {}", path.display(), f.name);
            same_records(&framed, &expected, &what);
            for b in &parse_log(&framed, "log").builds {
                if let Some(framing) = &f.framing {
                    assert_eq!(
                        b.framing.map(|f| f.as_str()),
                        Some(framing.as_str()),
                        "{what}"
                    );
                }
                // CI timestamps, or rawjson's own vertex times (rule R9)
                let stamped = f.stamped || b.format == Format::Rawjson;
                assert_eq!(b.started_at.is_some(), stamped, "{what}: started_at");
                assert!(b.started_at <= b.ended_at, "{what}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 26 * table.framing.len(), "{checked}");
}

#[test]
fn a_framing_may_change_mid_file() {
    let table: Framings = load("framings.toml");
    let by_name: BTreeMap<&str, &FramingCase> =
        table.framing.iter().map(|f| (f.name.as_str(), f)).collect();
    let bare = bare();
    let get = |name: &str| {
        if name == "bare" {
            &bare
        } else {
            by_name
                .get(name)
                .unwrap_or_else(|| panic!("no framing {name}"))
        }
    };
    let mut checked = 0;
    for path in real_logs() {
        let bare_log = std::fs::read(&path).unwrap();
        // a region of one line can show no repeated prefix (rule F2)
        if lines(&bare_log).len() < 4 {
            continue;
        }
        let expected = records(&bare_log);
        for m in &table.mix {
            let mixed = mix(get(&m.first), get(&m.second), &bare_log);
            let what = format!("{} as {} then {}", path.display(), m.first, m.second);
            same_records(&mixed, &expected, &what);
            checked += 1;
        }
    }
    assert!(checked >= 20 * table.mix.len(), "{checked}");
}

#[test]
fn lines_that_merely_start_with_a_clock_a_date_or_spaces_are_not_cut() {
    let table: Negatives = load("negative.toml");
    for case in &table.case {
        let log = parse_log(case.log.trim_start().as_bytes(), "log");
        let got: Vec<Vec<(u32, String, String, Value)>> = log
            .builds
            .iter()
            .map(|b| {
                b.steps
                    .iter()
                    .map(|s| {
                        let seconds = s.seconds.map_or(Value::from("null"), Value::from);
                        (
                            s.vertex,
                            s.label().to_owned(),
                            s.status.as_str().to_owned(),
                            seconds,
                        )
                    })
                    .collect()
            })
            .collect();
        assert_eq!(got, case.builds, "{}", case.name);
        let errors: Vec<&str> = log.errors_outside.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(errors, case.errors_outside, "{}", case.name);
        for b in &log.builds {
            let framing = b.framing.map(|f| f.as_str().to_owned());
            assert_eq!(framing, case.framing, "{}", case.name);
        }
    }
}

/// A pasted tail: every vertex whose terminal line is in the tail keeps its
/// status and `DONE` seconds, and a name only when the tail holds its header.
#[test]
fn a_pasted_tail_keeps_its_statuses_and_times() {
    let mut checked = 0;
    for path in real_logs() {
        let bytes = std::fs::read(&path).unwrap();
        let full = parse_log(&bytes, "log");
        let Some(last) = full.builds.last().filter(|b| b.format == Format::Plain) else {
            continue;
        };
        let all = lines(&bytes);
        let [first, end] = last.lines;
        for cut in (first as usize..end as usize).step_by(3) {
            let tail: Vec<u8> = all[cut..].concat();
            let what = format!("{} from line {}", path.display(), cut + 1);
            let pasted = parse_log(&tail, "tail");
            let has_vertex_line = all[cut..].iter().any(|l| l.starts_with(b"#"));
            let Some(b) = pasted.builds.last() else {
                assert!(!has_vertex_line, "{what}: no build");
                continue;
            };
            for s in &last.steps {
                // the step's last line is in the tail when its header or terminal line is
                let Some(got) = b.steps.iter().find(|g| g.vertex == s.vertex) else {
                    continue;
                };
                if got.status != Status::Incomplete {
                    assert_eq!(
                        (got.status, got.seconds),
                        (s.status, s.seconds),
                        "{what}: #{}",
                        s.vertex
                    );
                }
                if let Some(name) = &got.name {
                    assert_eq!(
                        Some(name),
                        s.name.as_ref(),
                        "{what}: #{} named by a status line",
                        s.vertex
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked}");
}

#[test]
fn codebuild_agent_lines_work_under_framing() {
    let log = "[Container] 2024/01/15 10:00:00.500000 Entering phase BUILD\n\
               [Container] 2024/01/15 10:00:01.000000 Running command docker build .\n\
               #1 [1/2] FROM x\n#1 DONE 0.0s\n\n#2 [2/2] RUN a\n#2 CACHED\n\
               [Container] 2024/01/15 10:01:31.500000 Phase complete: BUILD State: SUCCEEDED\n";
    let bare_log = parse_log(log.as_bytes(), "log");
    assert_eq!(bare_log.builds[0].phase.as_deref(), Some("BUILD"));
    let table: Framings = load("framings.toml");
    // (a label on the first line only is taken for content where a BuildKit line follows)
    for f in table.framing.iter().filter(|f| f.first.is_none()) {
        let framed = frame(f, log.as_bytes());
        let got = parse_log(&framed, "log");
        assert_eq!(records(&framed), records(log.as_bytes()), "{}", f.name);
        assert_eq!(
            got.run.as_ref().map(|r| r.phases.len()),
            Some(1),
            "{}",
            f.name
        );
        assert_eq!(
            got.builds[0].command.as_deref(),
            Some("docker build ."),
            "{}",
            f.name
        );
    }

    // the agent's prefix on the command's own output: its lines are BuildKit's
    let prefixed = "[Container] 2024/03/27 12:58:50 Running command docker build .\n\
                    [Container] 2024/03/27 12:58:52 #3 [2/2] RUN make\n\
                    [Container] 2024/03/27 12:58:52.123456 #3 ERROR: process \"/bin/sh -c make\" did not complete successfully: exit code: 2\n\
                    [Container] 2024/03/27 12:58:53 Command did not exit successfully docker build . exit status 1\n";
    let got = parse_log(prefixed.as_bytes(), "log");
    let b = &got.builds[0];
    assert_eq!(b.steps[0].status, Status::Error);
    assert_eq!(b.command.as_deref(), Some("docker build ."));
    assert_eq!(b.unparsed_lines, 0);
    let run = got.run.as_ref().expect("run");
    assert_eq!(run.commands.len(), 1, "the agent lines keep their meaning");
}
