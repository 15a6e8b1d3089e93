//! S3 against a real AWS-API server (moto): `report --out s3://…` writes the
//! report and grows its dataset week by week (a re-run replaces only its own
//! weeks' objects, never a prefix cachelens did not write), and `--s3-logs`
//! reads CodeBuild's S3 build logs (`<prefix><uuid>.gz`) into the archive,
//! incrementally, with their CodeBuild facts, skipping one bad object.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::primitives::ByteStream;
use cachelens::synth::{DockerBuild, RunSpec, codebuild_events, text};
use serde_json::Value;
use support::{Moto, aws_env, sdk_config};

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cachelens(moto: &Moto, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(root()).args(args).stdin(Stdio::null());
    aws_env(&mut cmd, &moto.url);
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    let config = sdk_config(&moto.url).await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// Every object under `prefix`: key → (bytes, LastModified).
async fn objects(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> BTreeMap<String, (Vec<u8>, String)> {
    let list = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for o in list.contents() {
        let key = o.key().unwrap().to_owned();
        let body = client
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        out.insert(key, (body, format!("{:?}", o.last_modified())));
    }
    out
}

/// The demo archive's report for one window, to `out`.
fn report(moto: &Moto, since: &str, until: &str, out: &str) -> Output {
    cachelens(
        moto,
        &[
            "report",
            "--archive",
            "sample-logs/demo",
            "--cache-size-gb",
            "12",
            "--since",
            since,
            "--until",
            until,
            "--out",
            out,
        ],
    )
}

fn rows(parquet: &[u8]) -> (usize, Vec<String>) {
    use polars::prelude::*;
    let df = ParquetReader::new(std::io::Cursor::new(parquet.to_vec()))
        .finish()
        .unwrap();
    let mut ids: Vec<String> = df
        .column("build_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    (df.height(), ids)
}

const W40: &str = "team/dataset/steps/week=2026-09-28/00000000.parquet";
const W41: &str = "team/dataset/steps/week=2026-10-05/00000000.parquet";
const W42: &str = "team/dataset/steps/week=2026-10-12/00000000.parquet";

#[test]
fn a_report_to_s3_grows_its_dataset_week_by_week() {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(s3(&moto));
    rt.block_on(async {
        client
            .create_bucket()
            .bucket("reports")
            .send()
            .await
            .unwrap();
        client
            .put_object()
            .bucket("reports")
            .key("theirs/notes.txt")
            .body(ByteStream::from_static(b"not cachelens'"))
            .send()
            .await
            .unwrap();
    });

    // weeks 40 and 41
    let o = report(
        &moto,
        "2026-09-28",
        "2026-10-11T23:59:59Z",
        "s3://reports/team/",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let first = rt.block_on(objects(&client, "reports", "team/"));
    for key in [
        "team/.cachelens-report",
        "team/index.html",
        "team/report.md",
        "team/totals.json",
        "team/tables/hit_rate_by_week.csv",
        "team/dataset/schema.json",
        "team/dataset/athena.sql",
        W40,
        W41,
    ] {
        assert!(first.contains_key(key), "{key}: {:?}", first.keys());
    }
    assert!(!first.contains_key(W42));
    let sql = String::from_utf8(first["team/dataset/athena.sql"].0.clone()).unwrap();
    assert!(
        sql.contains("LOCATION 's3://reports/team/dataset/steps/'"),
        "{sql}"
    );
    assert!(!sql.contains("YOUR-BUCKET"));

    // week 42 is added; weeks 40 and 41 are untouched
    let o = report(
        &moto,
        "2026-10-12",
        "2026-10-18T23:59:59Z",
        "s3://reports/team/",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let second = rt.block_on(objects(&client, "reports", "team/"));
    assert!(second.contains_key(W42));
    assert_eq!(second[W40], first[W40]);
    assert_eq!(second[W41], first[W41]);

    // week 41 again: its object is replaced with the same builds (no row twice), the others untouched
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let o = report(
        &moto,
        "2026-10-05",
        "2026-10-11T23:59:59Z",
        "s3://reports/team/",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let third = rt.block_on(objects(&client, "reports", "team/"));
    assert_eq!(third[W40], second[W40]);
    assert_eq!(third[W42], second[W42]);
    assert_ne!(third[W41].1, second[W41].1, "week 41 was written again");
    assert_eq!(rows(&third[W41].0), rows(&first[W41].0));
    // the same week as in a report of the whole demo, locally
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("all");
    let o = cachelens(
        &moto,
        &[
            "report",
            "--archive",
            "sample-logs/demo",
            "--cache-size-gb",
            "12",
            "--out",
            local.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let whole =
        std::fs::read(local.join("dataset/steps/week=2026-10-05/00000000.parquet")).unwrap();
    assert_eq!(rows(&third[W41].0), rows(&whole));
    assert!(rows(&whole).0 > 100);
    // the grown dataset, read by real engines: its weeks' hit rates are the whole report's
    if engines_installed() {
        std::fs::remove_dir_all(local.join("dataset")).unwrap();
        for (key, (bytes, _)) in &third {
            if let Some(rel) = key.strip_prefix("team/dataset/") {
                let path = local.join("dataset").join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
        }
        let o = Command::new("python3")
            .arg(root().join("tests/engines/dataset.py"))
            .arg(&local)
            .args(["--weekly", "pyarrow", "duckdb", "athena-sql"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(said.contains("duckdb: 3 files"), "{said}");
    }

    // a prefix cachelens did not write is refused and left as it was
    let o = report(
        &moto,
        "2026-10-05",
        "2026-10-11T23:59:59Z",
        "s3://reports/theirs/",
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cachelens did not write it"),
        "{}",
        stderr(&o)
    );
    let theirs = rt.block_on(objects(&client, "reports", "theirs/"));
    assert_eq!(theirs.keys().collect::<Vec<_>>(), ["theirs/notes.txt"]);
}

/// Whether python3 has the engines `tests/run.sh` installs (it sets
/// `CACHELENS_REQUIRE_ENGINES`, so that a missing one fails there).
fn engines_installed() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import pyarrow, duckdb, sqlglot"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CACHELENS_REQUIRE_ENGINES").is_none(),
            "pyarrow, duckdb or sqlglot is missing (tests/run.sh installs them)"
        );
        eprintln!(
            "SKIPPED the engines on the grown dataset: pyarrow, duckdb or sqlglot is missing"
        );
    }
    found
}

fn real(name: &str) -> Vec<u8> {
    std::fs::read(root().join("sample-logs/real").join(name)).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Started through moto's CodeBuild, so that ListBuilds and BatchGetBuilds know them.
async fn start_builds(config: &aws_config::SdkConfig, n: usize) -> Vec<String> {
    use aws_sdk_codebuild::types::*;
    let cb = aws_sdk_codebuild::Client::new(config);
    cb.create_project()
        .name("api")
        .source(
            ProjectSource::builder()
                .r#type(SourceType::Codecommit)
                .location("https://git-codecommit.us-east-1.amazonaws.com/v1/repos/api")
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
                .compute_type(ComputeType::BuildGeneral1Medium)
                .build()
                .unwrap(),
        )
        .service_role("arn:aws:iam::123456789012:role/codebuild")
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..n {
        let b = cb.start_build().project_name("api").send().await.unwrap();
        ids.push(b.build_value().unwrap().id().unwrap().to_owned());
    }
    ids
}

fn steps_by_source(o: &Output) -> BTreeMap<String, Value> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let name = b["source"].as_str().unwrap();
            let uuid = name.rsplit('/').next().unwrap().trim_end_matches(".log");
            (format!("{uuid}#{}", b["index"]), b["steps"].clone())
        })
        .collect()
}

#[test]
fn codebuild_s3_logs_are_read_once_with_their_facts_and_a_bad_object_is_skipped() {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let names = [
        "nodeapp-cold.log",
        "nodeapp-warm.log",
        "multistage-warm.log",
    ];
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let uuids = rt.block_on(async {
        let config = sdk_config(&moto.url).await;
        let ids = start_builds(&config, names.len()).await;
        let client = s3(&moto).await;
        client
            .create_bucket()
            .bucket("ci-logs")
            .send()
            .await
            .unwrap();
        let mut uuids = Vec::new();
        for (i, (id, name)) in ids.iter().zip(names).enumerate() {
            let uuid = id.split_once(':').unwrap().1.to_owned();
            let output = real(name);
            let events = codebuild_events(&RunSpec {
                start_ms: now - 3_600_000 + i as i64 * 60_000,
                builds: vec![DockerBuild {
                    command: "docker build -t api .",
                    output: &output,
                    fails: false,
                }],
            });
            let log = text(&events);
            std::fs::write(files.join(format!("{uuid}.log")), &log).unwrap();
            client
                .put_object()
                .bucket("ci-logs")
                .key(format!("codebuild/api/{uuid}.gz"))
                .body(ByteStream::from(gzip(&log)))
                .send()
                .await
                .unwrap();
            uuids.push(uuid);
        }
        // not gzip: reported and skipped; not a log object: ignored
        for (key, body) in [
            (
                "codebuild/api/00000000-dead-beef-0000-000000000000.gz",
                &b"oops"[..],
            ),
            ("codebuild/api/README.txt", &b"hello"[..]),
        ] {
            client
                .put_object()
                .bucket("ci-logs")
                .key(key)
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await
                .unwrap();
        }
        uuids
    });
    let archive = dir.path().join("archive");
    let args = [
        "steps",
        "--s3-logs",
        "s3://ci-logs/codebuild/api/",
        "--archive",
        archive.to_str().unwrap(),
        "--format",
        "json",
    ];
    let o = cachelens(&moto, &args);
    let said = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "one object skipped: {said}");
    assert!(
        said.contains("00000000-dead-beef-0000-000000000000.gz: not a gzip log"),
        "{said}"
    );
    assert!(
        said.contains("4 build logs (3 read, 0 unchanged, 1 failed)"),
        "{said}"
    );
    let from_s3 = steps_by_source(&o);
    let f = cachelens(
        &moto,
        &["steps", files.to_str().unwrap(), "--format", "json"],
    );
    assert!(f.status.success(), "{}", stderr(&f));
    assert_eq!(from_s3, steps_by_source(&f));
    assert_eq!(from_s3.len(), 3);
    // the CodeBuild facts: each build's id and project
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut ids: Vec<&str> = v["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["build_id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want: Vec<String> = uuids.iter().map(|u| format!("api:{u}")).collect();
    want.sort();
    assert_eq!(ids, want);

    // again: nothing read twice; the bad object is said again
    let o = cachelens(&moto, &args);
    let said = stderr(&o);
    assert!(
        said.contains("4 build logs (0 read, 3 unchanged, 1 failed)"),
        "{said}"
    );
    assert_eq!(steps_by_source(&o), from_s3);
    // `fetch --s3-logs` reads S3 only, even where cachelens.toml names a log group
    let config = dir.path().join("cachelens.toml");
    std::fs::write(&config, "log-group = \"/aws/codebuild/none\"\n").unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "fetch",
        "--s3-logs",
        "s3://ci-logs/codebuild/api/",
        "--archive",
    ])
    .arg(&archive)
    .env("CACHELENS_CONFIG", &config)
    .stdin(Stdio::null());
    aws_env(&mut cmd, &moto.url);
    let o = cmd.output().unwrap();
    let said = stderr(&o);
    assert!(said.contains("(0 read, 3 unchanged, 1 failed)"), "{said}");
    assert!(!said.contains("/aws/codebuild/none"), "{said}");
    // offline: the archive alone
    let mut offline = args.to_vec();
    offline.push("--offline");
    let o = cachelens(&moto, &offline);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(steps_by_source(&o), from_s3);
}
