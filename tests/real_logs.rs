//! Every real log in `sample-logs/real/` against its checked expectation in
//! `tests/expectations/real-logs.json` (facts derived from the logs by an
//! independent script and read against the logs' README), through the
//! `steps --format json` contract of the built binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn steps_json(log: &Path) -> Value {
    let out = Command::new(BIN)
        .args(["steps", "--format", "json"])
        .arg(log)
        .output()
        .expect("run cachelens");
    assert!(out.status.success(), "{}: {:?}", log.display(), out);
    serde_json::from_slice(&out.stdout).expect("steps json")
}

fn expectations() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/expectations/real-logs.json"
    ))
    .expect("expectations");
    serde_json::from_str(&text).expect("expectations json")
}

fn count(steps: &[Value], field: &str, value: &str) -> u64 {
    steps.iter().filter(|s| s[field] == value).count() as u64
}

#[test]
fn every_real_log_matches_its_expectation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
    let expected = expectations();
    let logs = log_names(&dir);
    assert_eq!(
        logs,
        expected.keys().cloned().collect::<Vec<_>>(),
        "every real log has an expectation, and only those"
    );

    for name in &logs {
        let exp = &expected[name];
        let got = steps_json(&dir.join(name));
        let builds = got["builds"].as_array().unwrap();
        assert_eq!(
            builds.len() as u64,
            exp["builds"].as_u64().unwrap(),
            "{name}: builds"
        );
        let b = &builds[0];
        let steps = b["steps"].as_array().unwrap();
        let ctx = |what: &str| format!("{name}: {what}");

        assert_eq!(
            steps.len() as u64,
            exp["steps"].as_u64().unwrap(),
            "{}",
            ctx("steps")
        );
        for (status, n) in exp["status"].as_object().unwrap() {
            assert_eq!(
                count(steps, "status", status),
                n.as_u64().unwrap(),
                "{}",
                ctx(status)
            );
        }
        let cacheable: Vec<&Value> = steps.iter().filter(|s| s["cacheable"] == true).collect();
        assert_eq!(
            cacheable.len() as u64,
            exp["cacheable"].as_u64().unwrap(),
            "{}",
            ctx("cacheable")
        );
        let cached = cacheable.iter().filter(|s| s["status"] == "cached").count() as u64;
        assert_eq!(cached, exp["cached"].as_u64().unwrap(), "{}", ctx("cached"));
        match exp["hit_rate"].as_f64() {
            Some(rate) => {
                let got = b["hit_rate"].as_f64().expect("hit_rate");
                assert!(
                    (got - rate).abs() < 1e-4,
                    "{}: {got} vs {rate}",
                    ctx("hit_rate")
                );
            }
            None => assert!(b["hit_rate"].is_null(), "{}", ctx("hit_rate null")),
        }

        // DONE seconds of every executed vertex, keyed by vertex number
        let mut seconds = BTreeMap::new();
        for s in steps.iter().filter(|s| s["status"] == "done") {
            if let Some(x) = s["seconds"].as_f64() {
                seconds.insert(s["vertex"].to_string(), x);
            }
        }
        let exp_seconds: BTreeMap<String, f64> = exp["seconds"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
            .collect();
        assert_eq!(seconds, exp_seconds, "{}", ctx("DONE seconds"));

        // first miss: the first non-cached cacheable step in print order
        let first_miss = cacheable
            .iter()
            .find(|s| s["status"] != "cached")
            .map(|s| s["name"].clone())
            .unwrap_or(Value::Null);
        assert_eq!(first_miss, exp["first_miss"], "{}", ctx("first miss"));

        let imports: Vec<Value> = b["cache"]["imports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| serde_json::json!({"ref": i["ref"], "ok": i["ok"], "error": i["error"]}))
            .collect();
        assert_eq!(Value::from(imports), exp["imports"], "{}", ctx("imports"));
        let exports: Vec<Value> = b["cache"]["exports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| serde_json::json!({"name": e["name"], "seconds": e["seconds"]}))
            .collect();
        assert_eq!(Value::from(exports), exp["exports"], "{}", ctx("exports"));
        assert_eq!(b["error"], exp["error"], "{}", ctx("client error"));
        assert_eq!(b["unparsed_lines"], 0, "{}", ctx("unparsed lines"));
        assert_eq!(
            b["source"],
            dir.join(name).display().to_string(),
            "{}",
            ctx("source")
        );
        assert_eq!(b["index"], 0, "{}", ctx("index"));
    }
}

#[test]
fn not_cacheable_kinds_stay_out_of_the_hit_rate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
    for name in [
        "nodeapp-cold.log",
        "remote-cache-from-missing-tag.log",
        "remote-inline-cache-export.log",
    ] {
        let got = steps_json(&dir.join(name));
        for s in got["builds"][0]["steps"].as_array().unwrap() {
            let kind = s["kind"].as_str().unwrap();
            let name = s["name"].as_str().unwrap();
            assert_eq!(s["cacheable"] == true, kind == "instruction", "{name}");
            let expected_kind = if name.starts_with("[internal]") {
                "internal"
            } else if name.starts_with("importing cache manifest from ") {
                "cache-import"
            } else if name == "exporting cache" {
                "cache-export"
            } else if name == "exporting to image" {
                "export"
            } else if name.contains("] FROM ") {
                "from"
            } else {
                "instruction"
            };
            assert_eq!(kind, expected_kind, "{name}");
        }
    }
}

#[test]
fn contract_fields_are_all_there() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
    let got = steps_json(&dir.join("nodeapp-partial-src-change.log"));
    let b = &got["builds"][0];
    for field in [
        "source",
        "index",
        "steps",
        "cache",
        "hit_rate",
        "unparsed_lines",
    ] {
        assert!(b.get(field).is_some(), "build field {field}");
    }
    let step = b["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vertex"] == 8)
        .unwrap();
    assert_eq!(
        step["name"].as_str().unwrap().split("  ").next(),
        Some("[4/6] RUN echo \"npm ci: installing from package-lock.json\"")
    );
    assert_eq!(step["stage"], Value::Null);
    assert_eq!(step["platform"], Value::Null);
    assert_eq!(step["position"], serde_json::json!([4, 6]));
    assert_eq!(step["instruction"], "RUN");
    assert_eq!(step["kind"], "instruction");
    assert_eq!(step["status"], "cached");
    assert_eq!(step["seconds"], Value::Null);
    assert_eq!(step["cacheable"], true);
    let multi = steps_json(&dir.join("multistage-cold.log"));
    let s = multi["builds"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["vertex"] == 10)
        .unwrap()
        .clone();
    assert_eq!(s["stage"], "backend");
    assert_eq!(s["position"], serde_json::json!([2, 2]));
    assert_eq!(s["seconds"], 3.4);
}

