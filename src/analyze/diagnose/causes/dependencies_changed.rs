//! `dependencies-changed`: the first miss copies dependency manifests only
//! (`package.json`, `go.sum`, …) from the context, so they changed. After
//! `instruction-changed`.

use super::context_files::{files_evidence, how};
use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Cause;
use crate::analyze::diagnose::instructions::{copy_sources, is_context_copy, is_manifest_copy};
use crate::analyze::diagnose::kind::CauseKind;

/// Holds when the first miss is a `COPY`/`ADD` of manifests from the context.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    if !is_context_copy(ctx.root) || !is_manifest_copy(ctx.root) {
        return None;
    }
    let sources = copy_sources(ctx.root).join(" ");
    let summary = format!("dependency manifests changed ({sources}): {}", how(ctx));
    Some(ctx.cause(CauseKind::DependenciesChanged, summary, files_evidence(ctx)))
}
