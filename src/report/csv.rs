//! CSV: one step per row (`position` as `i/n`), with a header row.

use std::io::{self, Write};

use super::escape::csv_cell;
use crate::model::ParsedLog;

const HEADER: [&str; 17] = [
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
];

/// Writes every step of every build as CSV; text cells a spreadsheet would
/// take for a formula are neutralised ([`csv_cell`]).
pub fn write_steps(logs: &[ParsedLog], out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    let text = |v: &str| csv_cell(v).into_owned();
    let opt = |v: &Option<String>| v.as_deref().map(text).unwrap_or_default();
    for b in logs.iter().flat_map(|l| &l.builds) {
        for s in &b.steps {
            w.write_record([
                text(&b.source),
                b.index.to_string(),
                b.build_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                opt(&b.phase),
                s.vertex.to_string(),
                opt(&s.name),
                opt(&s.stage),
                opt(&s.platform),
                s.position
                    .map(|[i, n]| format!("{i}/{n}"))
                    .unwrap_or_default(),
                opt(&s.instruction),
                s.kind.as_str().to_owned(),
                s.status.as_str().to_owned(),
                s.seconds.map(|x| x.to_string()).unwrap_or_default(),
                s.cacheable.to_string(),
                opt(&s.digest),
                opt(&s.error),
                s.line.to_string(),
            ])?;
        }
    }
    w.flush()
}
