//! `no-cache-flag`: built with `--no-cache`: every step executed, only the
//! `WORKDIR`s (which BuildKit reports `CACHED` even then) "hit". After the
//! import rules, and only when the first miss's stage does not explain it (see
//! [`Context::stage_explains_root`]).

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::{context_evidence, evidence};
use crate::analyze::diagnose::instructions::is_context_copy;
use crate::analyze::diagnose::kind::CauseKind;
use crate::model::{Status, Step};

/// Holds when nothing was imported, only `WORKDIR`s were cached while other
/// steps executed, and the first miss is not a copy of a context that changed
/// (or whose change is unknown).
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let workdir = |s: &Step| s.instruction.as_deref() == Some("WORKDIR");
    let cached = ctx.cached();
    let holds = ctx.imports().is_empty()
        && !cached.is_empty()
        && cached.iter().all(|s| workdir(s))
        && ctx
            .target
            .cacheable()
            .any(|s| !workdir(s) && s.status == Status::Done)
        && !(is_context_copy(ctx.root) && ctx.context_changed() != Some(false))
        && !ctx.stage_explains_root();
    if !holds {
        return None;
    }
    let mut ev = vec![evidence(ctx.target, ctx.root)];
    ev.extend(cached.iter().map(|s| evidence(ctx.target, s)));
    ev.extend(context_evidence(ctx.target));
    if let Some(b) = ctx.baseline
        && let Some(s) = ctx.before.filter(|s| s.status == Status::Cached)
    {
        ev.push(evidence(b, s));
    }
    let summary = "built with --no-cache: every step executed although the context did not change (the CACHED WORKDIR is reported so even under --no-cache: not a hit)".to_owned();
    Some(ctx.cause(CauseKind::NoCacheFlag, summary, ev))
}
