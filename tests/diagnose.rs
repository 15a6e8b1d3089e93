//! `cachelens diagnose` on the real logs of `sample-logs/real/`, against the
//! answers in `tests/expectations/diagnose.json` (derived by reading the logs
//! and their README): baseline, first miss, cascade, cause, evidence lines.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real")
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cachelens")
}

fn diagnose(case: &Value) -> Value {
    let mut args = vec!["diagnose", "--format", "json"];
    if let Some(b) = case["baseline_arg"].as_str() {
        args.extend(["--baseline", b]);
    }
    for i in case["inputs"].as_array().unwrap() {
        args.push(i.as_str().unwrap());
    }
    let out = run(&args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    serde_json::from_slice(&out.stdout).expect("diagnose json")
}

fn names(steps: &Value) -> Vec<&str> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect()
}

#[test]
fn every_real_log_is_diagnosed_as_expected() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/expectations/diagnose.json"
    ))
    .unwrap();
    let cases: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for (name, case) in cases.iter().filter(|(k, _)| !k.starts_with('_')) {
        let got = diagnose(case);
        let diagnoses = got["diagnoses"].as_array().unwrap();
        assert_eq!(diagnoses.len(), 1, "{name}: the last build only");
        let d = &diagnoses[0];
        let target = case["inputs"].as_array().unwrap().last().unwrap();
        assert_eq!(&d["source"], target, "{name}: source");
        assert_eq!(
            d["baseline"]["source"].as_str(),
            case["baseline"].as_str(),
            "{name}: baseline"
        );
        let causes = d["causes"].as_array().unwrap();
        let expected = case["causes"].as_array().unwrap();
        assert_eq!(causes.len(), expected.len(), "{name}: causes {causes:#?}");
        for (c, e) in causes.iter().zip(expected) {
            assert_eq!(c["cause"], e["cause"], "{name}: cause kind");
            assert_eq!(c["step"]["name"], e["step"], "{name}: first miss");
            let cascade = names(&c["cascade"]);
            if let Some(list) = e["cascade"].as_array() {
                let want: Vec<&str> = list.iter().map(|v| v.as_str().unwrap()).collect();
                assert_eq!(cascade, want, "{name}: cascade");
            }
            if let Some(n) = e["cascade_len"].as_u64() {
                assert_eq!(cascade.len() as u64, n, "{name}: cascade {cascade:#?}");
            }
            for want in e["cascade_has"].as_array().into_iter().flatten() {
                assert!(
                    cascade.contains(&want.as_str().unwrap()),
                    "{name}: cascade lacks {want}: {cascade:#?}"
                );
            }
            if let Some(fix) = e["fix_has"].as_str() {
                assert!(c["fix"].as_str().unwrap().contains(fix), "{name}: fix");
            }
            assert!(!c["fix"].as_str().unwrap().is_empty(), "{name}: a fix");
            let evidence = c["evidence"].as_array().unwrap();
            assert!(!evidence.is_empty(), "{name}: evidence");
            for want in e["evidence"].as_array().into_iter().flatten() {
                let found = evidence.iter().any(|ev| {
                    ev["source"] == want[0] && ev["line"] == want[1] && ev["text"] == want[2]
                });
                assert!(found, "{name}: evidence {want} missing from {evidence:#?}");
            }
            // every evidence line is the log's own line
            for ev in evidence {
                let file =
                    std::fs::read_to_string(dir().join(ev["source"].as_str().unwrap())).unwrap();
                let line = file
                    .lines()
                    .nth(ev["line"].as_u64().unwrap() as usize - 1)
                    .unwrap();
                assert_eq!(line, ev["text"].as_str().unwrap(), "{name}: evidence text");
            }
        }
        for not in case["not_causes"].as_array().into_iter().flatten() {
            assert!(
                causes.iter().all(|c| &c["cause"] != not),
                "{name}: false lead {not} reported"
            );
        }
        checked += 1;
    }
    assert!(checked >= 14, "{checked} cases");
}

#[test]
fn text_and_markdown_outputs() {
    let args = [
        "diagnose",
        "nodeapp-warm.log",
        "nodeapp-partial-src-change.log",
    ];
    let out = run(&args);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cause 1: source-changed"), "{text}");
    assert!(
        text.contains("first miss: #9 [5/6] COPY . . (line 36)"),
        "{text}"
    );
    assert!(
        text.contains("nodeapp-partial-src-change.log:21 #6 transferring context: 354B done"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour off a terminal");

    let out = run(&[&args[..], &["--color", "always"]].concat());
    assert!(String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));

    let out = run(&[&args[..], &["--format", "markdown"]].concat());
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("#### Cause 1: `source-changed`"), "{md}");
    assert!(
        md.contains("| `nodeapp-partial-src-change.log:36` | `#9 [5/6] COPY . .` |"),
        "{md}"
    );
}

