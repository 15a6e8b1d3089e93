//! `instruction-changed`: the first miss's text matches no step of the baseline
//! (its RUN command, or an ARG/ENV value in it, changed). After the base image
//! rule; before the files rules, since a new text misses whatever it copies.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::evidence;
use crate::analyze::diagnose::kind::CauseKind;

/// Holds when the baseline has cacheable steps and none with the first miss's
/// key; the baseline's step at the same place is cited when there is one.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let b = ctx.baseline?;
    if ctx.before.is_some() || !b.steps.iter().any(|s| s.cacheable) {
        return None;
    }
    let root = ctx.root;
    let mut ev = vec![evidence(ctx.target, root)];
    if let Some(old) = b
        .steps
        .iter()
        .find(|s| s.cacheable && s.stage == root.stage && s.position == root.position)
    {
        ev.push(evidence(b, old));
    }
    let summary = "the instruction's text differs from every step of the baseline (RUN command or an ARG/ENV value in it changed)".to_owned();
    Some(ctx.cause(CauseKind::InstructionChanged, summary, ev))
}
