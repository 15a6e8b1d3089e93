//! `diagnose --format text`: for a terminal or a CI log; colours only when the
//! caller says so (a terminal, and no `NO_COLOR`), as `summary`.

use std::io::{self, Write};

use anstyle::{AnsiColor, Color, Style};

use super::{build_label, rate, step_label};
use crate::analyze::diagnose::{Cause, CauseKind, Diagnosis};
use crate::report::escape::terminal;
use crate::report::table::paint;

const BOLD: Style = Style::new().bold();
const RED: Style = Style::new()
    .bold()
    .fg_color(Some(Color::Ansi(AnsiColor::Red)));
const DIM: Style = Style::new().dimmed();
const GREEN: Style = Style::new().fg_color(Some(Color::Ansi(AnsiColor::Green)));

/// Writes one block per diagnosis.
pub fn write(diagnoses: &[Diagnosis], color: bool, out: &mut dyn Write) -> io::Result<()> {
    for (n, d) in diagnoses.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{}: hit rate {} ({}/{} cacheable steps cached)",
            paint(&terminal(&build_label(&d.source, d.index)), BOLD, color),
            rate(d.hit_rate),
            d.cached,
            d.cacheable
        )?;
        match &d.baseline {
            Some(b) => writeln!(
                out,
                "baseline: {} (hit rate {})",
                terminal(&build_label(&b.source, b.index)),
                rate(b.hit_rate)
            )?,
            None => writeln!(out, "baseline: none ({})", super::NO_BASELINE)?,
        }
        if d.causes.is_empty() {
            writeln!(
                out,
                "{}",
                paint("no miss: every cacheable step was CACHED", GREEN, color)
            )?;
            continue;
        }
        for (i, c) in d.causes.iter().enumerate() {
            write_cause(i + 1, c, color, out)?;
        }
    }
    Ok(())
}

/// Writes cause number `n`: its kind, first miss, cascade, why, evidence and fix.
fn write_cause(n: usize, c: &Cause, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let style = if c.cause == CauseKind::Unknown {
        BOLD
    } else {
        RED
    };
    writeln!(
        out,
        "\ncause {n}: {}",
        paint(c.cause.as_str(), style, color)
    )?;
    if let Some(s) = &c.step {
        writeln!(
            out,
            "  first miss: {} (line {})",
            terminal(&step_label(s)),
            s.line
        )?;
    }
    if !c.cascade.is_empty() {
        writeln!(
            out,
            "  cascade ({} step{} missed because of it):",
            c.cascade.len(),
            if c.cascade.len() == 1 { "" } else { "s" }
        )?;
        for s in &c.cascade {
            writeln!(out, "    {}", terminal(&step_label(s)))?;
        }
    }
    writeln!(out, "  why: {}", terminal(&c.summary))?;
    writeln!(out, "  evidence:")?;
    for e in &c.evidence {
        writeln!(
            out,
            "    {} {}",
            paint(&format!("{}:{}", terminal(&e.source), e.line), DIM, color),
            terminal(&e.text)
        )?;
    }
    writeln!(out, "  fix: {}", terminal(&c.fix))
}
