//! `diagnose --format markdown`: GitHub-flavoured Markdown.

use std::io::{self, Write};

use super::{build_label, rate, step_label};
use crate::analyze::diagnose::{Cause, Diagnosis};
use crate::report::escape::terminal;
use crate::report::markdown::code;

/// Writes one section per diagnosis.
pub fn write(diagnoses: &[Diagnosis], out: &mut dyn Write) -> io::Result<()> {
    for (n, d) in diagnoses.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "### Cache diagnosis: {}\n",
            code(&build_label(&d.source, d.index))
        )?;
        write!(
            out,
            "Hit rate **{}** ({}/{} cacheable steps cached)",
            rate(d.hit_rate),
            d.cached,
            d.cacheable
        )?;
        match &d.baseline {
            Some(b) => writeln!(
                out,
                "; baseline {} (hit rate {}).",
                code(&build_label(&b.source, b.index)),
                rate(b.hit_rate)
            )?,
            None => writeln!(out, "; no baseline ({}).", super::NO_BASELINE)?,
        }
        if d.causes.is_empty() {
            writeln!(out, "\nNo miss: every cacheable step was CACHED.")?;
            continue;
        }
        for (i, c) in d.causes.iter().enumerate() {
            write_cause(i + 1, c, out)?;
        }
    }
    Ok(())
}

/// Writes cause number `n`: its kind, first miss, cascade, why, fix and the evidence table.
fn write_cause(n: usize, c: &Cause, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n#### Cause {n}: `{}`\n", c.cause.as_str())?;
    if let Some(s) = &c.step {
        writeln!(
            out,
            "- **First miss:** {} (line {})",
            code(&step_label(s)),
            s.line
        )?;
    }
    if !c.cascade.is_empty() {
        writeln!(
            out,
            "- **Cascade** ({} step{}):",
            c.cascade.len(),
            if c.cascade.len() == 1 { "" } else { "s" }
        )?;
        for s in &c.cascade {
            writeln!(out, "  - {}", code(&step_label(s)))?;
        }
    }
    writeln!(out, "- **Why:** {}", terminal(&c.summary))?;
    writeln!(out, "- **Fix:** {}", terminal(&c.fix))?;
    writeln!(out, "\n| where | line |\n| --- | --- |")?;
    for e in &c.evidence {
        writeln!(
            out,
            "| {} | {} |",
            code(&format!("{}:{}", e.source, e.line)),
            code(&e.text)
        )?;
    }
    Ok(())
}
