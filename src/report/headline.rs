//! What `cachelens report` prints when it has written the report folder: the
//! window, the hit rate, the time and money saved against the cache's costs.

use std::io::{self, Write};
use std::path::Path;

use crate::analyze::frames::Totals;
use crate::summary::percent;

/// Writes the headline of an analysis whose report went to `folder`.
pub fn write(t: &Totals, folder: &Path, out: &mut dyn Write) -> io::Result<()> {
    let money = |x: f64| format!("{x:.2} {}", t.currency);
    writeln!(
        out,
        "{} builds in {} runs, {} to {}: hit rate {}",
        t.builds,
        t.runs,
        t.first_day.as_deref().unwrap_or("?"),
        t.last_day.as_deref().unwrap_or("?"),
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
        money(t.net)
    )?;
    writeln!(
        out,
        "report written to {} (index.html, report.md, charts/, tables/)",
        folder.display()
    )
}
