//! Outputs, one module per format: step records (`json`, `ndjson`, `csv`) and
//! the post_build summary (`table`, `markdown`, `json`).

pub mod csv;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod table;

use std::io::{self, Write};

use crate::model::Build;
use crate::summary::Summary;

/// Formats of `cachelens steps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepsFormat {
    /// One JSON object `{"builds": [...]}` (the contract in DESIGN.md).
    Json,
    /// One step per line, with its build's source and index.
    Ndjson,
    /// One step per row, with a header row.
    Csv,
}

/// Formats of `cachelens summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryFormat {
    /// A compact terminal table.
    Table,
    /// GitHub-flavoured Markdown (`$GITHUB_STEP_SUMMARY`, PR comments).
    Markdown,
    /// One JSON object `{"builds": [...]}` of summaries.
    Json,
}

/// How the summary table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableOptions {
    /// ANSI colours.
    pub color: bool,
    /// List every vertex, not only Dockerfile steps and cache import/export.
    pub all_steps: bool,
}

/// Writes step records.
pub fn write_steps(format: StepsFormat, builds: &[Build], out: &mut dyn Write) -> io::Result<()> {
    match format {
        StepsFormat::Json => json::write_steps(builds, out),
        StepsFormat::Ndjson => ndjson::write_steps(builds, out),
        StepsFormat::Csv => csv::write_steps(builds, out),
    }
}

/// Writes summaries.
pub fn write_summary(
    format: SummaryFormat,
    summaries: &[Summary<'_>],
    options: TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        SummaryFormat::Table => table::write_summary(summaries, options, out),
        SummaryFormat::Markdown => markdown::write_summary(summaries, options, out),
        SummaryFormat::Json => json::write_summary(summaries, out),
    }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]).into(),
        _ => text.into(),
    }
}
