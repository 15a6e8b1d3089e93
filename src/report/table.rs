//! The post_build summary for a terminal: a compact table per build, in
//! colour only when asked (the caller decides: a terminal, and no `NO_COLOR`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use comfy_table::presets::NOTHING;
use comfy_table::{CellAlignment, Table};

use super::escape::terminal;
use super::{TableOptions, truncate};
use crate::model::Status;
use crate::model::{BuildId, Run};
use crate::summary::{Part, Summary, human_seconds, percent, status_word};

const NAME_WIDTH: usize = 72;

/// `text` in `style` when `color`, else as it is.
pub(crate) fn paint(text: &str, style: Style, color: bool) -> String {
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

/// The section of a CodeBuild run.
pub(super) fn write_run(
    source: &str,
    run: &Run,
    options: TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let color = options.color;
    let id = terminal(run.build_id.as_ref().map_or(source, BuildId::as_str));
    writeln!(
        out,
        "{}",
        paint(&format!("CodeBuild run {id}"), Style::new().bold(), color)
    )?;
    let mut table = Table::new();
    table.load_style(NOTHING);
    table
        .set_header(["phase", "state", "time", ""].map(|h| paint(h, Style::new().dimmed(), color)));
    for p in &run.phases {
        let state = p.state.as_deref().unwrap_or("(running)");
        let style = match state {
            "SUCCEEDED" => status_style(Status::Cached),
            "(running)" => Style::new(),
            _ => status_style(Status::Error),
        };
        let why = p.reason();
        table.add_row([
            terminal(&p.name).into_owned(),
            paint(&terminal(state), style, color),
            p.seconds
                .map(human_seconds)
                .unwrap_or_else(|| "-".to_owned()),
            terminal(&truncate(&why, NAME_WIDTH)).into_owned(),
        ]);
    }
    if let Some(col) = table.column_mut(2) {
        col.set_cell_alignment(CellAlignment::Right);
    }
    writeln!(out, "{table}")?;
    for c in run.commands.iter().filter(|c| c.exit_status.is_some()) {
        writeln!(
            out,
            "{}{} {}",
            paint(&format!("{:<13}", "failed"), Style::new().dimmed(), color),
            terminal(&truncate(&c.command, NAME_WIDTH)),
            paint(
                &format!("exit status {}", c.exit_status.unwrap_or_default()),
                status_style(Status::Error),
                color
            )
        )?;
    }
    Ok(())
}

/// The section of one build.
pub(super) fn write_build(
    s: &Summary<'_>,
    options: TableOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let color = options.color;
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    let outcome_style = if s.outcome == "failed" {
        status_style(Status::Error)
    } else {
        Style::new()
    };
    writeln!(
        out,
        "{} {}",
        paint(
            &format!("{} · build {}", terminal(s.source), s.index + 1),
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
            terminal(&truncate(step.label(), NAME_WIDTH)).into_owned(),
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

    for fact in s.facts() {
        write!(out, "{}", paint(&format!("{:<13}", fact.label), dim, color))?;
        for part in &fact.parts {
            let text = match part {
                Part::Text(t) => terminal(t).into_owned(),
                Part::Name(t) => terminal(&truncate(t, NAME_WIDTH)).into_owned(),
                Part::Rate(r) => paint(&percent(*r), rate_style(*r), color),
                Part::Good(t) => paint(&terminal(t), status_style(Status::Cached), color),
                Part::Bad(t) => paint(&terminal(t), status_style(Status::Error), color),
                Part::Status(st) => paint(status_word(*st), status_style(*st), color),
            };
            out.write_all(text.as_bytes())?;
        }
        writeln!(out)?;
    }
    Ok(())
}
