//! JSON: the `steps --format json` contract and `summary --format json`.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::Build;
use crate::summary::Summary;

#[derive(Serialize)]
struct Builds<'a, T> {
    builds: &'a [T],
}

/// `{"builds": [ … ]}`, one entry per build, pretty-printed.
pub fn write_steps(builds: &[Build], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Builds { builds })?;
    writeln!(out)
}

/// `{"builds": [ … ]}` of summaries.
pub fn write_summary(summaries: &[Summary<'_>], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Builds { builds: summaries })?;
    writeln!(out)
}
