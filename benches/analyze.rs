//! Builds per second through the whole analysis (parse + rayon rows + polars
//! tables) on the shipped demo archive, with 1 and 2 rayon threads; and the
//! cost of a whole post_build summary of one log (parse, figures, table).

use std::hint::black_box;
use std::path::Path;

use cachelens::analyze::frames::{Options, analyze};
use cachelens::analyze::{ReadOptions, parse_sources};
use cachelens::cost::Pricing;
use cachelens::parse::parse_log;
use cachelens::report::{self, SummaryFormat, TableOptions};
use cachelens::source::Source;
use cachelens::source::archive::Archive;
use cachelens::summary::SourceSummary;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn demo(c: &mut Criterion) {
    let archive = Archive::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/demo"));
    let sources: Vec<Source> = archive
        .stream_files(None)
        .expect("demo archive")
        .into_iter()
        .map(Source::Archived)
        .collect();
    let (logs, skipped) = parse_sources(&sources, &ReadOptions::default());
    assert!(skipped.is_empty(), "demo archive: {skipped:?}");
    let builds: usize = logs.iter().map(|l| l.builds.len()).sum();
    let pricing = Pricing::embedded();
    let options = Options::new(&pricing);
    let mut group = c.benchmark_group("analyze");
    group.throughput(Throughput::Elements(builds as u64));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        group.bench_function(format!("demo-read-parse-analyze/{threads}-threads"), |b| {
            b.iter(|| {
                pool.install(|| {
                    let logs = parse_sources(black_box(&sources), &ReadOptions::default()).0;
                    analyze(&logs, &[], &options).expect("analysis")
                })
            })
        });
        group.bench_function(format!("demo-analyze-only/{threads}-threads"), |b| {
            b.iter(|| pool.install(|| analyze(black_box(&logs), &[], &options).expect("analysis")))
        });
    }
    group.finish();
}

fn summary(c: &mut Criterion) {
    let log = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs/real/multistage-partial-backend-change.log"),
    )
    .expect("log");
    c.bench_function("summary/table/one-log", |b| {
        b.iter(|| {
            let parsed = parse_log(black_box(&log), "bench");
            let summaries = [SourceSummary::of(&parsed)];
            let mut out = Vec::with_capacity(4096);
            report::write_summary(
                SummaryFormat::Table,
                &summaries,
                TableOptions::default(),
                &mut out,
            )
            .expect("write");
            out
        })
    });
}

criterion_group!(benches, demo, summary);
criterion_main!(benches);
