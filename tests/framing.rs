//! Every real log in `sample-logs/real/` (and the rawjson and tty fixtures),
//! wrapped as CI systems wrap output
//! (GitHub Actions / Gitea / Render timestamps, Jenkins Timestamper and
//! `[Pipeline]` lines, nektos/act prefixes, indentation, and a framing that
//! changes mid-file), parses to the same records as the bare log
//! (`grammars/ci-framing.ebnf`).

use std::path::{Path, PathBuf};

use cachelens::parse::parse_log;
use serde_json::Value;

/// The real logs, and the rawjson and tty fixtures (`tests/fixtures/`).
fn real_logs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("sample-logs/real");
    let mut logs: Vec<PathBuf> = [
        dir.clone(),
        dir.join("non-buildkit"),
        root.join("tests/fixtures/rawjson-pairs"),
        root.join("tests/fixtures/tty"),
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

/// Every line prefixed by `prefix(i)`; `head`/`tail` lines are the CI's own.
fn wrap(bytes: &[u8], head: &[&str], tail: &[&str], prefix: impl Fn(usize) -> String) -> Vec<u8> {
    let mut out = Vec::new();
    for h in head {
        out.extend_from_slice(format!("{h}\n").as_bytes());
    }
    for (i, line) in lines(bytes).into_iter().enumerate() {
        out.extend_from_slice(prefix(i).as_bytes());
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    for t in tail {
        out.extend_from_slice(format!("{t}\n").as_bytes());
    }
    out
}

fn github(bytes: &[u8]) -> Vec<u8> {
    let stamp = |i: usize| format!("2024-01-01T12:{:02}:{:02}.{:07}Z ", i / 60 % 60, i % 60, i);
    let mut out = format!("\u{feff}{}##[group]Run docker build .\n", stamp(0)).into_bytes();
    out.extend(wrap(bytes, &[], &[], stamp));
    out.extend(format!("{}##[endgroup]\n", stamp(0)).bytes());
    out
}

fn render(bytes: &[u8]) -> Vec<u8> {
    wrap(bytes, &[], &[], |i| {
        format!("2024-06-30T23:59:{:02}.{:09}Z ", i % 60, i * 1001)
    })
}

fn jenkins(bytes: &[u8]) -> Vec<u8> {
    let stamp = |i: usize| format!("[2024-01-01T12:00:{:02}.{:03}Z] ", i % 60, i % 1000);
    wrap(
        bytes,
        &[
            "Started by user admin",
            "[Pipeline] Start of Pipeline",
            "[Pipeline] node",
            "[2024-01-01T12:00:00.000Z] [Pipeline] sh",
            "[2024-01-01T12:00:00.001Z] + docker build --progress=plain .",
        ],
        &[
            "[Pipeline] }",
            "[Pipeline] // node",
            "[Pipeline] End of Pipeline",
            "Finished: SUCCESS",
        ],
        stamp,
    )
}

fn jenkins_clock(bytes: &[u8]) -> Vec<u8> {
    wrap(
        bytes,
        &["12:00:00 [Pipeline] sh"],
        &["12:59:59 [Pipeline] }"],
        |i| format!("12:{:02}:{:02} ", i / 60 % 60, i % 60),
    )
}

fn act(bytes: &[u8]) -> Vec<u8> {
    wrap(
        bytes,
        &[
            "[CI/build] 🚀  Start image=catthehacker/ubuntu:act-latest",
            "[CI/build] ⭐ Run Main docker build --progress=plain .",
        ],
        &["[CI/build]   ✅  Success - Main docker build --progress=plain ."],
        |_| "[CI/build]   | ".to_owned(),
    )
}

fn indented(bytes: &[u8]) -> Vec<u8> {
    wrap(bytes, &[], &[], |_| "    ".to_owned())
}

/// The first half GitHub-stamped, the second half act-prefixed (rule F1).
fn switching(bytes: &[u8]) -> Vec<u8> {
    let all = lines(bytes);
    let half = all.len() / 2;
    let mut out = Vec::new();
    for (i, line) in all.into_iter().enumerate() {
        if i < half {
            out.extend(format!("2024-01-01T12:00:00.{i:07}Z ").bytes());
        } else {
            out.extend(b"[CI/build]   | ");
        }
        out.extend_from_slice(line);
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

#[test]
fn framed_real_logs_give_the_records_of_the_bare_ones() {
    type Wrapper = fn(&[u8]) -> Vec<u8>;
    let wrappers: [(&str, Wrapper, Option<&str>); 7] = [
        ("github-actions", github, Some("timestamp")),
        ("render", render, Some("timestamp")),
        ("jenkins", jenkins, Some("jenkins")),
        ("jenkins-clock", jenkins_clock, Some("jenkins-clock")),
        ("act", act, Some("act")),
        ("indented", indented, Some("indent")),
        ("switching", switching, None),
    ];
    let mut checked = 0;
    for path in real_logs() {
        let bare = std::fs::read(&path).unwrap();
        let expected = records(&bare);
        let no_buildkit = path.parent().is_some_and(|p| p.ends_with("non-buildkit"));
        for (name, wrapper, framing) in &wrappers {
            if no_buildkit && *name == "indented" {
                // rule F2: indentation is taken only before BuildKit lines
                continue;
            }
            let framed = wrapper(&bare);
            let what = format!("{} as {name}", path.display());
            assert_eq!(records(&framed), expected, "{what}");
            let log = parse_log(&framed, "log");
            for b in &log.builds {
                if let Some(framing) = framing {
                    assert_eq!(serde_json::to_value(b.framing).unwrap(), *framing, "{what}");
                }
                // CI timestamps, or rawjson's own vertex times (rule R9)
                let stamped = (*name != "act" && *name != "indented")
                    || b.format == cachelens::model::Format::Rawjson;
                if *name != "switching" {
                    assert_eq!(b.started_at.is_some(), stamped, "{what}: started_at");
                }
                assert!(b.started_at <= b.ended_at, "{what}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 26 * wrappers.len(), "{checked}");
}

#[test]
fn codebuild_agent_lines_work_under_framing() {
    let log = "[Container] 2024/01/15 10:00:00.500000 Entering phase BUILD\n\
               [Container] 2024/01/15 10:00:01.000000 Running command docker build .\n\
               #1 [1/2] FROM x\n#1 DONE 0.0s\n\n#2 [2/2] RUN a\n#2 CACHED\n\
               [Container] 2024/01/15 10:01:31.500000 Phase complete: BUILD State: SUCCEEDED\n";
    let bare = parse_log(log.as_bytes(), "log");
    assert_eq!(bare.builds[0].phase.as_deref(), Some("BUILD"));
    for framed in [
        github(log.as_bytes()),
        act(log.as_bytes()),
        jenkins(log.as_bytes()),
    ] {
        let got = parse_log(&framed, "log");
        assert_eq!(records(&framed), records(log.as_bytes()));
        assert_eq!(got.run.as_ref().map(|r| r.phases.len()), Some(1));
        assert_eq!(got.builds[0].command.as_deref(), Some("docker build ."));
    }
}
