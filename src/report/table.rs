//! The post_build summary for a terminal: a compact table per build, in
//! colour only when asked (the caller decides: a terminal, and no `NO_COLOR`).
//! Each section is made in one buffer, reused section after section, and
//! written out at once.

use std::fmt::Write as _;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use unicode_width::UnicodeWidthStr;

use super::escape::{printable, terminal};
use super::{TableOptions, truncate};
use crate::model::{BuildId, Run, Status};
use crate::summary::{HumanSeconds, Part, Percent, Summary, status_word};

const NAME_WIDTH: usize = 72;

/// The width of a fact's label, the text after it aligned.
const LABEL_WIDTH: usize = 13;

/// `text` in `style` when `color`, else as it is.
pub(crate) fn paint(text: &str, style: Style, color: bool) -> String {
    let mut out = String::with_capacity(text.len());
    styled(&mut out, style, color, |out| out.push_str(text));
    out
}

/// Appends what `write` appends, in `style` when `color`.
fn styled(out: &mut String, style: Style, color: bool, write: impl FnOnce(&mut String)) {
    if color {
        let _ = write!(out, "{}", style.render());
    }
    write(out);
    if color {
        let _ = write!(out, "{}", style.render_reset());
    }
}

/// Appends a name from the log, cut at [`NAME_WIDTH`] characters and escaped
/// for a terminal (as [`truncate`] and [`terminal`] do); returns the columns it
/// takes.
fn name(out: &mut String, text: &str) -> usize {
    if !printable(text) {
        let start = out.len();
        out.push_str(&terminal(&truncate(text, NAME_WIDTH)));
        return width(&out[start..]);
    }
    // printable ASCII: a byte a character, nothing to escape
    if text.len() <= NAME_WIDTH {
        out.push_str(text);
        text.len()
    } else {
        out.push_str(&text[..NAME_WIDTH - 1]);
        out.push('…');
        NAME_WIDTH
    }
}

/// Appends `label` and the spaces that align what follows it.
fn label(out: &mut String, label: &str) {
    out.push_str(label);
    spaces(out, LABEL_WIDTH.saturating_sub(label.chars().count()));
}

