//! JSON: the `steps --format json` contract and `summary --format json`.

use std::io::{self, Write};

use serde::Serialize;

use super::{RunRecord, runs};
use crate::model::ParsedLog;
use crate::summary::SourceSummary;

#[derive(Serialize)]
struct Document<'a, T> {
    builds: Vec<&'a T>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    runs: Vec<RunRecord<'a>>,
}

fn write<T: Serialize>(doc: &Document<'_, T>, out: &mut dyn Write) -> io::Result<()> {
    super::escape::to_json_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

/// `{"builds": [ … ], "runs": [ … ]}`: one entry per build, then the CodeBuild
/// runs (only when a log had `[Container]` lines), pretty-printed.
pub fn write_steps(logs: &[ParsedLog], out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        builds: logs.iter().flat_map(|l| &l.builds).collect(),
        runs: runs(logs.iter().map(|l| (l.source.as_str(), l.run.as_ref()))),
    };
    write(&doc, out)
}

/// The same shape, with summaries in place of step records.
pub fn write_summary(summaries: &[SourceSummary<'_>], out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        builds: summaries.iter().flat_map(|s| &s.builds).collect(),
        runs: runs(summaries.iter().map(|s| (s.source, s.run))),
    };
    write(&doc, out)
}
