//! Outputs, one module per format: step records (`json`, `ndjson`, `csv`) and
//! the post_build summary (`table`, `markdown`, `json`); the cost report's folder
//! (`tables`), its `charts` and its pages (`page`: HTML and Markdown); `escape`
//! neutralises log text for terminals, JSON, Markdown and spreadsheets.

// short functions (at most `too-many-lines-threshold` in clippy.toml)
#![warn(clippy::too_many_lines)]

pub mod charts;
pub mod compact;
pub mod csv;
pub mod dataset;
pub mod diagnose;
pub mod escape;
pub mod headline;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod page;
pub mod png_text;
pub mod table;
pub mod tables;
pub mod verdict;

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Build, ParsedLog, Run};
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

/// A log's lines outside any build (`steps --format json`'s `outside`): other
/// commands' output, and those shaped like BuildKit's, which may be misread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutsideRecord {
    /// Where the log was read.
    pub source: String,
    /// [`ParsedLog::unparsed_outside`].
    pub unparsed_outside: u64,
    /// [`ParsedLog::unparsed_outside_shaped`].
    pub unparsed_outside_shaped: u64,
}

impl OutsideRecord {
    /// The record of a log that has lines outside its builds.
    pub fn of(log: &ParsedLog) -> Option<Self> {
        (log.unparsed_outside > 0).then(|| OutsideRecord {
            source: log.source.clone(),
            unparsed_outside: log.unparsed_outside,
            unparsed_outside_shaped: log.unparsed_outside_shaped,
        })
    }
}

/// The CodeBuild runs of some logs.
pub fn runs<'a>(logs: impl IntoIterator<Item = (&'a str, Option<&'a Run>)>) -> Vec<RunRecord<'a>> {
    logs.into_iter()
        .filter_map(|(source, run)| run.map(|run| RunRecord { source, run }))
        .collect()
}

/// Writes step records.
pub fn write_steps(format: StepsFormat, logs: &[ParsedLog], out: &mut dyn Write) -> io::Result<()> {
    let mut w = StepsWriter::new(format, out)?;
    for log in logs {
        for b in &log.builds {
            w.build(b)?;
        }
        w.log(log);
    }
    w.finish()
}

/// Step records written build by build, as the builds end.
pub struct StepsWriter<'w> {
    out: StepsOut<'w>,
}

enum StepsOut<'w> {
    Json {
        doc: json::Document,
        runs: Runs,
        outside: Vec<OutsideRecord>,
        out: &'w mut dyn Write,
    },
    Ndjson {
        buf: Vec<u8>,
        out: &'w mut dyn Write,
    },
    Csv(Box<csv::Steps<'w>>),
}

impl<'w> StepsWriter<'w> {
    /// Starts the output (the CSV's header row).
    pub fn new(format: StepsFormat, out: &'w mut dyn Write) -> io::Result<Self> {
        let out = match format {
            StepsFormat::Json => StepsOut::Json {
                doc: json::Document::default(),
                runs: Runs::default(),
                outside: Vec::new(),
                out,
            },
            StepsFormat::Ndjson => StepsOut::Ndjson {
                buf: Vec::new(),
                out,
            },
            StepsFormat::Csv => StepsOut::Csv(Box::new(csv::Steps::new(out)?)),
        };
        Ok(StepsWriter { out })
    }

    /// Writes the records of one build.
    pub fn build(&mut self, b: &Build) -> io::Result<()> {
        match &mut self.out {
            StepsOut::Json { doc, out, .. } => doc.entry(b, &mut **out),
            StepsOut::Ndjson { buf, out } => ndjson::write_build(b, buf, &mut **out),
            StepsOut::Csv(w) => w.build(b),
        }
    }

    /// The end of a log: its CodeBuild run and its lines outside any build go
    /// at the end of the JSON document.
    pub fn log(&mut self, log: &ParsedLog) {
        if let StepsOut::Json { runs, outside, .. } = &mut self.out {
            runs.add(&log.source, log.run.as_ref());
            outside.extend(OutsideRecord::of(log));
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            StepsOut::Json { out, .. } | StepsOut::Ndjson { out, .. } => out.flush(),
            StepsOut::Csv(w) => w.flush(),
        }
    }

    /// Ends the output.
    pub fn finish(self) -> io::Result<()> {
        match self.out {
            StepsOut::Json {
                doc,
                runs,
                outside,
                out,
            } => doc.finish(&runs.records(), &outside, out),
            StepsOut::Ndjson { .. } => Ok(()),
            StepsOut::Csv(w) => w.finish(),
        }
    }
}

/// The CodeBuild runs of the logs read so far, with their sources.
#[derive(Debug, Default)]
struct Runs(Vec<(String, Run)>);

impl Runs {
    fn add(&mut self, source: &str, run: Option<&Run>) {
        if let Some(run) = run {
            self.0.push((source.to_owned(), run.clone()));
        }
    }

    fn records(&self) -> Vec<RunRecord<'_>> {
        runs(self.0.iter().map(|(s, r)| (s.as_str(), Some(r))))
    }
}

/// Writes summaries.
pub fn write_summary(
    format: SummaryFormat,
    summaries: &[SourceSummary<'_>],
    options: TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut w = SummaryWriter::new(format, options, out);
    for source in summaries {
        if let Some(run) = source.run {
            w.run(source.source, run)?;
        }
        for b in &source.builds {
            w.build(b)?;
        }
    }
    w.finish()
}

/// Summaries written as they come, a source's CodeBuild run before its builds
/// when it is known by then, with a blank line between sections.
pub struct SummaryWriter<'w> {
    format: SummaryFormat,
    options: TableOptions,
    out: &'w mut dyn Write,
    first: bool,
    tables: table::Tables,
    doc: json::Document,
    runs: Runs,
}

impl<'w> SummaryWriter<'w> {
    /// A summary output in `format`.
    pub fn new(format: SummaryFormat, options: TableOptions, out: &'w mut dyn Write) -> Self {
        SummaryWriter {
            format,
            options,
            out,
            first: true,
            tables: table::Tables::default(),
            doc: json::Document::default(),
            runs: Runs::default(),
        }
    }

    /// A blank line before every section but the first.
    fn gap(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.first) {
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// The CodeBuild run of `source` (in JSON, at the document's end).
    pub fn run(&mut self, source: &str, run: &Run) -> io::Result<()> {
        match self.format {
            SummaryFormat::Table => {
                self.gap()?;
                self.tables.run(source, run, self.options, self.out)
            }
            SummaryFormat::Markdown => {
                self.gap()?;
                markdown::write_run(source, run, self.out)
            }
            SummaryFormat::Json => {
                self.runs.add(source, Some(run));
                Ok(())
            }
        }
    }

    /// The summary of one build.
    pub fn build(&mut self, s: &crate::summary::Summary<'_>) -> io::Result<()> {
        match self.format {
            SummaryFormat::Table => {
                self.gap()?;
                self.tables.build(s, self.options, self.out)
            }
            SummaryFormat::Markdown => {
                self.gap()?;
                markdown::write_build(s, self.options, self.out)
            }
            SummaryFormat::Json => self.doc.entry(s, self.out),
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Ends the output.
    pub fn finish(self) -> io::Result<()> {
        match self.format {
            SummaryFormat::Json => self.doc.finish(&self.runs.records(), &[], self.out),
            SummaryFormat::Table | SummaryFormat::Markdown => Ok(()),
        }
    }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    // no more bytes than `max`, so no more characters
    if text.len() <= max {
        return text.into();
    }
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]).into(),
        _ => text.into(),
    }
}
