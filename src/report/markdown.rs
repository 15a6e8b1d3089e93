//! The post_build summary as GitHub-flavoured Markdown, for
//! `$GITHUB_STEP_SUMMARY` and pull-request comments.

use std::io::{self, Write};

use super::escape::{self, terminal};
use super::{TableOptions, truncate};
use crate::model::{BuildId, Run};
use crate::model::{Status, Step};
use crate::summary::{Part, Summary, human_seconds, percent, status_word};

const NAME_WIDTH: usize = 100;

/// A code span for a step name: shown as typed, `|` kept from breaking the
/// table, no terminal controls ([`terminal`]).
pub(crate) fn code(text: &str) -> String {
    let text = terminal(&text.replace(['\r', '\n'], " ")).replace('|', "\\|");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn icon(step: &Step) -> &'static str {
    match step.status {
        Status::Cached => "✅ cached",
        Status::Done if step.cacheable => "🔨 executed",
        Status::Done => "done",
        Status::Error => "❌ error",
        Status::Canceled => "⏹ canceled",
        Status::Incomplete => "… incomplete",
    }
}

/// The section of a CodeBuild run.
pub(super) fn write_run(source: &str, run: &Run, out: &mut dyn Write) -> io::Result<()> {
    let id = run.build_id.as_ref().map_or(source, BuildId::as_str);
    writeln!(out, "### CodeBuild run {}\n", code(id))?;
    writeln!(out, "| Phase | State | Time | |")?;
    writeln!(out, "|---|---|---:|---|")?;
    for p in &run.phases {
        let why = p.reason();
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape::markdown(&p.name),
            p.state
                .as_deref()
                .map_or_else(|| "running".to_owned(), escape::markdown),
            p.seconds
                .map(human_seconds)
                .unwrap_or_else(|| "–".to_owned()),
            escape::markdown(&truncate(&why, NAME_WIDTH))
        )?;
    }
    for c in run.commands.iter().filter(|c| c.exit_status.is_some()) {
        writeln!(
            out,
            "\n- **Failed:** {} (exit status {})",
            code(&truncate(&c.command, NAME_WIDTH)),
            c.exit_status.unwrap_or_default()
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
    let rate = s
        .hit_rate
        .map(|r| format!("{} cache hits", percent(r)))
        .unwrap_or_else(|| "no cacheable step".to_owned());
    writeln!(
        out,
        "### cachelens: {} (build {}) — {rate}, {}\n",
        escape::markdown(s.source),
        s.index + 1,
        s.outcome
    )?;
    let steps = s.table_steps(options.all_steps);
    if steps.is_empty() {
        writeln!(out, "_No Dockerfile step ran._")?;
    } else {
        writeln!(out, "| # | Step | Status | Time |")?;
        writeln!(out, "|---:|---|---|---:|")?;
    }
    for step in steps {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            step.vertex,
            code(&truncate(step.label(), NAME_WIDTH)),
            icon(step),
            step.seconds
                .map(human_seconds)
                .unwrap_or_else(|| "–".to_owned())
        )?;
    }
    writeln!(out)?;
    for fact in s.facts() {
        let mut label = fact.label.to_owned();
        label[..1].make_ascii_uppercase();
        write!(out, "- **{label}:** ")?;
        for part in &fact.parts {
            let text = match part {
                Part::Text(t) => escape::markdown(t),
                Part::Name(t) => code(&truncate(t, NAME_WIDTH)),
                Part::Rate(r) => percent(*r),
                Part::Good(t) => escape::markdown(t),
                Part::Bad(t) => format!("❌ {}", escape::markdown(t)),
                Part::Status(st) => status_word(*st).to_owned(),
            };
            out.write_all(text.as_bytes())?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn code_spans_keep_the_table() {
        assert_eq!(code("RUN a | b"), "`RUN a \\| b`");
        assert_eq!(code("RUN echo `x`"), "`` RUN echo `x` ``");
    }
}
