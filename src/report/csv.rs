//! CSV: one step per row (`position` as `i/n`), with a header row.

use std::io::{self, Write};

use crate::model::Build;

const HEADER: [&str; 15] = [
    "source",
    "build",
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

/// Writes every step of every build as CSV.
pub fn write_steps(builds: &[Build], out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    for b in builds {
        for s in &b.steps {
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            w.write_record([
                b.source.clone(),
                b.index.to_string(),
                s.vertex.to_string(),
                s.name.clone(),
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
