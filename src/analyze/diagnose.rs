//! Why a build missed the cache: the first miss of each stage in Dockerfile
//! order, the later misses that are only its cascade, and the likely cause with
//! the log lines that prove it, against a baseline build that hit.
//!
//! A pure function over [`Build`] records: nothing here reads text beyond the
//! vertex names and the few lines the assembler keeps (headers, `ERROR:` lines,
//! the context transfer line).
//!
//! Stage order: BuildKit prints vertices in no useful order, so stages are
//! ordered as the Dockerfile must have them: a stage with its own `FROM <image>`
//! (a `FROM` vertex, or steps that start at position 2) first, then stages built
//! on another stage, after every stage they `COPY --from`; ties by first header
//! line. Inside a stage, steps go by position `i` of `[stage i/n]`.
//!
//! Cascade: the later misses of a stage follow its first miss; a stage whose
//! first miss is a `COPY --from=<stage>` of a stage that missed, or a stage built
//! `FROM` another stage whose first instruction missed while a stage with its
//! own base missed, belongs to that miss's cascade.

use std::collections::BTreeMap;

use serde::Serialize;

use super::key::step_key;
use crate::model::{Build, Kind, Status, Step};

/// Why a build could not be diagnosed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiagnoseError {
    /// The build has no Dockerfile instruction the cache could serve.
    #[error("{log} build {number}: no cacheable Dockerfile step to diagnose")]
    NoCacheableStep {
        /// Where the build was read.
        log: String,
        /// 1-based build number in its source.
        number: usize,
    },
}

/// A log line that backs a cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Where the line is: a path, `-` or `group/stream`.
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// The line as read (without CI framing).
    pub text: String,
}

/// A step named in a diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRef {
    /// BuildKit's vertex number.
    pub vertex: u32,
    /// The vertex name.
    pub name: String,
    /// Its stage, when printed.
    pub stage: Option<String>,
    /// `[i, n]` in its stage.
    pub position: Option<[u32; 2]>,
    /// How it ended.
    pub status: Status,
    /// 1-based line of its header.
    pub line: u64,
}

impl StepRef {
    fn of(step: &Step) -> Self {
        StepRef {
            vertex: step.vertex,
            name: step.label().to_owned(),
            stage: step.stage.clone(),
            position: step.position,
            status: step.status,
            line: step.line,
        }
    }
}

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
}

/// One cause: the first miss it explains, the misses that follow from it, the
/// lines that show it and what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    /// What it is.
    pub cause: CauseKind,
    /// The first missed step it explains (Dockerfile order).
    pub step: Option<StepRef>,
    /// Later misses that are only its consequence.
    pub cascade: Vec<StepRef>,
    /// One sentence: what happened.
    pub summary: String,
    /// The log lines that show it.
    pub evidence: Vec<Evidence>,
    /// One line: what to do.
    pub fix: String,
}

/// The build a diagnosis compared against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineRef {
    /// Where it was read.
    pub source: String,
    /// 0-based index in its source.
    pub index: usize,
    /// Its hit rate.
    pub hit_rate: Option<f64>,
}

/// The diagnosis of one build.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Where the build was read.
    pub source: String,
    /// 0-based index in its source.
    pub index: usize,
    /// The CodeBuild build id, when known.
    pub build_id: Option<String>,
    /// Its hit rate.
    pub hit_rate: Option<f64>,
    /// Cacheable steps and how many were cached.
    pub cacheable: usize,
    /// Cached cacheable steps.
    pub cached: usize,
    /// The baseline, when one was given or found.
    pub baseline: Option<BaselineRef>,
    /// The causes, in Dockerfile order of their first misses; empty when nothing missed.
    pub causes: Vec<Cause>,
}

/// Facts from other builds of the same project that a diagnosis uses.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Peers {
    /// The smallest context transfer seen in the other builds: what an unchanged
    /// context sends (file metadata only).
    pub unchanged_context_bytes: Option<u64>,
}

impl Peers {
    /// From the other builds of the same project. Only builds that hit the
    /// cache count: a cold build (new or pruned builder) sends the whole context.
    pub fn of<'a>(others: impl IntoIterator<Item = &'a Build>) -> Peers {
        Peers {
            unchanged_context_bytes: others
                .into_iter()
                .filter(|b| b.hit_rate.is_some_and(|r| r > 0.0))
                .filter_map(|b| b.context.as_ref()?.bytes)
                .min(),
        }
    }
}

