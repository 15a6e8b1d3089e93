//! Outputs, one module per format: step records (`json`, `ndjson`, `csv`) and
//! the post_build summary (`table`, `markdown`, `json`); the cost report's folder
//! (`tables`), its `charts` and its pages (`page`: HTML and Markdown); `escape`
//! neutralises log text for terminals, JSON, Markdown and spreadsheets.

// short functions (at most `too-many-lines-threshold` in clippy.toml)
#![warn(clippy::too_many_lines)]

pub mod charts;
pub mod csv;
pub mod diagnose;
pub mod escape;
pub mod headline;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod page;
pub mod table;
pub mod tables;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::ParsedLog;
use crate::model::Run;
use crate::summary::SourceSummary;

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

/// A CodeBuild run with the source it was read from.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord<'a> {
    /// Where it was read.
    pub source: &'a str,
    /// The run.
    #[serde(flatten)]
    pub run: &'a Run,
}

/// The CodeBuild runs of some logs.
pub fn runs<'a>(logs: impl IntoIterator<Item = (&'a str, Option<&'a Run>)>) -> Vec<RunRecord<'a>> {
    logs.into_iter()
        .filter_map(|(source, run)| run.map(|run| RunRecord { source, run }))
        .collect()
}

/// Writes step records.
pub fn write_steps(format: StepsFormat, logs: &[ParsedLog], out: &mut dyn Write) -> io::Result<()> {
    match format {
        StepsFormat::Json => json::write_steps(logs, out),
        StepsFormat::Ndjson => ndjson::write_steps(logs, out),
        StepsFormat::Csv => csv::write_steps(logs, out),
    }
}

/// Writes summaries.
pub fn write_summary(
    format: SummaryFormat,
    summaries: &[SourceSummary<'_>],
    options: TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        SummaryFormat::Table => table::write_summary(summaries, options, out),
        SummaryFormat::Markdown => markdown::write_summary(summaries, options, out),
        SummaryFormat::Json => json::write_summary(summaries, out),
    }
}

/// Walks the summaries in input order, a source's CodeBuild run before its
/// builds, with a blank line between sections.
fn sections<W: Write + ?Sized>(
    summaries: &[SourceSummary<'_>],
    out: &mut W,
    mut run: impl FnMut(&str, &Run, &mut W) -> io::Result<()>,
    mut build: impl FnMut(&crate::summary::Summary<'_>, &mut W) -> io::Result<()>,
) -> io::Result<()> {
    let mut first = true;
    let mut gap = |out: &mut W| -> io::Result<()> {
        if !std::mem::take(&mut first) {
            writeln!(out)?;
        }
        Ok(())
    };
    for source in summaries {
        if let Some(r) = source.run {
            gap(out)?;
            run(source.source, r, out)?;
        }
        for b in &source.builds {
            gap(out)?;
            build(b, out)?;
        }
    }
    Ok(())
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]).into(),
        _ => text.into(),
    }
}
