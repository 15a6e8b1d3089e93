//! `unknown`: none of the rules before it explains the first miss. The last
//! rule; it always holds.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::evidence;
use crate::analyze::diagnose::kind::CauseKind;

/// What the step rules before this one looked at, for the summary.
const CHECKED: &str = "base image digest, instruction text, cache import/export";

/// Always holds: the first miss, and the baseline's step when it has one.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let mut ev = vec![evidence(ctx.target, ctx.root)];
    if let Some(b) = ctx.baseline
        && let Some(s) = ctx.before
    {
        ev.push(evidence(b, s));
    }
    let summary = format!(
        "no cause found (checked: {CHECKED}{})",
        if ctx.baseline.is_none() {
            "; no baseline to compare"
        } else {
            ""
        }
    );
    Some(ctx.cause(CauseKind::Unknown, summary, ev))
}
