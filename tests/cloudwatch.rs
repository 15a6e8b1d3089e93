//! CloudWatch Logs against a real AWS-API server (moto): real logs loaded as
//! CodeBuild-style streams, fetched into the archive and read back, compared
//! with reading the same text from files.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use cachelens::source::archive::{Event, read_file};
use cachelens::synth::{DockerBuild, RunSpec, codebuild_events, text};
use serde_json::Value;
use support::{Faults, Moto, Proxy, aws_env, sdk_config};

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");
const GROUP: &str = "/aws/codebuild/app";

fn real(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs/real")
            .join(name),
    )
    .unwrap()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The real logs a run builds, cycling through the set; `big` adds 40 builds
/// of the 215-line RUN so that the stream holds more than 10,000 events.
fn run_logs(i: usize, big: bool) -> Vec<(String, Vec<u8>)> {
    let names = [
        "nodeapp-cold.log",
        "nodeapp-warm.log",
        "nodeapp-partial-src-change.log",
        "remote-cache-from-missing-tag.log",
        "multistage-partial-backend-change.log",
        "remote-inline-cache-import.log",
        "failing-run-test.log",
    ];
    let mut logs = vec![(
        format!("docker build -t app:{i} ."),
        real(names[i % names.len()]),
    )];
    if big {
        for k in 0..40 {
            logs.push((
                format!("docker build -t gen:{k} gen/"),
                real("manylines-cold.log"),
            ));
        }
    }
    logs
}

/// Puts a run's events into a new stream, in batches under the API's limits
/// (10,000 events, 1 MiB counting 26 bytes per event) that moto does not enforce.
async fn put_stream(client: &aws_sdk_cloudwatchlogs::Client, stream: &str, events: &[Event]) {
    client
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let mut batch = Vec::new();
    let mut bytes = 0;
    for e in events {
        let size = e.message.len() + 26;
        if batch.len() == 10_000 || bytes + size > 1_048_576 {
            send(client, stream, std::mem::take(&mut batch)).await;
            bytes = 0;
        }
        bytes += size;
        batch.push(
            InputLogEvent::builder()
                .timestamp(e.timestamp)
                .message(&e.message)
                .build()
                .unwrap(),
        );
    }
    send(client, stream, batch).await;
}

async fn send(client: &aws_sdk_cloudwatchlogs::Client, stream: &str, batch: Vec<InputLogEvent>) {
    if batch.is_empty() {
        return;
    }
    client
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(stream)
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();
}

struct World {
    moto: Moto,
    dir: tempfile::TempDir,
    /// stream name → the log text CodeBuild would have written
    texts: BTreeMap<String, Vec<u8>>,
    /// events per stream
    events: BTreeMap<String, usize>,
    /// a stream ten days old, outside a 7-day window
    old_stream: String,
}

/// moto with `streams` recent CodeBuild runs (the first `big` of them over
/// 10,000 events) and one ten days old; builds started through moto's
/// CodeBuild so that BatchGetBuilds knows them.
fn world(streams: usize, big: usize) -> World {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (texts, events, old_stream) = rt.block_on(async {
        let config = sdk_config(&moto.url).await;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        let cb = aws_sdk_codebuild::Client::new(&config);
        use aws_sdk_codebuild::types::*;
        cb.create_project()
            .name("app")
            .source(
                ProjectSource::builder()
                    .r#type(SourceType::Codecommit)
                    .location("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/app")
                    .build()
                    .unwrap(),
            )
            .artifacts(
                ProjectArtifacts::builder()
                    .r#type(ArtifactsType::NoArtifacts)
                    .build()
                    .unwrap(),
            )
            .environment(
                ProjectEnvironment::builder()
                    .r#type(EnvironmentType::LinuxContainer)
                    .image("aws/codebuild/standard:7.0")
                    .compute_type(ComputeType::BuildGeneral1Small)
                    .build()
                    .unwrap(),
            )
            .service_role("arn:aws:iam::123456789012:role/codebuild")
            .send()
            .await
            .unwrap();
        logs.create_log_group()
            .log_group_name(GROUP)
            .send()
            .await
            .unwrap();
        let mut texts = BTreeMap::new();
        let mut counts = BTreeMap::new();
        let mut old = String::new();
        let start = now_ms() - 3 * 3_600_000;
        for i in 0..=streams {
            let build = cb.start_build().project_name("app").send().await.unwrap();
            let id = build
                .build_value()
                .expect("a build")
                .id()
                .unwrap()
                .to_owned();
            let uuid = id.split_once(':').unwrap().1.to_owned();
            let logs_of = run_logs(i, i < big);
            let builds = logs_of
                .iter()
                .map(|(cmd, out)| DockerBuild {
                    command: cmd,
                    output: out,
                    fails: false,
                })
                .collect();
            // the last stream is the old one
            let start_ms = if i == streams {
                now_ms() - 10 * 86_400_000
            } else {
                start + i as i64 * 60_000
            };
            let events = codebuild_events(&RunSpec { start_ms, builds });
            put_stream(&logs, &uuid, &events).await;
            counts.insert(uuid.clone(), events.len());
            texts.insert(uuid.clone(), text(&events));
            old = uuid;
        }
        (texts, counts, old)
    });
    World {
        moto,
        dir,
        texts,
        events,
        old_stream,
    }
}

