//! `source-changed`: the first miss copies files from the context, so they
//! changed. After `dependencies-changed` (not only manifests).

use super::context_files::{files_evidence, how};
use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::instructions::{copy_sources, is_context_copy};
use crate::analyze::diagnose::kind::CauseKind;

/// Holds when the first miss is a `COPY`/`ADD` from the context.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    if !is_context_copy(ctx.root) {
        return None;
    }
    let sources = copy_sources(ctx.root).join(" ");
    let summary = format!("source files changed ({sources}): {}", how(ctx));
    Some(ctx.cause(CauseKind::SourceChanged, summary, files_evidence(ctx)))
}