/// Dependency manifests: a `COPY` of only these is a dependency install's input.
const MANIFESTS: &[&str] = &[
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "requirements.txt",
    "requirements-dev.txt",
    "pyproject.toml",
    "poetry.lock",
    "Pipfile",
    "Pipfile.lock",
    "uv.lock",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "Gemfile",
    "Gemfile.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "gradle.lockfile",
    "composer.json",
    "composer.lock",
    "mix.exs",
    "mix.lock",
    "packages.lock.json",
    "Podfile.lock",
    "pubspec.yaml",
    "pubspec.lock",
];

fn is_miss(step: &Step) -> bool {
    step.cacheable && matches!(step.status, Status::Done | Status::Error)
}

fn evidence(build: &Build, step: &Step) -> Evidence {
    Evidence {
        source: build.source.clone(),
        line: step.line,
        text: format!("#{} {}", step.vertex, step.label()),
    }
}

/// Words of a step's arguments (after `COPY`/`ADD`).
fn args(step: &Step) -> Vec<&str> {
    step.args
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect()
}

/// `X` of `COPY --from=X …`.
fn copy_from(step: &Step) -> Option<String> {
    if !matches!(step.instruction.as_deref(), Some("COPY" | "ADD")) {
        return None;
    }
    args(step)
        .iter()
        .find_map(|w| w.strip_prefix("--from=").map(str::to_owned))
}

/// The sources of a `COPY`/`ADD` from the context (flags and destination dropped).
fn copy_sources(step: &Step) -> Vec<&str> {
    let words = args(step);
    let files: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !w.starts_with("--"))
        .collect();
    match files.split_last() {
        Some((_, sources)) => sources.to_vec(),
        None => Vec::new(),
    }
}

fn is_manifest_copy(step: &Step) -> bool {
    let sources = copy_sources(step);
    !sources.is_empty()
        && sources.iter().all(|s| {
            let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
            MANIFESTS.contains(&name)
        })
}

fn is_context_copy(step: &Step) -> bool {
    matches!(step.instruction.as_deref(), Some("COPY" | "ADD")) && copy_from(step).is_none()
}

/// A stage of the build as the log shows it.
struct Stage<'a> {
    name: Option<&'a str>,
    /// Its cacheable steps by position.
    steps: Vec<&'a Step>,
    /// Whether it has its own base image (a `FROM` vertex, or steps from position 2).
    own_base: bool,
    first_line: u64,
    rank: u32,
}

/// Stages in Dockerfile order (see the module doc).
fn stages(build: &Build) -> Vec<Stage<'_>> {
    let mut by_name: BTreeMap<Option<&str>, Stage<'_>> = BTreeMap::new();
    for s in &build.steps {
        if !matches!(s.kind, Kind::Instruction | Kind::From) {
            continue;
        }
        let stage = by_name.entry(s.stage.as_deref()).or_insert(Stage {
            name: s.stage.as_deref(),
            steps: Vec::new(),
            own_base: false,
            first_line: s.line,
            rank: 0,
        });
        stage.first_line = stage.first_line.min(s.line);
        if s.kind == Kind::From {
            stage.own_base = true;
        } else {
            stage.steps.push(s);
        }
    }
    for stage in by_name.values_mut() {
        stage
            .steps
            .sort_by_key(|s| (s.position.map_or(u32::MAX, |p| p[0]), s.line));
        let lowest = stage.steps.first().and_then(|s| s.position).map(|p| p[0]);
        if lowest.is_some_and(|p| p >= 2) {
            stage.own_base = true;
        }
    }
    // rank: 0 for own base; else 1 + the highest rank of the stages it copies from
    let deps: BTreeMap<Option<&str>, Vec<String>> = by_name
        .iter()
        .map(|(k, st)| (*k, st.steps.iter().filter_map(|s| copy_from(s)).collect()))
        .collect();
    let names: Vec<Option<&str>> = by_name.keys().copied().collect();
    let mut rank: BTreeMap<Option<&str>, u32> = BTreeMap::new();
    for _ in 0..=names.len() {
        for k in &names {
            let st = &by_name[k];
            let r = if st.own_base {
                0
            } else {
                1 + deps[k]
                    .iter()
                    .filter_map(|d| rank.get(&Some(d.as_str())))
                    .copied()
                    .max()
                    .unwrap_or(0)
            };
            rank.insert(*k, r.min(names.len() as u32 + 1));
        }
    }
    let mut out: Vec<Stage<'_>> = by_name
        .into_iter()
        .map(|(k, mut st)| {
            st.rank = rank.get(&k).copied().unwrap_or(0);
            st
        })
        .filter(|st| !st.steps.is_empty())
        .collect();
    out.sort_by_key(|st| (st.rank, st.first_line));
    out
}

