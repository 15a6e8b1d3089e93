//! Writes the demo archive from the real logs: `cargo run --bin make-demo [OUT]`
//! (default `sample-logs/demo`, replaced whole). See `cachelens::demo`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| root.join("sample-logs/demo"), PathBuf::from);
    let parent = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staged = tempfile::Builder::new()
        .prefix(".make-demo-")
        .tempdir_in(parent)?;
    let real = root.join("sample-logs/real");
    let runs = cachelens::demo::write_demo(&cachelens::demo::logs_in(&real), staged.path())?;
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("replacing {}", out.display()))?;
    }
    std::fs::rename(staged.keep(), &out)?;
    println!("{runs} CodeBuild runs written to {}", out.display());
    Ok(())
}
