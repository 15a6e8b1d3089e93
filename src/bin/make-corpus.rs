//! Writes the benchmark corpora (`BENCHMARKS.md`) into a folder, made from
//! `sample-logs/real/` by a deterministic generator (never committed):
//!
//! `cargo run --release --bin make-corpus -- OUT [MIB] [RUNS…]`
//!
//! - `header-heavy.log`, `output-heavy.log`, `codebuild.log`: `MIB` MiB each (default 256);
//! - `archive-<runs>/`: for each `RUNS` given, an archive of at least that many
//!   CodeBuild runs (the demo's generator, scaled), for `report --archive`.
//!
//! `OUT` is replaced whole when `make-corpus` wrote it (it holds `.cachelens-corpus`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use cachelens::corpus;
use cachelens::safe_write::{self, OutDir};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    // `--help` is not a folder to fill with 768 MiB (a folder named so: `./--help`)
    let Some(out) = args
        .next()
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
    else {
        bail!("usage: make-corpus OUT [MIB] [RUNS…]");
    };
    let mib: usize = args.next().map_or(Ok(256), |a| a.parse()).context("MIB")?;
    let runs: Vec<u64> = args
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .context("RUNS")?;
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
    let logs = corpus::real_logs(&real)?;
    let dir = OutDir::check(&out, std::slice::from_ref(&real), safe_write::CORPUS, false)?;
    dir.write(|staged| {
        for (shape, make) in corpus::SHAPES {
            let name = format!("{shape}.log");
            std::fs::write(staged.join(&name), make(&logs, mib << 20))?;
            println!("{}", out.join(name).display());
        }
        for &n in &runs {
            let archive = staged.join(format!("archive-{n}"));
            let scale = n.div_ceil(180).max(1);
            let written =
                cachelens::demo::write_scaled(&cachelens::demo::logs_in(&real), &archive, scale)?;
            println!(
                "{} ({written} runs)",
                out.join(format!("archive-{n}")).display()
            );
        }
        anyhow::Ok(())
    })
}
