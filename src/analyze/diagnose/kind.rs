//! The kinds of cause, their names and what to do about each.

use serde::Serialize;

/// What made the cache miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CauseKind {
    /// A `--cache-from` import failed (not found, unauthorized, denied, invalid reference, …).
    CacheImportFailed,
    /// The build ran cold: no cache import and nothing cached.
    NoCacheSource,
    /// `--no-cache`: every step executed although the cache was there.
    NoCacheFlag,
    /// The base image (`FROM … @sha256:`) differs from the baseline's.
    BaseImageChanged,
    /// A `COPY`/`ADD` of dependency manifests whose files changed.
    DependenciesChanged,
    /// A `COPY`/`ADD` of source files that changed.
    SourceChanged,
    /// The instruction's text differs from the baseline's (RUN command, ARG/ENV value).
    InstructionChanged,
    /// Inline (min-mode) cache holds only the final stage: builder stages re-ran.
    InlineCacheGap,
    /// The baseline's cache export failed, so there was nothing to import.
    CacheExportFailed,
    /// The import succeeded but no step hit.
    CacheImportNoHit,
    /// The missed step itself failed: a failed step is never cached.
    StepFailed,
    /// None of the checks explains the miss.
    Unknown,
}

impl CauseKind {
    /// The name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::CacheImportFailed => "cache-import-failed",
            CauseKind::NoCacheSource => "no-cache-source",
            CauseKind::NoCacheFlag => "no-cache-flag",
            CauseKind::BaseImageChanged => "base-image-changed",
            CauseKind::DependenciesChanged => "dependencies-changed",
            CauseKind::SourceChanged => "source-changed",
            CauseKind::InstructionChanged => "instruction-changed",
            CauseKind::InlineCacheGap => "inline-cache-gap",
            CauseKind::CacheExportFailed => "cache-export-failed",
            CauseKind::CacheImportNoHit => "cache-import-no-hit",
            CauseKind::StepFailed => "step-failed",
            CauseKind::Unknown => "unknown",
        }
    }

    /// One line: what to do about a cause of this kind. A failed import whose
    /// error says why has a fix of its own (`causes/cache_import_failed.rs`);
    /// this one is for an error that says nothing known.
    pub fn fix(self) -> &'static str {
        match self {
            CauseKind::CacheImportFailed => {
                "check the --cache-from reference and the registry's credentials"
            }
            CauseKind::NoCacheSource => {
                "configure a remote cache: --cache-from <registry>/<repo>:<tag> on every build, and export it (--build-arg BUILDKIT_INLINE_CACHE=1 then push, or --cache-to type=registry,mode=max)"
            }
            CauseKind::NoCacheFlag => {
                "drop --no-cache (use --pull to refresh the base image, or --no-cache-filter <stage> for one stage)"
            }
            CauseKind::BaseImageChanged => {
                "expected after a base image update; pin FROM to a digest and update it on purpose to control when the cache is rebuilt"
            }
            CauseKind::DependenciesChanged => {
                "expected when dependencies change; keep manifests in their own COPY before the install (as here) and use a cache mount (RUN --mount=type=cache) for the package manager"
            }
            CauseKind::SourceChanged => {
                "expected after a source change; copy dependency manifests and install before copying the sources, and keep .dockerignore tight so unrelated files do not break the cache"
            }
            CauseKind::InstructionChanged => {
                "expected if the Dockerfile was edited; if a build arg (timestamp, commit) changes every build, use it only in the last steps"
            }
            CauseKind::InlineCacheGap => {
                "export the builder stages too: --cache-to type=registry,mode=max (buildx), or push each builder stage (--target) with BUILDKIT_INLINE_CACHE=1 and add it to --cache-from"
            }
            CauseKind::CacheExportFailed => {
                "fix the cache export of the build that writes the cache (registry push rights, --cache-to), then rebuild it"
            }
            CauseKind::CacheImportNoHit => {
                "push the cache image with its cache metadata (--build-arg BUILDKIT_INLINE_CACHE=1, or --cache-to type=registry,mode=max); else the cache expired, has the wrong scope/tag, or was built for another platform"
            }
            CauseKind::StepFailed => {
                "fix the step's error; until then it re-runs (with everything after it) on every build"
            }
            CauseKind::Unknown => {
                "compare with `cachelens diagnose --baseline <log of a build that hit>`; other causes: cache garbage-collected on the builder, --no-cache-filter, a changed build arg not shown in the step text"
            }
        }
    }
}
