//! `step-failed`: the first miss failed, and a failed step is never cached. The
//! first step rule: whatever its inputs, a failed step runs again.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::evidence::{evidence, step_error_evidence};
use crate::analyze::diagnose::kind::CauseKind;
use crate::model::Status;

/// Holds when the first miss ended in `ERROR`.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let root = ctx.root;
    if root.status != Status::Error {
        return None;
    }
    let mut ev = vec![evidence(ctx.target, root)];
    ev.extend(step_error_evidence(ctx.target, root));
    let summary = format!(
        "the step failed ({}): a failed step is never cached, so it runs again next time",
        root.error.as_deref().unwrap_or("error")
    );
    Some(ctx.cause(CauseKind::StepFailed, summary, ev))
}
