//! What `cachelens report` prints when it has written the report folder: the
//! verdict first (coloured by its sign when asked), then the window, the hit
//! rate, the time and money saved against the cache's costs.

use std::io::{self, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};

use crate::analyze::frames::Totals;
use crate::report::escape::terminal;
use crate::report::table::paint;
use crate::report::verdict::{Tone, Verdict, signed};
use crate::summary::percent;

/// What the builds were read from: `180 builds in 180 CodeBuild runs`, `26
/// builds from 26 files`, or `… from 30 logs (4 CodeBuild runs)`.
pub fn counted(t: &Totals) -> String {
    let s = |n: usize| if n == 1 { "" } else { "s" };
    let builds = format!("{} build{}", t.builds, s(t.builds));
    match t.codebuild_runs {
        0 => format!("{builds} from {} file{}", t.runs, s(t.runs)),
        n if n == t.runs => format!("{builds} in {n} CodeBuild run{}", s(n)),
        n => format!("{builds} from {} logs ({n} CodeBuild run{})", t.runs, s(n)),
    }
}

/// The days the builds ran, `2026-10-05 to 2026-11-15`, or that the logs hold none.
pub fn dates(t: &Totals) -> String {
    match (&t.first_day, &t.last_day) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => NO_DATES.to_owned(),
    }
}

/// Said where the logs hold no date (plain files without CI timestamps).
pub const NO_DATES: &str = "no dates in the logs";

/// Writes the headline of an analysis whose report went to `folder` (its name
/// made safe for a terminal), in colour when `color`.
pub fn write(t: &Totals, folder: &Path, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let money = |x: f64| format!("{x:.2} {}", t.currency);
    let verdict = Verdict::of(t);
    let tone = match verdict.tone {
        Tone::Gain => AnsiColor::Green,
        Tone::Loss => AnsiColor::Red,
        Tone::Unknown => AnsiColor::Yellow,
    };
    let style = Style::new().bold().fg_color(Some(tone.into()));
    writeln!(out, "{}", paint(&verdict.sentence, style, color))?;
    writeln!(
        out,
        "{}; {}: hit rate {}",
        counted(t),
        dates(t),
        t.hit_rate.map_or_else(|| "n/a".to_owned(), percent)
    )?;
    writeln!(
        out,
        "saved {:.1} compute minutes ({} cached steps of unknown time), {:.0} billed minutes: {}",
        t.saved_seconds / 60.0,
        t.saved_unknown,
        t.billed_minutes_without_cache - t.billed_minutes,
        money(t.compute_saved)
    )?;
    writeln!(
        out,
        "cache overhead {:.1} minutes: {}; storage: {}; net: {}",
        t.overhead_seconds / 60.0,
        money(t.overhead_cost),
        t.storage_cost.map_or_else(
            || "unknown (--cache-repo or --cache-size-gb)".to_owned(),
            money
        ),
        t.net
            .map_or_else(|| "unknown".to_owned(), |n| signed(n, &t.currency))
    )?;
    writeln!(
        out,
        "report written to {} (index.html, report.md, charts/, tables/)",
        terminal(&folder.display().to_string())
    )
}
