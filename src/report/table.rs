//! The post_build summary for a terminal: a compact table per build, in
//! colour only when asked (the caller decides: a terminal, and no `NO_COLOR`).

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthStr;

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
    let dim = Style::new().dimmed();
    let mut table = Grid::new(
        [false, false, true, false],
        ["phase", "state", "time", ""].map(|h| (h.to_owned(), dim)),
    );
    for p in &run.phases {
        let state = p.state.as_deref().unwrap_or("(running)");
        let style = match state {
            "SUCCEEDED" => status_style(Status::Cached),
            "(running)" => Style::new(),
            _ => status_style(Status::Error),
        };
        let why = p.reason();
        table.row([
            (terminal(&p.name).into_owned(), Style::new()),
            (terminal(state).into_owned(), style),
            (
                p.seconds
                    .map(human_seconds)
                    .unwrap_or_else(|| "-".to_owned()),
                Style::new(),
            ),
            (
                terminal(&truncate(&why, NAME_WIDTH)).into_owned(),
                Style::new(),
            ),
        ]);
    }
    table.write(color, out)?;
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

    let mut table = Grid::new(
        [true, false, false, true],
        ["#", "step", "status", "time"].map(|h| (h.to_owned(), dim)),
    );
    let steps = s.table_steps(options.all_steps);
    for step in &steps {
        let time = step
            .seconds
            .map(human_seconds)
            .unwrap_or_else(|| "-".to_owned());
        table.row([
            (step.vertex.to_string(), Style::new()),
            (
                terminal(&truncate(step.label(), NAME_WIDTH)).into_owned(),
                Style::new(),
            ),
            (
                step.status.as_str().to_ascii_uppercase(),
                status_style(step.status),
            ),
            (time, Style::new()),
        ]);
    }
    if steps.is_empty() {
        writeln!(out, "  (no Dockerfile step ran)")?;
    } else {
        table.write(color, out)?;
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

/// Cells in columns, a space either side of each and no borders, each column
/// as wide as its widest text (the layout of comfy-table's `NOTHING` preset,
/// which drew it before): the widths are measured on the text before it is
/// painted, so no escape code is ever looked for (comfy-table's scan for them
/// was two fifths of a many-build summary).
struct Grid<const N: usize> {
    /// Which columns are aligned right.
    right: [bool; N],
    /// The header, then the rows: each cell's text and style.
    rows: Vec<[(String, Style); N]>,
}

/// The columns `text` takes on a terminal (printable ASCII, the common case:
/// one each, without unicode-width's walk over every character).
fn width(text: &str) -> usize {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.len()
    } else {
        text.width()
    }
}

impl<const N: usize> Grid<N> {
    fn new(right: [bool; N], header: [(String, Style); N]) -> Self {
        Grid {
            right,
            rows: vec![header],
        }
    }

    fn row(&mut self, cells: [(String, Style); N]) {
        self.rows.push(cells);
    }

    /// One line a row, in colour when `color`.
    fn write(&self, color: bool, out: &mut dyn Write) -> io::Result<()> {
        // an empty column is one space wide, as comfy-table drew it
        let mut widths = [1; N];
        for row in &self.rows {
            for (w, (text, _)) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(text));
            }
        }
        let mut line = String::new();
        for row in &self.rows {
            line.clear();
            for (i, (text, style)) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i] - width(text));
                let painted = paint(text, *style, color);
                line.push(' ');
                if self.right[i] {
                    line.push_str(&pad);
                    line.push_str(&painted);
                } else {
                    line.push_str(&painted);
                    line.push_str(&pad);
                }
                line.push(' ');
            }
            writeln!(out, "{line}")?;
        }
        Ok(())
    }
}
