//! NDJSON: one step per line, with its build's source and index.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Build, Step};

#[derive(Serialize)]
struct Row<'a> {
    source: &'a str,
    build: usize,
    #[serde(flatten)]
    step: &'a Step,
}

/// Writes every step of every build, one JSON object a line.
pub fn write_steps(builds: &[Build], out: &mut dyn Write) -> io::Result<()> {
    for b in builds {
        for step in &b.steps {
            serde_json::to_writer(
                &mut *out,
                &Row {
                    source: &b.source,
                    build: b.index,
                    step,
                },
            )?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
