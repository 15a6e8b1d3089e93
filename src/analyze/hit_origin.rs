//! Where a build's cache hits came from, best effort: the registry cache it
//! imported, or a local cache (the CodeBuild host's, a persistent builder).
//! BuildKit does not say per step; the rule reads what the log shows:
//!
//! - a build that imported no remote cache (none asked, or every import
//!   failed) can only have hit a local cache: `local`;
//! - a build whose import succeeded and whose cacheable steps fetched layers
//!   hit the remote cache: `remote` (BuildKit ≤ v0.8 pulls a chain of hits'
//!   layers under its last step, so the build, not the step, is the unit);
//! - a build whose import succeeded and that fetched no layer may have hit
//!   either (the layers were already local, or the import read a local
//!   image's inline metadata): `undetermined`.
//!
//! Then per project and ISO week: builds, hits and minutes saved by origin.

use polars::prelude::*;

use super::aggregate::BUILD_SAVINGS;
use super::columns::names;
use super::frames::{HitsByOrigin, OriginFigures};
use super::rows::BUILD;
use crate::model::Build;

/// Where a build's hits came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HitOrigin {
    /// The remote (registry) cache.
    Remote,
    /// A local cache.
    Local,
    /// Either.
    Undetermined,
}

impl HitOrigin {
    /// The rule above, for one build.
    pub fn of(build: &Build) -> Self {
        if !build.cache.imports.iter().any(|i| i.ok) {
            HitOrigin::Local
        } else if build.cache.fetch.layers > 0 {
            HitOrigin::Remote
        } else {
            HitOrigin::Undetermined
        }
    }

    /// The name used in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            HitOrigin::Remote => "remote",
            HitOrigin::Local => "local",
            HitOrigin::Undetermined => "undetermined",
        }
    }
}

names! {
    /// The `hits_by_origin` table: per project, ISO week and origin, the
    /// builds with a hit, their hits and the minutes those saved.
    pub struct HitOriginColumns = HIT_ORIGIN {
        project,
        week,
        hit_origin,
        builds,
        hits,
        saved_minutes,
    }
}

/// The `hits_by_origin` table of the window's builds that hit the cache.
pub(crate) fn hits_by_origin(builds: &DataFrame) -> PolarsResult<DataFrame> {
    builds
        .clone()
        .lazy()
        .filter(col(BUILD.cached).gt(lit(0u32)))
        .group_by([col(BUILD.project), col(BUILD.week), col(BUILD.hit_origin)])
        .agg([
            len().alias(HIT_ORIGIN.builds),
            col(BUILD.cached).sum().alias(HIT_ORIGIN.hits),
            (col(BUILD_SAVINGS.saved_seconds).sum() / lit(60.0)).alias(HIT_ORIGIN.saved_minutes),
        ])
        .sort(
            [HIT_ORIGIN.project, HIT_ORIGIN.week, HIT_ORIGIN.hit_origin],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .collect()
}

/// The window's hits by origin (the `builds` table's builds with a hit).
pub(crate) fn totals(builds: &DataFrame) -> PolarsResult<HitsByOrigin> {
    let df = builds
        .clone()
        .lazy()
        .filter(col(BUILD.cached).gt(lit(0u32)))
        .group_by([col(BUILD.hit_origin)])
        .agg([
            len().alias(HIT_ORIGIN.builds),
            col(BUILD.cached).sum().alias(HIT_ORIGIN.hits),
            (col(BUILD_SAVINGS.saved_seconds).sum() / lit(60.0)).alias(HIT_ORIGIN.saved_minutes),
        ])
        .collect()?;
    let origin = df.column(BUILD.hit_origin)?.str()?;
    let n = df.column(HIT_ORIGIN.builds)?.cast(&DataType::UInt64)?;
    let hits = df.column(HIT_ORIGIN.hits)?.cast(&DataType::UInt64)?;
    let saved = df.column(HIT_ORIGIN.saved_minutes)?.f64()?.clone();
    let (n, hits) = (n.u64()?, hits.u64()?);
    let mut out = HitsByOrigin::default();
    for i in 0..df.height() {
        let figures = OriginFigures {
            builds: n.get(i).unwrap_or(0) as usize,
            hits: hits.get(i).unwrap_or(0) as usize,
            saved_minutes: saved.get(i).unwrap_or(0.0),
        };
        match origin.get(i) {
            Some("remote") => out.remote = figures,
            Some("local") => out.local = figures,
            _ => out.undetermined = figures,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_log;

    fn origin(text: &str) -> HitOrigin {
        HitOrigin::of(&parse_log(text.as_bytes(), "t.log").builds[0])
    }

    #[test]
    fn the_rule_reads_the_import_and_the_fetches() {
        let layer = format!("sha256:{}", "a".repeat(64));
        let hit = format!("#2 [2/2] RUN a\n#2 pulling {layer} 0.1s done\n#2 CACHED\n");
        let import = "#1 importing cache manifest from r/app:c\n#1 DONE 0.1s\n\n";
        let failed = "#1 importing cache manifest from r/app:c\n#1 ERROR: not found\n\n";
        assert_eq!(origin(&format!("{import}{hit}")), HitOrigin::Remote);
        assert_eq!(origin(&format!("{failed}{hit}")), HitOrigin::Local);
        assert_eq!(origin(&hit), HitOrigin::Local, "no import: a local cache");
        assert_eq!(
            origin(&format!("{import}#2 [2/2] RUN a\n#2 CACHED\n")),
            HitOrigin::Undetermined
        );
    }
}
