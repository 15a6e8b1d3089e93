//! The streaming path on the three corpus shapes (`cachelens::corpus`, made
//! at bench time from `sample-logs/real/`, 16 MiB each), in MiB/s of log: the
//! assembler alone, each `steps` writer and the summary table alone on parsed
//! builds, and the whole `steps --format ndjson` and `summary` paths (parse +
//! write, to a sink).
//! Process-level timings with `rg -c` and `wc -l` beside: `BENCHMARKS.md`.

use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;

use cachelens::corpus;
use cachelens::model::Build;
use cachelens::parse::{LogParser, ParseOptions, Parsed};
use cachelens::report::{StepsFormat, StepsWriter, SummaryFormat, SummaryWriter, TableOptions};
use cachelens::summary::Summary;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The binary's allocator (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Bytes handed to the parser at a time, as `Source::parse` reads them.
const PIECE: usize = 256 << 10;

/// The log parsed in pieces; `build` gets each build.
fn parse(log: &[u8], build: &mut dyn FnMut(Build)) {
    let mut parser = LogParser::new("bench.log", &ParseOptions::default());
    let mut take = |p| match p {
        Parsed::Build(b) => build(b),
        Parsed::Log(log) => drop(black_box(log)),
    };
    for piece in log.chunks(PIECE) {
        parser.push(piece, &mut take);
    }
    black_box(parser.finish(&mut take));
}

/// The corpora: 16 MiB each when benchmarking, 1 MiB when run once as a test
/// (`cargo test --benches`, a debug build).
fn corpora() -> Vec<(&'static str, Vec<u8>)> {
    let size = if std::env::args().any(|a| a == "--bench") {
        16 << 20
    } else {
        1 << 20
    };
    let logs = corpus::real_logs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real"))
        .expect("sample-logs/real");
    corpus::SHAPES
        .iter()
        .map(|(shape, make)| (*shape, make(&logs, size)))
        .collect()
}

fn stream(c: &mut Criterion) {
    for (shape, log) in corpora() {
        let mut group = c.benchmark_group(format!("stream/{shape}"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes(log.len() as u64));
        group.bench_function("assemble", |b| {
            b.iter(|| {
                let mut builds = 0usize;
                parse(&log, &mut |b| builds += black_box(b.steps.len()));
                builds
            })
        });
        let mut parsed = Vec::new();
        parse(&log, &mut |b| parsed.push(b));
        for (name, format) in [
            ("write-ndjson", StepsFormat::Ndjson),
            ("write-json", StepsFormat::Json),
            ("write-csv", StepsFormat::Csv),
        ] {
            group.bench_function(name, |b| {
                b.iter(|| {
                    let mut out = io::BufWriter::new(io::sink());
                    let mut w = StepsWriter::new(format, &mut out).expect("writer");
                    for build in &parsed {
                        w.build(build).expect("write");
                    }
                    w.finish().expect("finish");
                })
            });
        }
        group.bench_function("write-summary", |b| {
            b.iter(|| {
                let mut out = io::BufWriter::new(io::sink());
                let mut w =
                    SummaryWriter::new(SummaryFormat::Table, TableOptions::default(), &mut out);
                for build in &parsed {
                    w.build(&Summary::of(build)).expect("write");
                }
                w.finish().expect("finish");
                out.flush().expect("flush");
            })
        });
        group.bench_function("steps-ndjson", |b| {
            b.iter(|| {
                let mut out = io::BufWriter::new(io::sink());
                let mut w = StepsWriter::new(StepsFormat::Ndjson, &mut out).expect("writer");
                parse(&log, &mut |b| w.build(&b).expect("write"));
                w.finish().expect("finish");
            })
        });
        group.bench_function("summary-table", |b| {
            b.iter(|| {
                let mut out = io::BufWriter::new(io::sink());
                let mut w =
                    SummaryWriter::new(SummaryFormat::Table, TableOptions::default(), &mut out);
                parse(&log, &mut |b| w.build(&Summary::of(&b)).expect("write"));
                w.finish().expect("finish");
                out.flush().expect("flush");
            })
        });
        group.finish();
    }
}

criterion_group!(benches, stream);
criterion_main!(benches);
