//! Redaction (on by default): a secret planted anywhere in any real log never
//! reaches any output — summary, steps, diagnose, the report folder — and
//! `--no-redact` / `CACHELENS_NO_REDACT=1` print it as it is.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cachelens::analyze::diagnose::{Peers, diagnose};
use cachelens::parse::parse_log;
use cachelens::report::diagnose::DiagnoseFormat;
use cachelens::report::{self, StepsFormat, SummaryFormat, TableOptions};
use cachelens::summary::SourceSummary;
use proptest::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn real_logs() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
    let mut logs: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    logs.sort();
    logs
}

/// The secret of kind `kind` holding `value`: the text planted, and the part that
/// must never be printed.
fn secret(kind: usize, value: &str, upper: &str) -> (String, String) {
    let planted = match kind {
        0 => format!("AKIA{upper}"),
        1 => format!("ASIA{upper}"),
        2 => format!("NPM_TOKEN={value}"),
        3 => format!("aws_secret_access_key={value}"),
        4 => format!("--build-arg DB_PASSWORD='{value}'"),
        5 => format!("GITHUB_API_KEY={value}"),
        6 => format!("Authorization: Bearer {value}"),
        7 => format!("authorization: Basic {value}"),
        8 => format!("ghp_{value}{upper}"),
        9 => format!("github_pat_{value}"),
        10 => format!("glpat-{value}"),
        11 => format!("npm_{value}{upper}"),
        12 => format!("xoxb-{value}"),
        13 => format!("https://deploy:{value}@git.example.com/x.git"),
        14 => format!("-----BEGIN RSA PRIVATE KEY-----\n{value}\n-----END RSA PRIVATE KEY-----"),
        15 => format!("ENV MY_SECRET {value}"),
        _ => format!("PASSWD=\"{value}\""),
    };
    let shown = match kind {
        0 | 1 => planted.clone(),
        8 | 11 => format!("{value}{upper}"),
        _ => value.to_owned(),
    };
    (planted, shown)
}

const KINDS: usize = 17;

/// Every output the library writes for one log, concatenated; and the steps'
/// arguments, which the records keep (no output prints them as they are).
fn every_output(bytes: &[u8], name: &str) -> Vec<u8> {
    let log = parse_log(bytes, name);
    let logs = std::slice::from_ref(&log);
    let summaries = [SourceSummary::of(&log)];
    let mut out = Vec::new();
    for args in log
        .builds
        .iter()
        .flat_map(|b| &b.steps)
        .filter_map(|s| s.args.as_deref())
    {
        out.extend_from_slice(args.as_bytes());
        out.push(b'\n');
    }
    for format in [
        SummaryFormat::Table,
        SummaryFormat::Markdown,
        SummaryFormat::Json,
    ] {
        for all_steps in [false, true] {
            let options = TableOptions {
                color: false,
                all_steps,
            };
            report::write_summary(format, &summaries, options, &mut out).unwrap();
        }
    }
    for format in [StepsFormat::Json, StepsFormat::Ndjson, StepsFormat::Csv] {
        report::write_steps(format, logs, &mut out).unwrap();
    }
    let diagnoses: Vec<_> = log
        .builds
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            let baseline = i.checked_sub(1).map(|j| &log.builds[j]);
            diagnose(b, baseline, Peers::of(log.builds.iter())).ok()
        })
        .collect();
    for format in [
        DiagnoseFormat::Text,
        DiagnoseFormat::Markdown,
        DiagnoseFormat::Json,
    ] {
        report::diagnose::write(format, &diagnoses, false, &mut out).unwrap();
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A secret planted anywhere (inside a line, or as lines of its own) in any
    /// real log never appears in any output.
    #[test]
    fn a_planted_secret_never_reaches_an_output(
        log in 0usize..26,
        kind in 0..KINDS,
        at in 0.0f64..=1.0,
        own_line in any::<bool>(),
        value in "[a-z][A-Za-z0-9]{23}",
        upper in "[A-Z0-9]{16}",
    ) {
        let logs = real_logs();
        let (name, bytes) = &logs[log % logs.len()];
        let (planted, shown) = secret(kind, &value, &upper);
        let mut at = ((bytes.len() as f64) * at) as usize;
        let mut text = planted.into_bytes();
        if own_line {
            at = bytes[at..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| at + i + 1);
            text.push(b'\n');
        }
        let planted_log = [&bytes[..at], &text, &bytes[at..]].concat();
        let out = every_output(&planted_log, name);
        prop_assert!(
            !contains(&out, &shown),
            "{name}: {:?} planted at byte {at} is in the output",
            String::from_utf8_lossy(&text)
        );
    }
}