#[test]
fn every_build_with_all_and_no_panic_on_any_log() {
    let mut logs: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log"))
        .collect();
    logs.sort();
    let mut args = vec!["diagnose", "--all", "--format", "json"];
    args.extend(logs.iter().map(String::as_str));
    let out = run(&args);
    assert!(out.status.success(), "{out:?}");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    // the parse-error log has no cacheable step: said on stderr, not diagnosed
    assert_eq!(
        got["diagnoses"].as_array().unwrap().len(),
        logs.len() - 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no cacheable Dockerfile step"));
}

#[test]
fn the_archive_gives_a_baseline_of_the_same_project() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/demo");
    let out = run(&[
        "diagnose",
        "--archive",
        demo.to_str().unwrap(),
        "--offline",
        "--all",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diagnoses = got["diagnoses"].as_array().unwrap();
    assert!(diagnoses.len() >= 100, "{}", diagnoses.len());
    let group = |s: &Value| s.as_str().unwrap().rsplit_once('/').unwrap().0.to_owned();
    let mut with_baseline = 0;
    for d in diagnoses {
        if d["baseline"].is_object() {
            with_baseline += 1;
            assert_eq!(group(&d["source"]), group(&d["baseline"]["source"]));
        }
        for c in d["causes"].as_array().unwrap() {
            assert!(!c["evidence"].as_array().unwrap().is_empty());
        }
    }
    assert!(with_baseline > 0);
}

/// `start_time` of an archived stream, from its header line.
fn started(demo: &Path, source: &str) -> i64 {
    let (group, stream) = source.rsplit_once('/').unwrap();
    let path = demo
        .join(group.replace('/', "%2F"))
        .join(format!("{stream}.jsonl"));
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    header["build"]["start_time"].as_i64().unwrap()
}

#[test]
fn a_build_id_is_compared_with_an_earlier_build_of_its_project() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/demo");
    let out = run(&[
        "diagnose",
        "--archive",
        demo.to_str().unwrap(),
        "--offline",
        "--build-id",
        "web:0219b718-3e1e-44e0-ad26-813c7a2aa375",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &got["diagnoses"][0];
    assert_eq!(
        d["source"],
        "/aws/codebuild/web/0219b718-3e1e-44e0-ad26-813c7a2aa375"
    );
    let baseline = d["baseline"]["source"].as_str().expect("a baseline");
    assert!(baseline.starts_with("/aws/codebuild/web/"));
    assert!(started(&demo, baseline) < started(&demo, d["source"].as_str().unwrap()));
}

/// `449B`, `1.58kB`, `2.1MB` (BuildKit's units) in bytes.
fn bytes(size: &str) -> f64 {
    let split = size.find(|c: char| c.is_ascii_alphabetic()).unwrap();
    let (n, unit) = size.split_at(split);
    let scale = match unit {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        _ => panic!("unit of {size}"),
    };
    n.parse::<f64>().unwrap() * scale
}

#[test]
fn a_context_said_to_have_grown_sent_more_than_its_baseline() {
    let demo = dir().join("../demo");
    let out = run(&["diagnose", "--all", "--format", "json", "--archive"]
        .into_iter()
        .chain([demo.to_str().unwrap()])
        .collect::<Vec<_>>());
    assert!(out.status.success(), "{out:?}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let transfer = |e: &Value| {
        let text = e["text"].as_str()?;
        let size = text.split("transferring context: ").nth(1)?;
        Some(bytes(size.split_whitespace().next()?))
    };
    let (mut grown, mut not_shown) = (0, 0);
    for d in doc["diagnoses"].as_array().unwrap() {
        let (Some(target), Some(baseline)) =
            (d["source"].as_str(), d["baseline"]["source"].as_str())
        else {
            continue;
        };
        for c in d["causes"].as_array().unwrap() {
            let summary = c["summary"].as_str().unwrap();
            let sent = |source: &str| {
                c["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|e| e["source"] == source)
                    .find_map(transfer)
            };
            let (Some(now), Some(then)) = (sent(target), sent(baseline)) else {
                continue;
            };
            if summary.contains("an unchanged context sends") {
                assert!(now > then, "{summary}: the baseline sent {then} B");
                grown += 1;
            }
            if summary.contains("its size does not show the change") {
                assert!(now <= then, "{summary}");
                not_shown += 1;
            }
        }
    }
    assert!(
        grown > 0 && not_shown > 0,
        "{grown} grown, {not_shown} not shown"
    );
}
