//! `cache-import-no-hit`: every cache import succeeded but no step hit: the
//! image holds no cache metadata for these steps. After `cache-export-failed`
//! (the baseline's export did not fail).

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::{evidence, imports_evidence};
use crate::analyze::diagnose::kind::CauseKind;

/// Holds when the build imported a cache and no step hit.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let imports = ctx.imports();
    if imports.is_empty() || !ctx.cached().is_empty() {
        return None;
    }
    let mut ev = imports_evidence(ctx.target);
    ev.push(evidence(ctx.target, ctx.root));
    let summary = format!(
        "the cache import of {} succeeded but no step hit: the image holds no cache metadata for these steps",
        imports
            .iter()
            .map(|i| i.reference.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
    Some(ctx.cause(CauseKind::CacheImportNoHit, summary, ev))
}
