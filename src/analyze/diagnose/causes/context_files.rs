//! Not a rule: what the two rules on files from the build context
//! (`dependencies-changed`, `source-changed`) share: the evidence, and what the
//! context transfer says.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Evidence;
use crate::analyze::diagnose::evidence::{context_evidence, evidence};

/// The first miss, the context transfer lines and the baseline's step.
pub fn files_evidence(ctx: &Context<'_>) -> Vec<Evidence> {
    let mut ev = vec![evidence(ctx.target, ctx.root)];
    ev.extend(context_evidence(ctx.target));
    if let Some(b) = ctx.baseline {
        if let Some(s) = ctx.before {
            ev.push(evidence(b, s));
        }
        if let Some(c) = context_evidence(b) {
            ev.push(c);
        }
    }
    ev
}

/// How the change shows: the context sent more than an unchanged one (and
/// than the baseline, which hit), or its size does not show it.
pub fn how(ctx: &Context<'_>) -> String {
    let Some(c) = ctx.target.context.as_ref() else {
        return "it is the first miss and its inputs are files from the context".to_owned();
    };
    let baseline = ctx.baseline.and_then(|b| b.context.as_ref());
    let no_larger = baseline.filter(|b| matches!((c.bytes, b.bytes), (Some(n), Some(m)) if n <= m));
    match (ctx.context_changed(), no_larger) {
        (Some(true), None) => format!(
            "the build context sent {} (an unchanged context sends {} B{})",
            c.size,
            ctx.peers.unchanged_context_bytes.unwrap_or(0),
            baseline.map_or_else(String::new, |b| format!(", the baseline sent {}", b.size))
        ),
        (Some(_), Some(b)) => format!(
            "it is the first miss and its inputs are files from the context (the transfer, {}, is no larger than the baseline's, {}, which hit: its size does not show the change)",
            c.size, b.size
        ),
        (Some(false), None) => format!(
            "it is the first miss and its inputs are files from the context (the transfer, {}, does not show the change: a new or pruned builder sends the whole context)",
            c.size
        ),
        (None, _) => "it is the first miss and its inputs are files from the context".to_owned(),
    }
}
