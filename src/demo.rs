//! The demo archive: six weeks of CodeBuild runs of three projects, made from
//! the real logs in `sample-logs/real/` by a seeded, deterministic generator,
//! so that `report` has something meaningful to show without an AWS account.
//!
//! What the generator changes in the real logs, and nothing else:
//! - `DONE` times are scaled ×45 (the real builds sleep seconds where real
//!   projects spend minutes);
//! - cache import and export vertices, 0.0 s against a registry on loopback,
//!   take 2–9 s, as against ECR across a network;
//! - the loopback registry `127.0.0.1:5000/<repo>` becomes an ECR repository.
//!
//! The story: `web` (the nodeapp context) mostly changes its source and hits
//! its dependency layers; bumps dependencies now and then; its Monday builds
//! start cold after a base-image update; feature-branch builds import a cache
//! without their scope (nothing hits); the cache tag is missing on two days of
//! week 4 (an import outage). `api` (the multistage context) changes its
//! backend and shows the limit of inline cache. `worker` prints a lot and
//! fails its tests now and then.

use std::path::Path;

use chrono::{DateTime, Datelike, Utc, Weekday};

use crate::model::{BuildId, BuildMetadata};
use crate::source::archive::{Archive, ArchiveError, Stream};
use crate::splitmix::SplitMix;
use crate::synth::{DockerBuild, RunSpec, codebuild_events};

/// First day of the demo: Monday 2026-09-28, 00:00 UTC.
pub const START_MS: i64 = 1_790_553_600_000;
/// Weeks of builds.
pub const WEEKS: i64 = 6;
const DAY_MS: i64 = 86_400_000;
const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A random version 4 UUID.
fn uuid(rng: &mut SplitMix) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// The real logs the generator reads, by file name.
pub trait Logs {
    /// The bytes of `sample-logs/real/<name>`.
    fn get(&self, name: &str) -> Vec<u8>;
}

impl<F: Fn(&str) -> Vec<u8>> Logs for F {
    fn get(&self, name: &str) -> Vec<u8> {
        self(name)
    }
}

/// Reads the real logs from a folder.
pub fn logs_in(dir: &Path) -> impl Logs + '_ {
    move |name: &str| std::fs::read(dir.join(name)).unwrap_or_default()
}

struct Project {
    name: &'static str,
    compute_type: &'static str,
    builds_per_day: u64,
    registry_repo: &'static str,
}

const PROJECTS: [Project; 3] = [
    Project {
        name: "web",
        compute_type: "BUILD_GENERAL1_MEDIUM",
        builds_per_day: 3,
        registry_repo: "app",
    },
    Project {
        name: "api",
        compute_type: "BUILD_GENERAL1_LARGE",
        builds_per_day: 2,
        registry_repo: "web",
    },
    Project {
        name: "worker",
        compute_type: "BUILD_GENERAL1_SMALL",
        builds_per_day: 1,
        registry_repo: "app",
    },
];

/// Which real log a build of a project replays, on a day (0-based) and slot.
fn scenario(
    p: &Project,
    day: i64,
    slot: u64,
    branch_build: bool,
    rng: &mut SplitMix,
) -> (&'static str, bool) {
    let weekday = day % 7;
    let outage = day / 7 == 3 && (weekday == 2 || weekday == 3); // week 4, Wed and Thu
    match p.name {
        "web" if outage => ("remote-cache-from-missing-tag.log", false),
        "web" if weekday == 0 && slot == 0 => ("remote-inline-cache-export.log", false),
        "web" if branch_build && rng.below(2) == 0 => {
            ("remote-cache-from-no-inline-metadata.log", false)
        }
        "web" => match rng.below(20) {
            0..=10 => ("remote-inline-cache-import-partial.log", false),
            11..=15 => ("remote-inline-cache-import.log", false),
            16..=18 => ("nodeapp-deps-change.log", false),
            _ => ("nodeapp-partial-src-change.log", false),
        },
        "api" if weekday == 0 && slot == 0 => ("remote-multistage-inline-export.log", false),
        "api" => match rng.below(10) {
            0..=5 => ("remote-multistage-inline-import-partial.log", false),
            6..=8 => ("remote-multistage-inline-import.log", false),
            _ => ("multistage-partial-backend-change.log", false),
        },
        _ => match rng.below(8) {
            0 => ("failing-run-test.log", true),
            1 => ("failing-run-test-rerun.log", true),
            _ => ("manylines-cold.log", false),
        },
    }
}

