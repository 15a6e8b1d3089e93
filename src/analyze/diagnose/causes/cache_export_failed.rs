//! `cache-export-failed`: the import succeeded but nothing hit, and the
//! baseline's cache export had failed: there was no usable cache to import.
//! After `cache-import-failed` (every import succeeded).

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::{evidence, imports_evidence};
use crate::analyze::diagnose::kind::CauseKind;

/// Holds when the build imported a cache, no step hit, and the baseline's cache export failed.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let imports = ctx.imports();
    if imports.is_empty() || !ctx.cached().is_empty() {
        return None;
    }
    let b = ctx.baseline?;
    let export = b.cache.exports.iter().find(|e| !e.ok)?;
    let mut ev = imports_evidence(ctx.target);
    ev.push(evidence(ctx.target, ctx.root));
    if let Some(s) = b.steps.iter().find(|s| s.vertex == export.vertex) {
        ev.push(evidence(b, s));
    }
    let summary = format!(
        "the baseline's cache export failed ({}): the import found no usable cache",
        export.error.as_deref().unwrap_or("error")
    );
    Some(ctx.cause(CauseKind::CacheExportFailed, summary, ev))
}
