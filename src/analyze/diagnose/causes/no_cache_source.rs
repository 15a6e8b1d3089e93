//! `no-cache-source`: the build ran cold: no cache import and nothing in the
//! local cache (a new or pruned builder). The last build rule, and only when the
//! first miss's stage does not explain it (see [`Context::stage_explains_root`]).

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::evidence;
use crate::analyze::diagnose::kind::CauseKind;
use crate::model::Status;

/// Holds when nothing was imported and nothing was cached; the baseline's
/// import or local hit is cited when it had one.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    if !ctx.imports().is_empty() || !ctx.cached().is_empty() || ctx.stage_explains_root() {
        return None;
    }
    let mut ev = vec![evidence(ctx.target, ctx.root)];
    let mut summary =
        "no cache source: no --cache-from import and nothing in the local cache (a new or pruned builder)".to_owned();
    if let Some(b) = ctx.baseline {
        if let Some(i) = b.cache.imports.first()
            && let Some(s) = b.steps.iter().find(|s| s.vertex == i.vertex)
        {
            ev.push(evidence(b, s));
            summary.push_str("; the baseline imported a remote cache");
        } else if let Some(s) = ctx.before.filter(|s| s.status == Status::Cached) {
            ev.push(evidence(b, s));
            summary.push_str("; the baseline hit its local cache");
        }
    }
    Some(ctx.cause(CauseKind::NoCacheSource, summary, ev))
}
