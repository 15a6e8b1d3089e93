//! The post_build summary for a terminal: a compact table per build, in
//! colour only when asked (the caller decides: a terminal, and no `NO_COLOR`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, Table};

use super::{TableOptions, truncate};
use crate::model::Status;
use crate::summary::{Summary, human_seconds, percent, status_word, steps_word};

const NAME_WIDTH: usize = 72;

fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

fn status_style(status: Status) -> Style {
    let color = match status {
        Status::Cached => AnsiColor::Green,
        Status::Done => AnsiColor::Yellow,
        Status::Error => AnsiColor::Red,
        Status::Canceled | Status::Incomplete => AnsiColor::Magenta,
    };
    Style::new().fg_color(Some(color.into()))
}

fn rate_style(rate: f64) -> Style {
    let color = if rate >= 0.8 {
        AnsiColor::Green
    } else if rate >= 0.5 {
        AnsiColor::Yellow
    } else {
        AnsiColor::Red
    };
    Style::new().bold().fg_color(Some(color.into()))
}

/// Writes one table and its facts per build.
pub fn write_summary(
    summaries: &[Summary<'_>],
    options: TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let color = options.color;
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    for (n, s) in summaries.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let outcome_style = if s.outcome == "failed" {
            status_style(Status::Error)
        } else {
            Style::new()
        };
        writeln!(
            out,
            "{} {}",
            paint(
                &format!("{} · build {}", s.source, s.index + 1),
                bold,
                color
            ),
            paint(&format!("({})", s.outcome), outcome_style, color),
        )?;

        let mut table = Table::new();
        table.load_style(NOTHING);
        table.set_header(["#", "step", "status", "time"].map(|h| paint(h, dim, color)));
        let steps = s.table_steps(options.all_steps);
        for step in &steps {
            let status = step.status.as_str().to_ascii_uppercase();
            let time = step
                .seconds
                .map(human_seconds)
                .unwrap_or_else(|| "-".to_owned());
            table.add_row([
                step.vertex.to_string(),
                truncate(&step.name, NAME_WIDTH).into_owned(),
                paint(&status, status_style(step.status), color),
                time,
            ]);
        }
        if let Some(col) = table.column_mut(0) {
            col.set_cell_alignment(CellAlignment::Right);
        }
        if let Some(col) = table.column_mut(3) {
            col.set_cell_alignment(CellAlignment::Right);
        }
        if steps.is_empty() {
            writeln!(out, "  (no Dockerfile step ran)")?;
        } else {
            writeln!(out, "{table}")?;
        }

        let label = |l: &str| paint(&format!("{l:<13}"), dim, color);
        let rate = match s.hit_rate {
            Some(r) => format!(
                "{} ({} of {} cacheable steps cached)",
                paint(&percent(r), rate_style(r), color),
                s.cached,
                s.cacheable
            ),
            None => "n/a (no cacheable step)".to_owned(),
        };
        writeln!(out, "{}{rate}", label("hit rate"))?;
        writeln!(
            out,
            "{}{}, {} (sum of DONE times)",
            label("executed"),
            steps_word(s.executed),
            human_seconds(s.executed_seconds)
        )?;
        if let Some(miss) = s.first_miss {
            writeln!(
                out,
                "{}{} ({}, #{}, line {})",
                label("first miss"),
                truncate(&miss.name, NAME_WIDTH),
                paint(status_word(miss.status), status_style(miss.status), color),
                miss.vertex,
                miss.line
            )?;
        }
        if s.imports.is_empty() {
            writeln!(out, "{}none", label("cache import"))?;
        }
        for i in s.imports {
            let result = match &i.error {
                None => paint("ok", status_style(Status::Cached), color),
                Some(e) => paint(&format!("FAILED: {e}"), status_style(Status::Error), color),
            };
            let time = i.seconds.map(|x| format!(" in {}", human_seconds(x)));
            writeln!(
                out,
                "{}{} {result}{}",
                label("cache import"),
                i.reference,
                time.unwrap_or_default()
            )?;
        }
        if s.exports.is_empty() {
            writeln!(out, "{}none", label("cache export"))?;
        }
        for e in s.exports {
            let result = match (&e.error, e.seconds) {
                (Some(err), _) => paint(
                    &format!("FAILED: {err}"),
                    status_style(Status::Error),
                    color,
                ),
                (None, Some(secs)) => human_seconds(secs),
                (None, None) => "done".to_owned(),
            };
            writeln!(out, "{}{} {result}", label("cache export"), e.name)?;
        }
        if let Some(err) = s.error {
            writeln!(
                out,
                "{}{}",
                label("error"),
                paint(err, status_style(Status::Error), color)
            )?;
        }
        if s.canceled + s.incomplete > 0 {
            writeln!(
                out,
                "{}{} canceled, {} without a terminal line",
                label("unfinished"),
                s.canceled,
                s.incomplete
            )?;
        }
        for w in s.warnings {
            writeln!(out, "{}{w}", label("warning"))?;
        }
        if s.unparsed_lines > 0 {
            writeln!(
                out,
                "{}{} lines (first at {}:{})",
                label("unparsed"),
                s.unparsed_lines,
                s.source,
                s.first_unparsed_line.unwrap_or(0)
            )?;
        }
    }
    Ok(())
}
