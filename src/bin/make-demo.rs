//! Writes the demo archive from the real logs: `cargo run --bin make-demo [OUT]`
//! (default `sample-logs/demo`, replaced whole when it is a demo archive: it
//! holds the `.cachelens-demo` marker). See `cachelens::demo`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use cachelens::safe_write::{self, OutDir};

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| root.join("sample-logs/demo"), PathBuf::from);
    let real = root.join("sample-logs/real");
    // replaced only when it is a demo archive (or empty, or new), never over the real logs
    let dir = OutDir::check(&out, std::slice::from_ref(&real), safe_write::DEMO, false)?;
    let mut runs = 0;
    dir.write(|staged| {
        runs = cachelens::demo::write_demo(&cachelens::demo::logs_in(&real), staged)?;
        anyhow::Ok(())
    })?;
    println!("{runs} CodeBuild runs written to {}", out.display());
    Ok(())
}
