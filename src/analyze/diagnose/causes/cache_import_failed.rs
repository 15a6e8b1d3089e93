//! `cache-import-failed`: a `--cache-from` import failed, so the build went on
//! without that cache. The first rule: without the import nothing could hit.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::{Cause, Evidence};
use crate::analyze::diagnose::evidence::{evidence, import_evidence};
use crate::analyze::diagnose::kind::CauseKind;

/// Why an import failed, from words of its error, and what to do about it.
struct Failure {
    /// Any of these in the error (lower case) says it.
    words: &'static [&'static str],
    /// The reason, in the summary.
    reason: &'static str,
    /// The fix.
    fix: &'static str,
}

/// The reasons, first match wins; an error none names is `failed`, with the
/// kind's own fix.
const FAILURES: &[Failure] = &[
    Failure {
        words: &["invalid reference format"],
        reason: "invalid reference format",
        fix: "pass --cache-from a plain image reference (`--cache-from registry/repo:tag`); `type=registry,ref=…` is buildx syntax that the docker 20.10 builder splits at the comma",
    },
    Failure {
        words: &["unauthorized", "authentication required"],
        reason: "unauthorized",
        fix: "log in to the cache registry before the build (`aws ecr get-login-password | docker login …`)",
    },
    Failure {
        words: &["denied", "forbidden"],
        reason: "denied",
        fix: "grant the build role pull access to the cache repository (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer)",
    },
    Failure {
        words: &["connection refused", "no such host", "i/o timeout"],
        reason: "registry unreachable",
        fix: "make the cache registry reachable from the builder (address, port, network, proxy)",
    },
    Failure {
        words: &["not found", "manifest unknown"],
        reason: "not found",
        fix: "point --cache-from at a tag that exists (push the cache image first, e.g. the previous build's `:latest` or branch tag)",
    },
];

/// The reason and the fix for an import error.
fn reason_and_fix(error: &str) -> (&'static str, &'static str) {
    let e = error.to_ascii_lowercase();
    FAILURES
        .iter()
        .find(|f| f.words.iter().any(|w| e.contains(w)))
        .map_or(("failed", CauseKind::CacheImportFailed.fix()), |f| {
            (f.reason, f.fix)
        })
}

/// Holds when any cache import failed; the first failure's error tells why.
pub fn check(ctx: &Context<'_>) -> Option<Cause> {
    let failed: Vec<_> = ctx.imports().iter().filter(|i| !i.ok).collect();
    let first = failed.first()?;
    let (reason, fix) = reason_and_fix(first.error.as_deref().unwrap_or(""));
    let refs: Vec<&str> = failed.iter().map(|i| i.reference.as_str()).collect();
    let mut ev: Vec<Evidence> = failed
        .iter()
        .flat_map(|i| import_evidence(ctx.target, i.vertex))
        .collect();
    ev.push(evidence(ctx.target, ctx.root));
    let summary = format!(
        "cache import failed ({reason}) for {}: the build went on without that cache",
        refs.join(", ")
    );
    Some(Cause {
        fix: fix.to_owned(),
        ..ctx.cause(CauseKind::CacheImportFailed, summary, ev)
    })
}