/// A first miss and the misses that follow from it.
struct Group<'a> {
    root: &'a Step,
    cascade: Vec<&'a Step>,
}

/// First misses per stage in Dockerfile order, with their cascades grouped.
fn groups(build: &Build) -> (Vec<Group<'_>>, Vec<Stage<'_>>) {
    let stages = stages(build);
    let mut groups: Vec<Group<'_>> = Vec::new();
    // stage name → index of the group its misses went to
    let mut owner: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for stage in &stages {
        let misses: Vec<&Step> = stage.steps.iter().copied().filter(|s| is_miss(s)).collect();
        let Some((&first, rest)) = misses.split_first() else {
            continue;
        };
        let from_stage = copy_from(first).and_then(|f| owner.get(&Some(f.as_str())).copied());
        let from_parent = (!stage.own_base && first.position.is_some_and(|p| p[0] == 1))
            .then(|| {
                stages
                    .iter()
                    .filter(|s| s.own_base && s.rank == 0)
                    .find_map(|s| owner.get(&s.name).copied())
            })
            .flatten();
        match from_stage.or(from_parent) {
            Some(g) => {
                groups[g].cascade.extend(misses.iter().copied());
                owner.insert(stage.name, g);
            }
            None => {
                owner.insert(stage.name, groups.len());
                groups.push(Group {
                    root: first,
                    cascade: rest.to_vec(),
                });
            }
        }
    }
    (groups, stages)
}

/// The first miss in Dockerfile order, for choosing a baseline.
pub fn first_miss(build: &Build) -> Option<&Step> {
    groups(build).0.first().map(|g| g.root)
}

/// Picks the baseline among `earlier` builds (oldest first): the most recent one
/// in which the target's first miss was `CACHED`, or that had a higher hit rate.
pub fn pick_baseline<'a>(target: &Build, earlier: &[&'a Build]) -> Option<&'a Build> {
    let key = first_miss(target).and_then(step_key);
    let rate = target.hit_rate.unwrap_or(0.0);
    earlier.iter().rev().copied().find(|b| {
        let hit = key.as_ref().is_some_and(|k| {
            b.steps
                .iter()
                .any(|s| s.status == Status::Cached && step_key(s).as_ref() == Some(k))
        });
        hit || b.hit_rate.is_some_and(|r| r > rate)
    })
}

fn import_failure(error: &str) -> (&'static str, &'static str) {
    let e = error.to_ascii_lowercase();
    if e.contains("invalid reference format") {
        (
            "invalid reference format",
            "pass --cache-from a plain image reference (`--cache-from registry/repo:tag`); `type=registry,ref=…` is buildx syntax that the docker 20.10 builder splits at the comma",
        )
    } else if e.contains("unauthorized") || e.contains("authentication required") {
        (
            "unauthorized",
            "log in to the cache registry before the build (`aws ecr get-login-password | docker login …`)",
        )
    } else if e.contains("denied") || e.contains("forbidden") {
        (
            "denied",
            "grant the build role pull access to the cache repository (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer)",
        )
    } else if e.contains("connection refused")
        || e.contains("no such host")
        || e.contains("i/o timeout")
    {
        (
            "registry unreachable",
            "make the cache registry reachable from the builder (address, port, network, proxy)",
        )
    } else if e.contains("not found") || e.contains("manifest unknown") {
        (
            "not found",
            "point --cache-from at a tag that exists (push the cache image first, e.g. the previous build's `:latest` or branch tag)",
        )
    } else {
        (
            "failed",
            "check the --cache-from reference and the registry's credentials",
        )
    }
}

fn import_evidence(build: &Build, vertex: u32) -> Vec<Evidence> {
    let mut ev = Vec::new();
    if let Some(step) = build.steps.iter().find(|s| s.vertex == vertex) {
        ev.push(evidence(build, step));
    }
    if let Some(i) = build.cache.imports.iter().find(|i| i.vertex == vertex)
        && let Some(err) = &i.error
        && let Some([_, line]) = build
            .error_lines
            .iter()
            .find(|[v, _]| *v == u64::from(vertex))
            .copied()
    {
        ev.push(Evidence {
            source: build.source.clone(),
            line,
            text: format!("#{vertex} ERROR: {err}"),
        });
    }
    ev
}

