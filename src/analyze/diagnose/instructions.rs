//! What a step's instruction says, from the arguments the parser kept on it:
//! the stage a `COPY --from` reads, the files a `COPY` takes from the context,
//! the digest of a `FROM`.

use crate::model::{Build, Kind, Step};

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

/// Words of a step's arguments (after `COPY`/`ADD`).
fn args(step: &Step) -> Vec<&str> {
    step.args
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .collect()
}

/// `X` of `COPY --from=X …`.
pub fn copy_from(step: &Step) -> Option<String> {
    if !matches!(step.instruction.as_deref(), Some("COPY" | "ADD")) {
        return None;
    }
    args(step)
        .iter()
        .find_map(|w| w.strip_prefix("--from=").map(str::to_owned))
}

/// The sources of a `COPY`/`ADD` from the context (flags and destination dropped).
pub fn copy_sources(step: &Step) -> Vec<&str> {
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

/// Whether a `COPY`/`ADD` copies dependency manifests only.
pub fn is_manifest_copy(step: &Step) -> bool {
    let sources = copy_sources(step);
    !sources.is_empty()
        && sources.iter().all(|s| {
            let name = s.trim_end_matches('/').rsplit('/').next().unwrap_or(s);
            MANIFESTS.contains(&name)
        })
}

/// Whether a step copies files from the build context (a `COPY`/`ADD` without `--from`).
pub fn is_context_copy(step: &Step) -> bool {
    matches!(step.instruction.as_deref(), Some("COPY" | "ADD")) && copy_from(step).is_none()
}

/// The `FROM` of `stage` in `build`, else its first `FROM`.
pub fn base_of<'a>(build: &'a Build, stage: Option<&str>) -> Option<&'a Step> {
    build
        .steps
        .iter()
        .find(|s| s.kind == Kind::From && s.stage.as_deref() == stage)
        .or_else(|| build.steps.iter().find(|s| s.kind == Kind::From))
}

/// `sha256:…` of a `FROM … @sha256:…`.
pub fn image_digest(step: &Step) -> Option<&str> {
    let name = step.name.as_deref()?;
    let at = name.find("@sha256:")?;
    Some(name[at + 1..].split_whitespace().next().unwrap_or(""))
}