impl World {
    fn archive(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cachelens(&self, endpoint: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(BIN);
        cmd.args(args).stdin(Stdio::null());
        aws_env(&mut cmd, endpoint);
        cmd.output().unwrap()
    }

    /// The text files of the recent streams, for the file side of a comparison.
    fn files(&self) -> PathBuf {
        let dir = self.dir.path().join("files");
        std::fs::create_dir_all(&dir).unwrap();
        for (stream, t) in self.texts.iter().filter(|(s, _)| **s != self.old_stream) {
            std::fs::write(dir.join(format!("{stream}.log")), t).unwrap();
        }
        dir
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Builds keyed by (stream, index), without the fields that name the source.
fn by_stream(out: &Output) -> BTreeMap<(String, u64), Value> {
    assert!(out.status.success(), "{}", stderr(out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut map = BTreeMap::new();
    for b in doc["builds"].as_array().unwrap() {
        let source = b["source"].as_str().unwrap();
        let stream = Path::new(source)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".log")
            .to_owned();
        let mut b = b.clone();
        let o = b.as_object_mut().unwrap();
        o.remove("source");
        o.remove("build_id");
        map.insert((stream, o["index"].as_u64().unwrap()), b);
    }
    map
}

/// `cachelens fetch --log-group GROUP` and more arguments.
fn fetch_args<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    [&["fetch", "--log-group", GROUP][..], rest].concat()
}

/// `N GetLogEvents calls` from a fetch's report line.
fn calls(out: &Output, what: &str) -> u64 {
    let err = stderr(out);
    let line = err
        .lines()
        .find(|l| l.contains(" GetLogEvents calls"))
        .unwrap_or_else(|| panic!("{err}"));
    let before = line.split(what).next().unwrap();
    before.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn fetch_of_a_group_equals_the_files_and_is_incremental() {
    let w = world(20, 20);
    let archive = w.archive("archive");
    let a = archive.to_str().unwrap();
    let big: Vec<_> = w
        .events
        .iter()
        .filter(|(s, n)| **s != w.old_stream && **n > 10_000)
        .collect();
    assert_eq!(big.len(), 20, "20 streams of more than 10,000 events each");

    let started = Instant::now();
    let fetch = w.cachelens(&w.moto.url, &fetch_args(&["--since", "7d", "--archive", a]));
    let elapsed = started.elapsed();
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let gets = calls(&fetch, "GetLogEvents");
    // pages of up to 10,000 events, and one last call that returns the same token
    let expected: u64 = big
        .iter()
        .map(|(_, n)| (**n as u64).div_ceil(10_000) + 1)
        .sum();
    assert_eq!(gets, expected, "{}", stderr(&fetch));
    eprintln!(
        "first fetch: {gets} GetLogEvents calls, {} DescribeLogStreams, {elapsed:?}",
        calls(&fetch, "DescribeLogStreams")
    );

    // every stream in the window, each complete, none from ten days ago
    let files: Vec<_> = std::fs::read_dir(archive.join("%2Faws%2Fcodebuild%2Fapp"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 20);
    for f in files {
        let s = read_file(&f.unwrap().path()).unwrap();
        assert!(s.header.complete);
        assert_ne!(s.header.log_stream, w.old_stream);
        assert_eq!(
            s.text(),
            w.texts[&s.header.log_stream],
            "archived text is the stream's text"
        );
        let build = s.header.build.expect("CodeBuild facts from BatchGetBuilds");
        assert_eq!(build.compute_type.as_deref(), Some("BUILD_GENERAL1_SMALL"));
        // what prices ARM, Lambda and GPU machines apart (moto reports every
        // build as LINUX_CONTAINER, whatever its project says)
        assert_eq!(build.environment_type.as_deref(), Some("LINUX_CONTAINER"));
        assert_eq!(
            build.build_id.as_ref().map(ToString::to_string),
            Some(format!("app:{}", s.header.log_stream))
        );
    }

    // the same records as the files, from the archive alone (no AWS call)
    let from_files = Command::new(BIN)
        .args(["steps", w.files().to_str().unwrap()])
        .output()
        .unwrap();
    let offline = w.cachelens(
        "http://127.0.0.1:9",
        &[
            "steps",
            "--log-group",
            GROUP,
            "--since",
            "7d",
            "--archive",
            a,
            "--offline",
        ],
    );
    let (files_map, cloud_map) = (by_stream(&from_files), by_stream(&offline));
    assert_eq!(cloud_map.len(), files_map.len());
    assert!(cloud_map.len() > 20 * 40, "{} builds", cloud_map.len());
    assert_eq!(
        cloud_map, files_map,
        "records over CloudWatch equal records from files"
    );
    let doc: Value = serde_json::from_slice(&offline.stdout).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 20, "one CodeBuild run per stream");
    assert!(runs[0]["build_id"].as_str().unwrap().starts_with("app:"));
    assert!(
        runs[0]["phases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "BUILD")
    );

    // a second fetch asks nothing of unchanged streams
    let again = w.cachelens(&w.moto.url, &fetch_args(&["--since", "7d", "--archive", a]));
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(calls(&again, "GetLogEvents"), 0, "{}", stderr(&again));
    assert!(
        stderr(&again).contains("(0 read, 20 unchanged)"),
        "{}",
        stderr(&again)
    );

    // a wider window takes the old stream too; summary over CloudWatch fetches and reads
    let wide = w.cachelens(
        &w.moto.url,
        &[
            "summary",
            "--format",
            "json",
            "--log-group",
            GROUP,
            "--since",
            "12d",
            "--archive",
            a,
        ],
    );
    assert!(wide.status.success(), "{}", stderr(&wide));
    assert_eq!(
        calls(&wide, "GetLogEvents"),
        2,
        "only the old stream is read: {}",
        stderr(&wide)
    );
}

#[test]
fn one_build_by_id_and_its_phases_in_the_summary() {
    let w = world(2, 0);
    let a = w.archive("archive");
    let stream = w
        .texts
        .keys()
        .find(|k| **k != w.old_stream)
        .unwrap()
        .clone();
    let id = format!("app:{stream}");
    let out = w.cachelens(
        &w.moto.url,
        &[
            "summary",
            "--build-id",
            &id,
            "--archive",
            a.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("CodeBuild run {id}")), "{text}");
    for phase in ["DOWNLOAD_SOURCE", "PRE_BUILD", "BUILD", "POST_BUILD"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(phase) && l.contains("SUCCEEDED")),
            "{phase}: {text}"
        );
    }
    assert!(
        text.contains(&format!("/aws/codebuild/app/{stream} · build 1")),
        "{text}"
    );

    // inside CodeBuild: --codebuild reads CODEBUILD_BUILD_ID
    let mut cmd = Command::new(BIN);
    cmd.args([
        "summary",
        "--codebuild",
        "--format",
        "json",
        "--archive",
        a.to_str().unwrap(),
    ]);
    aws_env(&mut cmd, &w.moto.url);
    let out = cmd.env("CODEBUILD_BUILD_ID", &id).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["builds"][0]["build_id"], id.as_str());
    assert_eq!(doc["builds"][0]["phase"], "BUILD");
}

#[test]
fn clear_errors_for_a_missing_group_and_missing_credentials() {
    let w = world(1, 0);
    let a = w.archive("archive");
    let out = w.cachelens(
        &w.moto.url,
        &[
            "fetch",
            "--log-group",
            "/aws/codebuild/nope",
            "--archive",
            a.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "cachelens: log group /aws/codebuild/nope not found"
    );

    let mut cmd = Command::new(BIN);
    cmd.args(fetch_args(&[
        "--archive",
        a.to_str().unwrap(),
        "--max-attempts",
        "1",
    ]));
    aws_env(&mut cmd, &w.moto.url);
    let out = cmd
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.to_lowercase().contains("credentials"), "{err}");
    assert!(
        !a.exists() || std::fs::read_dir(&a).unwrap().count() == 0,
        "nothing written"
    );

    let mut cmd = Command::new(BIN);
    cmd.args(fetch_args(&["--archive", a.to_str().unwrap()]));
    aws_env(&mut cmd, &w.moto.url);
    let out = cmd.env_remove("AWS_REGION").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no AWS region"), "{}", stderr(&out));
}

#[test]
fn throttling_and_5xx_are_retried_by_the_sdk() {
    let w = world(3, 1);
    let a = w.archive("archive");
    let proxy = Proxy::start(
        w.moto.port,
        Faults {
            every: 2,
            limit: 12,
            delay: Duration::ZERO,
        },
    );
    let out = w.cachelens(
        &proxy.url,
        &fetch_args(&["--archive", a.to_str().unwrap(), "--no-codebuild-api"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let injected = proxy.injected.load(std::sync::atomic::Ordering::Relaxed);
    assert!(injected >= 4, "{injected} faults injected");
    let direct = w.archive("direct");
    let clean = w.cachelens(
        &w.moto.url,
        &fetch_args(&["--archive", direct.to_str().unwrap(), "--no-codebuild-api"]),
    );
    assert!(clean.status.success(), "{}", stderr(&clean));
    assert_eq!(
        same_events(&a, &direct),
        3,
        "the retried fetch got every event"
    );

    // without retries the first fault is the answer: one clear line, no archive file
    let proxy = Proxy::start(
        w.moto.port,
        Faults {
            every: 1,
            limit: 1,
            delay: Duration::ZERO,
        },
    );
    let none = w.archive("none");
    let out = w.cachelens(
        &proxy.url,
        &fetch_args(&[
            "--archive",
            none.to_str().unwrap(),
            "--max-attempts",
            "1",
            "--no-codebuild-api",
        ]),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ThrottlingException"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Compares the events of every stream in two archives; the number of streams.
fn same_events(a: &Path, b: &Path) -> usize {
    let list = |p: &Path| {
        let mut v: Vec<_> = walk(p)
            .into_iter()
            .map(|f| f.strip_prefix(p).unwrap().to_path_buf())
            .collect();
        v.sort();
        v
    };
    let (la, lb) = (list(a), list(b));
    assert_eq!(la, lb);
    for (x, y) in la
        .iter()
        .map(|f| a.join(f))
        .zip(lb.iter().map(|f| b.join(f)))
    {
        let (sx, sy) = (read_file(&x).unwrap(), read_file(&y).unwrap());
        assert_eq!(sx.events, sy.events, "{}", x.display());
        assert!(sx.header.complete && sy.header.complete);
    }
    la.len()
}

/// The archive stream files under a folder (temporary files left by a kill are not).
fn walk(p: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_killed_fetch_leaves_whole_files_and_resumes() {
    let w = world(2, 2);
    let a = w.archive("archive");
    // slow responses, one stream at a time, a checkpoint after every page
    let proxy = Proxy::start(
        w.moto.port,
        Faults {
            every: 0,
            limit: 0,
            delay: Duration::from_millis(400),
        },
    );
    let mut cmd = Command::new(BIN);
    cmd.args(fetch_args(&[
        "--archive",
        a.to_str().unwrap(),
        "--concurrency",
        "1",
        "--checkpoint-pages",
        "1",
        "--no-codebuild-api",
    ]))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    aws_env(&mut cmd, &proxy.url);
    let mut child = cmd.spawn().unwrap();
    let group_dir = a.join("%2Faws%2Fcodebuild%2Fapp");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let checkpointed = group_dir.exists()
            && walk(&a)
                .iter()
                .any(|f| read_file(f).is_ok_and(|s| !s.header.complete && !s.events.is_empty()));
        if checkpointed {
            break;
        }
        assert!(Instant::now() < deadline, "no checkpoint written");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // every archive file is whole (it parses); the checkpoint is incomplete
    let files = walk(&a);
    assert!(!files.is_empty());
    for f in &files {
        read_file(f).unwrap();
    }

    // a temporary file of an older cachelens, killed an hour ago
    let legacy = group_dir.join(".tmpAb12Cd");
    std::fs::write(&legacy, "half a stream").unwrap();
    std::fs::File::open(&legacy)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();

    let resumed = w.cachelens(
        &w.moto.url,
        &fetch_args(&["--archive", a.to_str().unwrap(), "--no-codebuild-api"]),
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    // the killed fetch's temporary files are gone (its pid is dead), and the old one
    let temps: Vec<_> = std::fs::read_dir(&group_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    assert!(stderr(&resumed).contains("removed"), "{}", stderr(&resumed));
    let direct = w.archive("direct");
    let clean = w.cachelens(
        &w.moto.url,
        &fetch_args(&["--archive", direct.to_str().unwrap(), "--no-codebuild-api"]),
    );
    assert!(
        calls(&resumed, "GetLogEvents") < calls(&clean, "GetLogEvents"),
        "resumed from the checkpoint"
    );
    assert_eq!(same_events(&a, &direct), 2);
}

#[test]
fn a_damaged_archive_file_is_reported_the_rest_read_and_fetch_repairs_it() {
    let w = world(4, 0);
    let a = w.archive("archive");
    let a_str = a.to_str().unwrap();
    let args = fetch_args(&["--since", "7d", "--archive", a_str, "--no-codebuild-api"]);
    let fetch = w.cachelens(&w.moto.url, &args);
    assert!(fetch.status.success(), "{}", stderr(&fetch));
    let offline = |cmd: &str, rest: &[&str]| {
        let all = [&[cmd, "--archive", a_str, "--offline"][..], rest].concat();
        w.cachelens(&w.moto.url, &all)
    };
    let whole = offline("steps", &[]);
    let all = by_stream(&whole);

    // one file cut in the middle of a line, one cut at a line end
    let files = walk(&a);
    assert_eq!(files.len(), 4);
    let text = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &text[..text.len() - 7]).unwrap();
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&files[1], lines[..lines.len() - 3].join("\n") + "\n").unwrap();
    let damaged = [&files[0], &files[1]].map(|f| f.display().to_string());

    for (cmd, rest) in [
        ("steps", &[][..]),
        ("summary", &[][..]),
        ("diagnose", &["--all"][..]),
        (
            "report",
            &["--out", w.dir.path().join("r").to_str().unwrap()][..],
        ),
    ] {
        let o = offline(cmd, rest);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        for d in &damaged {
            assert!(
                err.contains(&format!("skipped: archive {d}, line ")),
                "{cmd}: {err}"
            );
        }
        assert!(err.contains("2 inputs could not be read"), "{cmd}: {err}");
        assert!(!o.stdout.is_empty(), "{cmd}: the rest is printed");
    }
    let rest = offline("steps", &[]);
    let doc: Value = serde_json::from_slice(&rest.stdout).unwrap();
    let sources: std::collections::BTreeSet<&str> = doc["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2, "the two whole streams: {sources:?}");

    // fetch does not call them unchanged: it reads both again, whole
    let again = w.cachelens(&w.moto.url, &args);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        stderr(&again).matches(": fetched again").count(),
        2,
        "{}",
        stderr(&again)
    );
    assert!(
        stderr(&again).contains("(2 read, 2 unchanged)"),
        "{}",
        stderr(&again)
    );
    assert_eq!(by_stream(&offline("steps", &[])), all);
}

#[test]
fn one_stream_that_cannot_be_read_does_not_stop_the_others() {
    let w = world(4, 0);
    let a = w.archive("archive");
    // one stream at a time, no retries: the third request (a GetLogEvents) fails
    let proxy = Proxy::start(
        w.moto.port,
        Faults {
            every: 3,
            limit: 1,
            delay: Duration::ZERO,
        },
    );
    let out = w.cachelens(
        &proxy.url,
        &[
            "steps",
            "--log-group",
            GROUP,
            "--since",
            "7d",
            "--archive",
            a.to_str().unwrap(),
            "--max-attempts",
            "1",
            "--concurrency",
            "1",
            "--no-codebuild-api",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("skipped: GetLogEvents on /aws/codebuild/app/")
            .count(),
        1,
        "{err}"
    );
    assert!(err.contains("ThrottlingException"), "{err}");
    assert!(
        err.contains("4 streams (3 read, 0 unchanged, 1 failed)"),
        "{err}"
    );
    assert!(err.contains("1 input could not be read"), "{err}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources: std::collections::BTreeSet<&str> = doc["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 3, "the three streams read: {err}");
    assert_eq!(walk(&a).len(), 3);
}