fn context_evidence(build: &Build) -> Option<Evidence> {
    build.context.as_ref().map(|c| Evidence {
        source: build.source.clone(),
        line: c.line,
        text: c.text.clone(),
    })
}

/// The steps of `build` with the same key as `step`.
fn same_step<'a>(build: &'a Build, step: &Step) -> Option<&'a Step> {
    let key = step_key(step)?;
    build
        .steps
        .iter()
        .find(|s| step_key(s).as_ref() == Some(&key))
}

/// Diagnoses `target` against `baseline` (an earlier build that hit, if any).
pub fn diagnose(
    target: &Build,
    baseline: Option<&Build>,
    peers: Peers,
) -> Result<Diagnosis, DiagnoseError> {
    let cacheable = target.cacheable().count();
    if cacheable == 0 {
        return Err(DiagnoseError::NoCacheableStep {
            log: target.source.clone(),
            number: target.index + 1,
        });
    }
    let cached = target
        .cacheable()
        .filter(|s| s.status == Status::Cached)
        .count();
    let (groups, stages) = groups(target);
    let mut diagnosis = Diagnosis {
        source: target.source.clone(),
        index: target.index,
        build_id: target.build_id.clone(),
        hit_rate: target.hit_rate,
        cacheable,
        cached,
        baseline: baseline.map(|b| BaselineRef {
            source: b.source.clone(),
            index: b.index,
            hit_rate: b.hit_rate,
        }),
        causes: Vec::new(),
    };
    if groups.is_empty() {
        return Ok(diagnosis);
    }
    if let Some(cause) = build_cause(target, baseline, peers, &groups, &stages) {
        diagnosis.causes.push(cause);
    } else {
        for g in &groups {
            diagnosis
                .causes
                .push(step_cause(target, baseline, peers, g));
        }
    }
    Ok(diagnosis)
}

