//! `diagnose --format json`: `{"diagnoses": [ … ]}`, each with its causes
//! (`cause` kind, `step`, `cascade`, `evidence`, `fix`).

use std::io::{self, Write};

use serde::Serialize;

use crate::analyze::diagnose::Diagnosis;

#[derive(Serialize)]
struct Document<'a> {
    diagnoses: &'a [Diagnosis],
}

/// Writes the diagnoses as one pretty-printed JSON object.
pub fn write(diagnoses: &[Diagnosis], out: &mut dyn Write) -> io::Result<()> {
    crate::report::escape::to_json_writer_pretty(&mut *out, &Document { diagnoses })?;
    writeln!(out)
}
