//! `inline-cache-gap`: an inline (min-mode) cache holds only the final stage's
//! layers, so a builder stage re-ran although the final stage hit. After the
//! import rules (an import succeeded and something hit).

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::{evidence, imports_evidence};
use crate::analyze::diagnose::kind::CauseKind;
use crate::model::Status;

/// Holds when a cache was imported, the final stage hit, the first miss is in
/// another stage, its files did not change and the baseline had it cached.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    if ctx.imports().is_empty() || ctx.stages.len() < 2 {
        return None;
    }
    let last = ctx.stages.last()?;
    let hit = last.steps.iter().find(|s| s.status == Status::Cached)?;
    let root_stage = ctx.root.stage.as_deref();
    let hit_before = ctx.before.is_none_or(|s| s.status == Status::Cached);
    if root_stage == last.name || ctx.root_copies_a_changed_context() || !hit_before {
        return None;
    }
    let mut ev = imports_evidence(ctx.target);
    ev.push(evidence(ctx.target, hit));
    ev.push(evidence(ctx.target, ctx.root));
    if let Some(b) = ctx.baseline
        && let Some(s) = ctx.before
    {
        ev.push(evidence(b, s));
    }
    let summary = format!(
        "inline cache holds only the final stage's layers: stage {} re-ran although {} was importable",
        root_stage.unwrap_or("?"),
        hit.label()
    );
    Some(ctx.cause(CauseKind::InlineCacheGap, summary, ev))
}
