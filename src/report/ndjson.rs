//! NDJSON: one step per line, with its build's source, index, CodeBuild build id and phase.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::Step;
use crate::model::{BuildId, ParsedLog};

#[derive(Serialize)]
struct Row<'a> {
    source: &'a str,
    build: usize,
    build_id: Option<&'a str>,
    phase: Option<&'a str>,
    #[serde(flatten)]
    step: &'a Step,
}

/// Writes every step of every build, one JSON object a line.
pub fn write_steps(logs: &[ParsedLog], out: &mut dyn Write) -> io::Result<()> {
    for b in logs.iter().flat_map(|l| &l.builds) {
        for step in &b.steps {
            super::escape::to_json_writer(
                &mut *out,
                &Row {
                    source: &b.source,
                    build: b.index,
                    build_id: b.build_id.as_ref().map(BuildId::as_str),
                    phase: b.phase.as_deref(),
                    step,
                },
            )?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
