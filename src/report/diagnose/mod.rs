//! `cachelens diagnose` output, one module per format: `text` (terminal),
//! `markdown`, `json`.

pub mod json;
pub mod markdown;
pub mod text;

use std::io::{self, Write};

use crate::analyze::diagnose::{Diagnosis, StepRef};

/// Why a build has no baseline: no earlier build of its project qualified.
const NO_BASELINE: &str =
    "no earlier build of the same project cached its first missed step or hit more";

/// Formats of `cachelens diagnose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnoseFormat {
    /// Plain text for a terminal or a CI log (colour only when asked).
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// `{"diagnoses": [...]}`.
    Json,
}

/// Writes diagnoses.
pub fn write(
    format: DiagnoseFormat,
    diagnoses: &[Diagnosis],
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        DiagnoseFormat::Text => text::write(diagnoses, color, out),
        DiagnoseFormat::Markdown => markdown::write(diagnoses, out),
        DiagnoseFormat::Json => json::write(diagnoses, out),
    }
}

/// `#9 [5/6] COPY . .`
fn step_label(step: &StepRef) -> String {
    format!("#{} {}", step.vertex, step.name)
}

/// `path build 2` (1-based build number).
fn build_label(source: &str, index: usize) -> String {
    format!("{source} build {}", index + 1)
}

fn rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "n/a".to_owned(), crate::summary::percent)
}