/// The real output in `sample-logs/real/non-buildkit/` (the legacy builder,
/// `docker push`, client errors for unsupported options) holds no BuildKit
/// build; where the client's own error says why, it is kept.
#[test]
fn every_non_buildkit_log_is_no_build_with_its_client_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real/non-buildkit");
    let expected: BTreeMap<&str, Vec<&str>> = [
        ("legacy-builder-cold.log", vec![]),
        ("legacy-builder-warm.log", vec![]),
        ("remote-inline-cache-push.log", vec![]),
        ("remote-multistage-inline-push.log", vec![]),
        ("unsupported-cache-to-registry-max.log", vec![]),
        (
            "unsupported-docker28-client-buildkit-no-buildx.log",
            vec!["BuildKit is enabled but the buildx component is missing or broken."],
        ),
        ("unsupported-docker28-client-buildx-missing.log", vec![]),
        ("unsupported-progress-rawjson.log", vec![]),
    ]
    .into_iter()
    .collect();
    let logs = log_names(&dir);
    assert_eq!(logs, expected.keys().copied().collect::<Vec<_>>());
    for (name, errors) in &expected {
        let log = cachelens::parse::parse_log(&std::fs::read(dir.join(name)).unwrap(), name);
        assert!(log.builds.is_empty(), "{name}: {} builds", log.builds.len());
        let got: Vec<&str> = log.errors_outside.iter().map(|e| e.1.as_str()).collect();
        assert_eq!(&got, errors, "{name}");
        let out = Command::new(env!("CARGO_BIN_EXE_cachelens"))
            .arg("steps")
            .arg(dir.join(name))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{name}: no build found");
    }
}

/// The `*.log` files of a folder, sorted.
fn log_names(dir: &Path) -> Vec<String> {
    let mut logs: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".log"))
        .collect();
    logs.sort();
    logs
}
