//! `base-image-changed`: the `FROM` of the first miss's stage has another digest
//! than in the baseline, which invalidates every step built on it. After
//! `step-failed`.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::evidence;
use crate::analyze::diagnose::instructions::image_digest;
use crate::analyze::diagnose::kind::CauseKind;

/// Holds when the baseline's `FROM` of the same image has another `@sha256:` digest.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let b = ctx.baseline?;
    let (now, then) = ctx.base_changed()?;
    let (d1, d0) = (image_digest(now)?, image_digest(then)?);
    let ev = vec![
        evidence(ctx.target, now),
        evidence(b, then),
        evidence(ctx.target, ctx.root),
    ];
    let summary = format!("the base image changed: {d0} → {d1}");
    Some(ctx.cause(CauseKind::BaseImageChanged, summary, ev))
}
