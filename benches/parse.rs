//! Parse throughput on the real logs in `sample-logs/real/` (MB/s): a benchmark
//! of the core crate alone (`cargo bench -p cachelens-core`).

use std::fs;
use std::hint::black_box;

use cachelens_core::parse::{ParseOptions, parse_log, parse_log_with};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn real_logs() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-logs/real");
    let mut logs: Vec<_> = fs::read_dir(dir)
        .expect("sample-logs/real")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| (p.display().to_string(), fs::read(&p).expect("log")))
        .collect();
    logs.sort();
    logs
}

fn parse(c: &mut Criterion) {
    let logs = real_logs();
    // every real log back to back, repeated to about 4 MiB: several builds per
    // input, as in a CI log that builds many images
    let mut all = Vec::new();
    while all.len() < 4 << 20 {
        for (_, bytes) in &logs {
            all.extend_from_slice(bytes);
        }
    }
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(all.len() as u64));
    group.bench_function("real-logs-4MiB", |b| {
        b.iter(|| parse_log(black_box(&all), "bench"))
    });
    // the same without redaction: what redacting the kept text costs
    let unredacted = ParseOptions {
        redact: false,
        ..ParseOptions::default()
    };
    group.bench_function("real-logs-4MiB-no-redact", |b| {
        b.iter(|| parse_log_with(black_box(&all), "bench", &unredacted))
    });
    // one RUN printing many output lines: the `#N <secs> <text>` fast path
    let manylines = &logs
        .iter()
        .find(|(n, _)| n.ends_with("manylines-cold.log"))
        .expect("manylines-cold.log")
        .1;
    let mut many = Vec::new();
    while many.len() < 4 << 20 {
        many.extend_from_slice(manylines);
    }
    group.throughput(Throughput::Bytes(many.len() as u64));
    group.bench_function("manylines-4MiB", |b| {
        b.iter(|| parse_log(black_box(&many), "bench"))
    });
    // the same logs as a CI framed them: a GitHub Actions stamp on every line
    let mut framed = Vec::new();
    for (i, line) in all.split_inclusive(|&b| b == b'\n').enumerate() {
        let stamp = format!(
            "2024-01-01T12:{:02}:{:02}.{:07}Z ",
            i / 60 % 60,
            i % 60,
            i % 10_000_000
        );
        framed.extend_from_slice(stamp.as_bytes());
        framed.extend_from_slice(line);
    }
    group.throughput(Throughput::Bytes(framed.len() as u64));
    group.bench_function("github-framed-real-logs", |b| {
        b.iter(|| parse_log(black_box(&framed), "bench"))
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