/// The generator's changes to a real log (see the module's documentation).
fn adapt(log: &[u8], registry_repo: &str, project: &str, rng: &mut SplitMix) -> Vec<u8> {
    let text = String::from_utf8_lossy(log).replace(
        &format!("127.0.0.1:5000/{registry_repo}:"),
        &format!("{ECR}/{project}:"),
    );
    let mut cache_vertices: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        if let Some((vertex, name)) = body.strip_prefix('#').and_then(|b| b.split_once(' '))
            && (name.starts_with("importing cache manifest from ") || name == "exporting cache")
            && !cache_vertices.iter().any(|v| v == vertex)
        {
            cache_vertices.push(vertex.to_owned());
        }
        let done = body
            .strip_prefix('#')
            .and_then(|b| b.split_once(" DONE "))
            .and_then(|(v, t)| Some((v, t.strip_suffix('s')?.parse::<f64>().ok()?)));
        match done {
            Some((vertex, secs)) => {
                let secs = if cache_vertices.iter().any(|v| v == vertex) {
                    2.0 + rng.below(70) as f64 / 10.0
                } else {
                    secs * 45.0
                };
                out.push_str(&format!("#{vertex} DONE {secs:.1}s\n"));
            }
            None => out.push_str(line),
        }
    }
    out.into_bytes()
}

/// Writes the demo archive into `dir` (its streams replaced); returns the number of runs.
pub fn write_demo(logs: &impl Logs, dir: &Path) -> Result<usize, ArchiveError> {
    write_scaled(logs, dir, 1)
}

/// The demo archive with `scale` times as many builds a day (180 × `scale`
/// runs): the benchmarks' large archives.
pub fn write_scaled(logs: &impl Logs, dir: &Path, scale: u64) -> Result<usize, ArchiveError> {
    let archive = Archive::new(dir);
    let mut rng = SplitMix::new(0x000c_ac4e_1e45_de40);
    let mut runs = 0;
    for day in 0..WEEKS * 7 {
        let date =
            DateTime::<Utc>::from_timestamp_millis(START_MS + day * DAY_MS).unwrap_or_default();
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for p in &PROJECTS {
            for slot in 0..p.builds_per_day * scale {
                let branch_build = rng.below(4) == 0;
                let (file, fails) = scenario(p, day, slot / scale, branch_build, &mut rng);
                let output = adapt(&logs.get(file), p.registry_repo, p.name, &mut rng);
                let start_ms = START_MS
                    + day * DAY_MS
                    + (8 + (slot / scale) as i64 * 3) * 3_600_000
                    + (slot % scale) as i64 * 10_000
                    + rng.below(3_000_000) as i64;
                let command = format!(
                    "docker build --cache-from {ECR}/{}:cache -t {ECR}/{}:latest .",
                    p.name, p.name
                );
                let events = codebuild_events(&RunSpec {
                    start_ms,
                    builds: vec![DockerBuild {
                        command: &command,
                        output: &output,
                        fails,
                    }],
                });
                let uuid = uuid(&mut rng);
                let group = format!("/aws/codebuild/{}", p.name);
                let mut stream = Stream::new(&group, &uuid);
                stream.extend(events);
                let h = &mut stream.header;
                h.complete = true;
                h.last_ingestion_time = h.last_event_time;
                h.build = Some(BuildMetadata {
                    build_id: Some(BuildId::new(p.name, &uuid)),
                    project: Some(p.name.to_owned()),
                    status: Some(if fails { "FAILED" } else { "SUCCEEDED" }.to_owned()),
                    compute_type: Some(p.compute_type.to_owned()),
                    environment_type: None,
                    source_version: Some(if branch_build {
                        format!("feature/{}-{}", p.name, 100 + rng.below(40))
                    } else {
                        "refs/heads/main".to_owned()
                    }),
                    resolved_source_version: Some(format!(
                        "{:040x}",
                        u128::from(rng.next_u64()) << 32
                    )),
                    initiator: Some(format!("GitHub-Hookshot/{:07x}", rng.below(1 << 28))),
                    start_time: h.first_event_time,
                    end_time: h.last_event_time,
                });
                archive.write(&stream)?;
                runs += 1;
            }
        }
    }
    Ok(runs)
}