/// One cause for every miss at once: the whole build lost its cache.
fn build_cause(
    target: &Build,
    baseline: Option<&Build>,
    peers: Peers,
    groups: &[Group<'_>],
    stages: &[Stage<'_>],
) -> Option<Cause> {
    let root = groups[0].root;
    let all = || -> Vec<StepRef> {
        groups
            .iter()
            .flat_map(|g| std::iter::once(g.root).chain(g.cascade.iter().copied()))
            .filter(|s| !std::ptr::eq(*s, root))
            .map(StepRef::of)
            .collect()
    };
    let cause = |kind: CauseKind, summary: String, evidence: Vec<Evidence>, fix: &str| Cause {
        cause: kind,
        step: Some(StepRef::of(root)),
        cascade: all(),
        summary,
        evidence,
        fix: fix.to_owned(),
    };
    let imports = &target.cache.imports;
    let failed: Vec<_> = imports.iter().filter(|i| !i.ok).collect();
    let cached: Vec<&Step> = target
        .cacheable()
        .filter(|s| s.status == Status::Cached)
        .collect();

    // 1. a cache import failed
    if !failed.is_empty() {
        let (reason, fix) = import_failure(failed[0].error.as_deref().unwrap_or(""));
        let refs: Vec<&str> = failed.iter().map(|i| i.reference.as_str()).collect();
        let mut ev: Vec<Evidence> = failed
            .iter()
            .flat_map(|i| import_evidence(target, i.vertex))
            .collect();
        ev.push(evidence(target, root));
        return Some(cause(
            CauseKind::CacheImportFailed,
            format!(
                "cache import failed ({reason}) for {}: the build went on without that cache",
                refs.join(", ")
            ),
            ev,
            fix,
        ));
    }
    // 2. imported, nothing hit
    if !imports.is_empty() && cached.is_empty() {
        let mut ev: Vec<Evidence> = imports
            .iter()
            .flat_map(|i| import_evidence(target, i.vertex))
            .collect();
        ev.push(evidence(target, root));
        if let Some(b) = baseline
            && let Some(e) = b.cache.exports.iter().find(|e| !e.ok)
        {
            if let Some(s) = b.steps.iter().find(|s| s.vertex == e.vertex) {
                ev.push(evidence(b, s));
            }
            return Some(cause(
                CauseKind::CacheExportFailed,
                format!(
                    "the baseline's cache export failed ({}): the import found no usable cache",
                    e.error.as_deref().unwrap_or("error")
                ),
                ev,
                "fix the cache export of the build that writes the cache (registry push rights, --cache-to), then rebuild it",
            ));
        }
        return Some(cause(
            CauseKind::CacheImportNoHit,
            format!(
                "the cache import of {} succeeded but no step hit: the image holds no cache metadata for these steps",
                imports
                    .iter()
                    .map(|i| i.reference.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ev,
            "push the cache image with its cache metadata (--build-arg BUILDKIT_INLINE_CACHE=1, or --cache-to type=registry,mode=max); else the cache expired, has the wrong scope/tag, or was built for another platform",
        ));
    }
    // 3. inline (min-mode) cache: only the final stage's layers came back
    if !imports.is_empty() && stages.len() > 1 {
        let last = stages.last().map(|s| s.name);
        let final_hit = stages
            .last()
            .and_then(|st| st.steps.iter().find(|s| s.status == Status::Cached));
        let root_stage = root.stage.as_deref();
        let hit_before = baseline
            .and_then(|b| same_step(b, root))
            .is_none_or(|s| s.status == Status::Cached);
        if let Some(hit) = final_hit
            && Some(root_stage) != last
            && !(is_context_copy(root) && context_changed(target, peers) == Some(true))
            && hit_before
        {
            let mut ev: Vec<Evidence> = imports
                .iter()
                .flat_map(|i| import_evidence(target, i.vertex))
                .collect();
            ev.push(evidence(target, hit));
            ev.push(evidence(target, root));
            if let Some(b) = baseline
                && let Some(s) = same_step(b, root)
            {
                ev.push(evidence(b, s));
            }
            return Some(cause(
                CauseKind::InlineCacheGap,
                format!(
                    "inline cache holds only the final stage's layers: stage {} re-ran although {} was importable",
                    root_stage.unwrap_or("?"),
                    hit.label()
                ),
                ev,
                "export the builder stages too: --cache-to type=registry,mode=max (buildx), or push each builder stage (--target) with BUILDKIT_INLINE_CACHE=1 and add it to --cache-from",
            ));
        }
    }
    // a new base image or a failed step explains the misses of its stage better than the rest
    if root.status == Status::Error
        || baseline.is_some_and(|b| base_changed(target, b, root).is_some())
    {
        return None;
    }
    // 4. --no-cache: only WORKDIR (which BuildKit reports CACHED anyway) "hit"
    let workdir = |s: &Step| s.instruction.as_deref() == Some("WORKDIR");
    if imports.is_empty()
        && !cached.is_empty()
        && cached.iter().all(|s| workdir(s))
        && target
            .cacheable()
            .any(|s| !workdir(s) && s.status == Status::Done)
        && !(is_context_copy(root) && context_changed(target, peers) != Some(false))
    {
        let mut ev = vec![evidence(target, root)];
        ev.extend(cached.iter().map(|s| evidence(target, s)));
        ev.extend(context_evidence(target));
        if let Some(b) = baseline
            && let Some(s) = same_step(b, root).filter(|s| s.status == Status::Cached)
        {
            ev.push(evidence(b, s));
        }
        return Some(cause(
            CauseKind::NoCacheFlag,
            "built with --no-cache: every step executed although the context did not change (the CACHED WORKDIR is reported so even under --no-cache: not a hit)".to_owned(),
            ev,
            "drop --no-cache (use --pull to refresh the base image, or --no-cache-filter <stage> for one stage)",
        ));
    }
    // 5. cold: no import, nothing cached
    if imports.is_empty() && cached.is_empty() {
        let mut ev = vec![evidence(target, root)];
        let mut summary =
            "no cache source: no --cache-from import and nothing in the local cache (a new or pruned builder)".to_owned();
        if let Some(b) = baseline {
            if let Some(i) = b.cache.imports.first()
                && let Some(s) = b.steps.iter().find(|s| s.vertex == i.vertex)
            {
                ev.push(evidence(b, s));
                summary.push_str("; the baseline imported a remote cache");
            } else if let Some(s) = same_step(b, root).filter(|s| s.status == Status::Cached) {
                ev.push(evidence(b, s));
                summary.push_str("; the baseline hit its local cache");
            }
        }
        return Some(cause(
            CauseKind::NoCacheSource,
            summary,
            ev,
            "configure a remote cache: --cache-from <registry>/<repo>:<tag> on every build, and export it (--build-arg BUILDKIT_INLINE_CACHE=1 then push, or --cache-to type=registry,mode=max)",
        ));
    }
    None
}

/// Whether the build context changed: `Some(true)` when more was sent than an
/// unchanged context sends, `None` when either size is unknown.
fn context_changed(target: &Build, peers: Peers) -> Option<bool> {
    let sent = target.context.as_ref()?.bytes?;
    let floor = peers.unchanged_context_bytes?;
    Some(sent > floor)
}

fn base_of<'a>(build: &'a Build, stage: Option<&str>) -> Option<&'a Step> {
    build
        .steps
        .iter()
        .find(|s| s.kind == Kind::From && s.stage.as_deref() == stage)
        .or_else(|| build.steps.iter().find(|s| s.kind == Kind::From))
}

/// The `FROM` of `root`'s stage now and in the baseline, when their digests differ.
fn base_changed<'a, 'b>(
    target: &'a Build,
    baseline: &'b Build,
    root: &Step,
) -> Option<(&'a Step, &'b Step)> {
    let now = base_of(target, root.stage.as_deref())?;
    let then = same_step(baseline, now)?;
    let (d1, d0) = (image_digest(now)?, image_digest(then)?);
    (d1 != d0).then_some((now, then))
}

fn image_digest(step: &Step) -> Option<&str> {
    let name = step.name.as_deref()?;
    let at = name.find("@sha256:")?;
    Some(name[at + 1..].split_whitespace().next().unwrap_or(""))
}

/// The cause of one first miss (and its cascade).
fn step_cause(target: &Build, baseline: Option<&Build>, peers: Peers, group: &Group<'_>) -> Cause {
    let root = group.root;
    let make = |kind: CauseKind, summary: String, evidence: Vec<Evidence>, fix: &str| Cause {
        cause: kind,
        step: Some(StepRef::of(root)),
        cascade: group.cascade.iter().map(|s| StepRef::of(s)).collect(),
        summary,
        evidence,
        fix: fix.to_owned(),
    };
    let before = baseline.and_then(|b| same_step(b, root));
    let mut checked: Vec<&str> = Vec::new();

    // the step failed
    if root.status == Status::Error {
        let mut ev = vec![evidence(target, root)];
        if let Some([_, line]) = target
            .error_lines
            .iter()
            .find(|[v, _]| *v == u64::from(root.vertex))
            .copied()
        {
            ev.push(Evidence {
                source: target.source.clone(),
                line,
                text: format!(
                    "#{} ERROR: {}",
                    root.vertex,
                    root.error.as_deref().unwrap_or("")
                ),
            });
        }
        return make(
            CauseKind::StepFailed,
            format!(
                "the step failed ({}): a failed step is never cached, so it runs again next time",
                root.error.as_deref().unwrap_or("error")
            ),
            ev,
            "fix the step's error; until then it re-runs (with everything after it) on every build",
        );
    }
    // base image
    checked.push("base image digest");
    if let Some(b) = baseline
        && let Some((now, then)) = base_changed(target, b, root)
        && let (Some(d1), Some(d0)) = (image_digest(now), image_digest(then))
    {
        return make(
            CauseKind::BaseImageChanged,
            format!("the base image changed: {d0} → {d1}"),
            vec![
                evidence(target, now),
                evidence(b, then),
                evidence(target, root),
            ],
            "expected after a base image update; pin FROM to a digest and update it on purpose to control when the cache is rebuilt",
        );
    }
    // instruction text
    checked.push("instruction text");
    if let Some(b) = baseline
        && before.is_none()
        && !b.steps.iter().all(|s| !s.cacheable)
    {
        let mut ev = vec![evidence(target, root)];
        if let Some(old) = b
            .steps
            .iter()
            .find(|s| s.cacheable && s.stage == root.stage && s.position == root.position)
        {
            ev.push(evidence(b, old));
        }
        return make(
            CauseKind::InstructionChanged,
            "the instruction's text differs from every step of the baseline (RUN command or an ARG/ENV value in it changed)".to_owned(),
            ev,
            "expected if the Dockerfile was edited; if a build arg (timestamp, commit) changes every build, use it only in the last steps",
        );
    }
    // files
    if is_context_copy(root) {
        checked.push("build context transfer size");
        let changed = context_changed(target, peers);
        let mut ev = vec![evidence(target, root)];
        ev.extend(context_evidence(target));
        if let Some(b) = baseline {
            if let Some(s) = before {
                ev.push(evidence(b, s));
            }
            if let Some(c) = context_evidence(b) {
                ev.push(c);
            }
        }
        let how = match (changed, target.context.as_ref()) {
            (Some(true), Some(c)) => format!(
                "the build context sent {} (an unchanged context sends {} B)",
                c.size,
                peers.unchanged_context_bytes.unwrap_or(0)
            ),
            (Some(false), Some(c)) => format!(
                "it is the first miss and its inputs are files from the context (the transfer, {}, does not show the change: a new or pruned builder sends the whole context)",
                c.size
            ),
            _ => "it is the first miss and its inputs are files from the context".to_owned(),
        };
        let sources = copy_sources(root).join(" ");
        return if is_manifest_copy(root) {
            make(
                CauseKind::DependenciesChanged,
                format!("dependency manifests changed ({sources}): {how}"),
                ev,
                "expected when dependencies change; keep manifests in their own COPY before the install (as here) and use a cache mount (RUN --mount=type=cache) for the package manager",
            )
        } else {
            make(
                CauseKind::SourceChanged,
                format!("source files changed ({sources}): {how}"),
                ev,
                "expected after a source change; copy dependency manifests and install before copying the sources, and keep .dockerignore tight so unrelated files do not break the cache",
            )
        };
    }
    checked.push("cache import/export");
    let mut ev = vec![evidence(target, root)];
    if let Some(b) = baseline
        && let Some(s) = before
    {
        ev.push(evidence(b, s));
    }
    make(
        CauseKind::Unknown,
        format!(
            "no cause found (checked: {}{})",
            checked.join(", "),
            if baseline.is_none() {
                "; no baseline to compare"
            } else {
                ""
            }
        ),
        ev,
        "compare with `cachelens diagnose --baseline <log of a build that hit>`; other causes: cache garbage-collected on the builder, --no-cache-filter, a changed build arg not shown in the step text",
    )
}

/// Builds grouped by project for baseline choice: CodeBuild project of the
/// build id (`project:uuid`) when known.
pub fn project_of(build: &Build) -> Option<&str> {
    build
        .build_id
        .as_deref()
        .and_then(|id| id.split_once(':').map(|(p, _)| p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_log;

    const H0: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    const H1: &str = "1111111111111111111111111111111111111111111111111111111111111111";

    fn build(source: &str, text: &str) -> Build {
        parse_log(text.as_bytes(), source).builds.remove(0)
    }

    fn node(from: &str, install: &str, s: [&str; 3], import: Option<&str>) -> String {
        let import = import.map_or_else(String::new, |e| {
            format!("#9 importing cache manifest from reg/app:cache\n#9 {e}\n\n")
        });
        format!(
            "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n{import}\
             #2 [1/4] FROM {from}\n#2 DONE 0.1s\n\n\
             #3 [internal] load build context\n#3 transferring context: 217B done\n#3 DONE 0.0s\n\n\
             #4 [2/4] COPY package.json ./\n#4 {}\n\n#5 [3/4] RUN {install}\n#5 {}\n\n\
             #6 [4/4] COPY . .\n#6 {}\n",
            s[0], s[1], s[2]
        )
    }

    const HIT: [&str; 3] = ["CACHED", "CACHED", "CACHED"];
    const MISS: [&str; 3] = ["DONE 0.1s", "DONE 3.0s", "DONE 0.1s"];

    fn one(target: &Build, baseline: &Build) -> Cause {
        let d = diagnose(target, Some(baseline), Peers::of([baseline])).unwrap();
        assert_eq!(d.causes.len(), 1, "{d:#?}");
        d.causes.into_iter().next().unwrap()
    }

    #[test]
    fn base_image_digest_change() {
        let old = build(
            "a",
            &node(&format!("node:20@sha256:{H0}"), "npm ci", HIT, None),
        );
        let new = build(
            "b",
            &node(
                &format!("node:20@sha256:{H1}"),
                "npm ci",
                ["DONE 0.1s", "DONE 3.0s", "DONE 0.1s"],
                None,
            ),
        );
        let c = one(&new, &old);
        // the context transfer did not grow, and the FROM's DONE is no evidence: the digest is
        assert_eq!(c.cause, CauseKind::BaseImageChanged, "{c:#?}");
        assert_eq!(c.step.as_ref().unwrap().name, "[2/4] COPY package.json ./");
        assert_eq!(c.cascade.len(), 2);
        assert!(
            c.evidence
                .iter()
                .any(|e| e.source == "a" && e.text.contains(H0))
        );
    }

    #[test]
    fn changed_run_text_is_an_instruction_change() {
        let old = build("a", &node("node:20", "npm ci", HIT, None));
        let new = build(
            "b",
            &node(
                "node:20",
                "npm ci --omit=dev",
                ["CACHED", "DONE 3.0s", "DONE 0.1s"],
                None,
            ),
        );
        let c = one(&new, &old);
        assert_eq!(c.cause, CauseKind::InstructionChanged);
        assert_eq!(c.step.as_ref().unwrap().name, "[3/4] RUN npm ci --omit=dev");
        assert_eq!(c.cascade.len(), 1);
        assert_eq!(
            c.evidence[1].text, "#5 [3/4] RUN npm ci",
            "the baseline's text"
        );
    }

    #[test]
    fn import_failures_are_told_apart() {
        let old = build("a", &node("node:20", "npm ci", HIT, Some("DONE 0.2s")));
        for (error, reason) in [
            (
                "ERROR: unexpected status code 401 Unauthorized",
                "unauthorized",
            ),
            (
                "ERROR: pull access denied, repository does not exist",
                "denied",
            ),
            (
                "ERROR: dial tcp 10.0.0.1:443: connect: connection refused",
                "unreachable",
            ),
            ("ERROR: reg/app:cache: not found", "not found"),
        ] {
            let new = build("b", &node("node:20", "npm ci", MISS, Some(error)));
            let c = one(&new, &old);
            assert_eq!(c.cause, CauseKind::CacheImportFailed);
            assert!(c.summary.contains(reason), "{error}: {}", c.summary);
            assert_eq!(c.cascade.len(), 2, "one cause for the whole build");
            assert!(
                c.evidence
                    .iter()
                    .any(|e| e.line == 5 && e.text == format!("#9 {error}"))
            );
        }
    }

    #[test]
    fn a_failed_export_in_the_baseline() {
        let mut old = build("a", &node("node:20", "npm ci", MISS, None));
        old.cache.exports.push(crate::model::CacheExport {
            name: "exporting cache".into(),
            seconds: None,
            ok: false,
            error: Some("failed to push: denied".into()),
            vertex: 7,
        });
        let new = build("b", &node("node:20", "npm ci", MISS, Some("DONE 0.2s")));
        let c = one(&new, &old);
        assert_eq!(c.cause, CauseKind::CacheExportFailed);
        assert!(c.summary.contains("denied"));
    }

    #[test]
    fn nothing_missed_and_nothing_cacheable() {
        let warm = build("a", &node("node:20", "npm ci", HIT, None));
        let d = diagnose(&warm, None, Peers::default()).unwrap();
        assert!(d.causes.is_empty());
        assert_eq!((d.cached, d.cacheable), (3, 3));
        let empty = build("c", "#1 [1/1] FROM x\n#1 DONE 0.0s\n");
        assert!(matches!(
            diagnose(&empty, None, Peers::default()),
            Err(DiagnoseError::NoCacheableStep { .. })
        ));
    }

    #[test]
    fn manifests_and_stage_order() {
        let b = build(
            "m",
            "#1 [final 2/2] COPY --from=builder /out /out\n#1 DONE 0.1s\n\n\
             #2 [builder 2/3] COPY go.mod go.sum ./\n#2 DONE 0.1s\n\n\
             #3 [builder 1/3] FROM golang:1\n#3 DONE 0.0s\n\n\
             #4 [builder 3/3] RUN go build\n#4 DONE 9.0s\n\n\
             #5 [final 1/2] WORKDIR /app\n#5 CACHED\n",
        );
        let (groups, stages) = groups(&b);
        assert_eq!(
            stages[0].name,
            Some("builder"),
            "a stage before the stages that copy from it"
        );
        assert_eq!(
            groups.len(),
            1,
            "the final stage's miss is the builder's cascade"
        );
        assert_eq!(groups[0].root.vertex, 2);
        assert!(is_manifest_copy(groups[0].root));
        assert_eq!(groups[0].cascade.len(), 2);
        assert_eq!(pick_baseline(&b, &[]), None);
    }
}