/// Appends `n` spaces.
fn spaces(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let now = n.min(SPACES.len());
        out.push_str(&SPACES[..now]);
        n -= now;
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

/// Seconds for people, `-` when unknown.
fn seconds(out: &mut String, secs: Option<f64>) {
    match secs {
        Some(secs) => {
            let _ = write!(out, "{}", HumanSeconds(secs));
        }
        None => out.push('-'),
    }
}

/// The summary table's buffers, reused from section to section.
#[derive(Debug, Default)]
pub(super) struct Tables {
    /// The section being made.
    section: String,
    /// Its table of steps or phases.
    grid: Grid,
}

impl Tables {
    /// Writes the section of a CodeBuild run.
    pub(super) fn run(
        &mut self,
        source: &str,
        run: &Run,
        options: TableOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let Tables { section, grid } = self;
        let color = options.color;
        let id = run.build_id.as_ref().map_or(source, BuildId::as_str);
        styled(section, Style::new().bold(), color, |s| {
            s.push_str("CodeBuild run ");
            s.push_str(&terminal(id));
        });
        section.push('\n');
        grid.start([false, false, true, false], ["phase", "state", "time", ""]);
        for p in &run.phases {
            let state = p.state.as_deref().unwrap_or("(running)");
            let style = match state {
                "SUCCEEDED" => status_style(Status::Cached),
                "(running)" => Style::new(),
                _ => status_style(Status::Error),
            };
            grid.text(Style::new(), &p.name);
            grid.text(style, state);
            grid.ascii(Style::new(), |t| seconds(t, p.seconds));
            grid.name(&p.reason());
        }
        grid.write(section, color);
        for c in run.commands.iter().filter(|c| c.exit_status.is_some()) {
            styled(section, Style::new().dimmed(), color, |s| {
                label(s, "failed")
            });
            name(section, &c.command);
            section.push(' ');
            styled(section, status_style(Status::Error), color, |s| {
                let _ = write!(s, "exit status {}", c.exit_status.unwrap_or_default());
            });
            section.push('\n');
        }
        flush(section, out)
    }

    /// Writes the section of one build.
    pub(super) fn build(
        &mut self,
        s: &Summary<'_>,
        options: TableOptions,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let Tables { section, grid } = self;
        let color = options.color;
        let dim = Style::new().dimmed();
        let outcome_style = if s.outcome == "failed" {
            status_style(Status::Error)
        } else {
            Style::new()
        };
        styled(section, Style::new().bold(), color, |t| {
            t.push_str(&terminal(s.source));
            t.push_str(" · build ");
            t.push_str(itoa::Buffer::new().format(s.index + 1));
        });
        section.push(' ');
        styled(section, outcome_style, color, |t| {
            t.push('(');
            t.push_str(s.outcome);
            t.push(')');
        });
        section.push('\n');

        let steps = s.table_steps(options.all_steps);
        if steps.is_empty() {
            section.push_str("  (no Dockerfile step ran)\n");
        } else {
            grid.start([true, false, false, true], ["#", "step", "status", "time"]);
            for step in &steps {
                grid.ascii(Style::new(), |t| {
                    t.push_str(itoa::Buffer::new().format(step.vertex));
                });
                grid.name(step.label());
                grid.ascii(status_style(step.status), |t| {
                    let start = t.len();
                    t.push_str(step.status.as_str());
                    t[start..].make_ascii_uppercase();
                });
                grid.ascii(Style::new(), |t| seconds(t, step.seconds));
            }
            grid.write(section, color);
        }

        for fact in s.facts() {
            styled(section, dim, color, |t| label(t, fact.label));
            for part in &fact.parts {
                match part {
                    Part::Text(t) => section.push_str(&terminal(t)),
                    Part::Name(t) => {
                        name(section, t);
                    }
                    Part::Rate(r) => {
                        styled(section, rate_style(*r), color, |t| {
                            let _ = write!(t, "{}", Percent(*r));
                        });
                    }
                    Part::Good(t) => styled(section, status_style(Status::Cached), color, |s| {
                        s.push_str(&terminal(t));
                    }),
                    Part::Bad(t) => styled(section, status_style(Status::Error), color, |s| {
                        s.push_str(&terminal(t));
                    }),
                    Part::Status(st) => styled(section, status_style(*st), color, |t| {
                        t.push_str(status_word(*st));
                    }),
                }
            }
            section.push('\n');
        }
        flush(section, out)
    }
}

/// Writes the section out and empties it for the next.
fn flush(section: &mut String, out: &mut dyn Write) -> io::Result<()> {
    let written = out.write_all(section.as_bytes());
    section.clear();
    written
}

/// Columns of a [`Grid`].
const COLUMNS: usize = 4;

/// Cells in columns, a space either side of each and no borders, each column
/// as wide as its widest text (the layout of comfy-table's `NOTHING` preset,
/// which drew it before): the widths are measured once, on the text before it
/// is painted, so no escape code is ever looked for (comfy-table's scan for
/// them was two fifths of a many-build summary).
#[derive(Debug, Default)]
struct Grid {
    /// Which columns are aligned right.
    right: [bool; COLUMNS],
    /// The cells' text, one after the other.
    text: String,
    /// The header's cells, then each row's.
    cells: Vec<Cell>,
}

/// A cell of a [`Grid`].
#[derive(Debug)]
struct Cell {
    /// Where its text ends in [`Grid::text`].
    end: usize,
    /// The columns it takes on a terminal.
    width: usize,
    style: Style,
}

/// The columns `text` takes on a terminal (printable ASCII, the common case:
/// one each, without unicode-width's walk over every character).
fn width(text: &str) -> usize {
    if printable(text) {
        text.len()
    } else {
        text.width()
    }
}

impl Grid {
    /// Empties the grid for a table of these columns and header (dimmed).
    fn start(&mut self, right: [bool; COLUMNS], header: [&str; COLUMNS]) {
        self.right = right;
        self.text.clear();
        self.cells.clear();
        for h in header {
            self.ascii(Style::new().dimmed(), |t| t.push_str(h));
        }
    }

    /// Ends a cell of `width` columns in `style`; the rows are filled in order.
    fn end(&mut self, width: usize, style: Style) {
        let end = self.text.len();
        self.cells.push(Cell { end, width, style });
    }

    /// A cell of what `write` appends: printable ASCII (a number, our words).
    fn ascii(&mut self, style: Style, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        self.end(self.text.len() - start, style);
    }

    /// A cell of text from the log, escaped for a terminal.
    fn text(&mut self, style: Style, text: &str) {
        let text = terminal(text);
        self.text.push_str(&text);
        self.end(width(&text), style);
    }

    /// A cell of a name from the log: see [`name`].
    fn name(&mut self, text: &str) {
        let width = name(&mut self.text, text);
        self.end(width, Style::new());
    }

    /// Appends one line a row to `out`, in colour when `color`.
    fn write(&self, out: &mut String, color: bool) {
        // an empty column is one space wide, as comfy-table drew it
        let mut widths = [1; COLUMNS];
        for row in self.cells.chunks_exact(COLUMNS) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width);
            }
        }
        let mut start = 0;
        for row in self.cells.chunks_exact(COLUMNS) {
            for ((cell, width), right) in row.iter().zip(widths).zip(self.right) {
                let text = &self.text[start..cell.end];
                start = cell.end;
                let pad = width - cell.width;
                out.push(' ');
                if right {
                    spaces(out, pad);
                }
                styled(out, cell.style, color, |out| out.push_str(text));
                if !right {
                    spaces(out, pad);
                }
                out.push(' ');
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The quick path for printable names cuts and escapes as `truncate`
        /// and `terminal` do, and measures what it wrote.
        #[test]
        fn names_are_cut_and_escaped_as_the_general_rule_does(
            text in "([ -~]{0,90}|(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\u{202e}\\t]){0,90})"
        ) {
            let mut out = String::new();
            let columns = name(&mut out, &text);
            let expected = terminal(&truncate(&text, NAME_WIDTH)).into_owned();
            prop_assert_eq!(columns, expected.width());
            prop_assert_eq!(out, expected);
        }
    }
}
