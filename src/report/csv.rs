//! CSV: one step per row (`position` as `i/n`), with a header row.

use std::io::{self, Write};

use super::escape::csv_cell;
use crate::model::Build;

const HEADER: [&str; 20] = [
    "source",
    "build",
    "build_id",
    "phase",
    "vertex",
    "name",
    "stage",
    "platform",
    "position",
    "instruction",
    "kind",
    "status",
    "seconds",
    "cacheable",
    "digest",
    "error",
    "line",
    "fetch_layers",
    "fetch_bytes",
    "fetch_seconds",
];

/// The CSV of step records, written build by build after its header row; text
/// cells a spreadsheet would take for a formula are neutralised ([`csv_cell`]).
pub struct Steps<'w> {
    w: ::csv::Writer<&'w mut dyn Write>,
}

impl<'w> Steps<'w> {
    /// Starts the CSV: its header row.
    pub fn new(out: &'w mut dyn Write) -> io::Result<Self> {
        let mut w = ::csv::Writer::from_writer(out);
        w.write_record(HEADER)?;
        Ok(Steps { w })
    }

    /// One row per step of `b`.
    pub fn build(&mut self, b: &Build) -> io::Result<()> {
        let text = |v: &str| csv_cell(v).into_owned();
        let opt = |v: Option<&str>| v.map(text).unwrap_or_default();
        for s in &b.steps {
            let fetch = s.fetch.as_deref();
            self.w.write_record([
                text(&b.source),
                b.index.to_string(),
                b.build_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                opt(b.phase.as_deref()),
                s.vertex.to_string(),
                opt(s.name.as_deref()),
                opt(s.stage.as_deref()),
                opt(s.platform.as_deref()),
                s.position
                    .map(|[i, n]| format!("{i}/{n}"))
                    .unwrap_or_default(),
                opt(s.instruction.as_deref()),
                s.kind.as_str().to_owned(),
                s.status.as_str().to_owned(),
                s.seconds.map(|x| x.to_string()).unwrap_or_default(),
                s.cacheable.to_string(),
                opt(s.digest.as_deref()),
                opt(s.error.as_deref()),
                s.line.to_string(),
                fetch.map(|f| f.layers.to_string()).unwrap_or_default(),
                fetch
                    .and_then(|f| f.bytes)
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
                fetch.map(|f| f.seconds.to_string()).unwrap_or_default(),
            ])?;
        }
        Ok(())
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// Ends the CSV.
    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}