/// A copy of two real logs with secrets in their steps' text.
fn planted_logs(dir: &Path) -> Vec<PathBuf> {
    let secrets = "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
                   aws_secret_access_key=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY \
                   NPM_TOKEN=npmsecretvalue42 \
                   && curl -H 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.bearer42' \
                   https://deploy:hunter2pass@git.example.com/x.git \
                   ghp_0123456789abcdefghijABCDEFGHIJ012345 &&";
    let mut paths = Vec::new();
    for name in ["nodeapp-warm.log", "nodeapp-deps-change.log"] {
        let text = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("sample-logs/real")
                .join(name),
        )
        .unwrap()
        .replace("RUN echo \"npm ci", &format!("RUN {secrets} echo \"npm ci"))
            + "ERROR: failed to push: Authorization: Basic dXNlcjpwYXNzd29yZDQy\n";
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        paths.push(path);
    }
    paths
}

const SHOWN: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
    "npmsecretvalue42",
    "bearer42",
    "hunter2pass",
    "0123456789abcdefghijABCDEFGHIJ012345",
];

fn cachelens(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("CACHELENS_NO_REDACT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Every byte under `dir`, Parquet files as the text of their string columns.
fn folder_text(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "parquet") {
                use polars::prelude::*;
                let df = ParquetReader::new(fs::File::open(&p).unwrap())
                    .finish()
                    .unwrap();
                for c in df.columns() {
                    if let Ok(strings) = c.str() {
                        for s in strings.iter().flatten() {
                            out.extend_from_slice(s.as_bytes());
                            out.push(b'\n');
                        }
                    }
                }
            } else {
                out.extend(fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn every_command_and_the_report_folder_are_redacted_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let logs = planted_logs(dir.path());
    let logs: Vec<&str> = logs.iter().map(|p| p.to_str().unwrap()).collect();
    let mut commands: Vec<Vec<&str>> = Vec::new();
    for f in ["table", "markdown", "json"] {
        commands.push(vec!["summary", "--all-steps", "--color", "always", "-f", f]);
    }
    for f in ["json", "ndjson", "csv"] {
        commands.push(vec!["steps", "-f", f]);
    }
    for f in ["text", "markdown", "json"] {
        commands.push(vec!["diagnose", "--all", "-f", f]);
    }
    let mut printed = Vec::new();
    for args in &commands {
        let args: Vec<&str> = args.iter().chain(&logs).copied().collect();
        let o = cachelens(&args, &[]);
        printed.extend(&o.stdout);
        printed.extend(&o.stderr);
        let shown: Vec<_> = SHOWN
            .iter()
            .filter(|s| contains(&o.stdout, s) || contains(&o.stderr, s))
            .collect();
        assert!(shown.is_empty(), "{args:?} printed {shown:?}");
    }
    assert!(contains(&printed, "NPM_TOKEN=[redacted]"));
    assert!(contains(&printed, "Authorization: Basic [redacted]"));

    let out = dir.path().join("report");
    let mut args = vec![
        "report",
        "--cache-size-gb",
        "1",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(&logs);
    let o = cachelens(&args, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = folder_text(&out);
    assert!(
        contains(&all, "NPM_TOKEN=[redacted]"),
        "the step is in the report"
    );
    for s in SHOWN {
        assert!(!contains(&all, s), "the report folder holds {s}");
    }

    // told not to: the secrets are printed as they are
    let mut args = vec!["steps"];
    args.extend(&logs);
    let mut no = args.clone();
    no.insert(1, "--no-redact");
    for o in [
        cachelens(&no, &[]),
        cachelens(&args, &[("CACHELENS_NO_REDACT", "1")]),
    ] {
        for s in SHOWN {
            assert!(contains(&o.stdout, s), "{s} not printed with --no-redact");
        }
    }
    let o = cachelens(&args, &[("CACHELENS_NO_REDACT", "0")]);
    assert!(
        !contains(&o.stdout, SHOWN[0]),
        "CACHELENS_NO_REDACT=0 redacts"
    );
}
