//! NDJSON: one step per line, with its build's source, index, CodeBuild build id and phase.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Build, BuildId};

/// The fields every step of a build starts with.
#[derive(Serialize)]
struct Head<'a> {
    source: &'a str,
    build: usize,
    build_id: Option<&'a str>,
    phase: Option<&'a str>,
}

/// Writes the steps of one build, one JSON object a line, built in `buf` (reused):
/// the build's fields are escaped once, each step's follow them.
pub fn write_build(b: &Build, buf: &mut Vec<u8>, out: &mut dyn Write) -> io::Result<()> {
    if b.steps.is_empty() {
        return Ok(());
    }
    buf.clear();
    super::compact::to_vec(
        buf,
        &Head {
            source: &b.source,
            build: b.index,
            build_id: b.build_id.as_ref().map(BuildId::as_str),
            phase: b.phase.as_deref(),
        },
    )?;
    // `{"source":…,"phase":…}` loses its `}`: each step's fields follow it
    buf.pop();
    let head = buf.len();
    for step in &b.steps {
        buf.truncate(head);
        super::compact::to_vec(buf, step)?;
        // the step's own `{` becomes the comma after the head's fields
        buf[head] = b',';
        buf.push(b'\n');
        out.write_all(buf)?;
    }
    Ok(())
}
