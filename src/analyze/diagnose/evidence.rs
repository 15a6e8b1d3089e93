//! The log lines a cause cites: a step's header, a failed import's `ERROR:`
//! line, the context transfer line.

use super::diagnosis::Evidence;
use crate::model::{Build, Step};

/// The header line of `step` in `build`.
pub fn evidence(build: &Build, step: &Step) -> Evidence {
    Evidence {
        source: build.source.clone(),
        line: step.line,
        text: format!("#{} {}", step.vertex, step.label()),
    }
}

/// The header of cache import `vertex` and, when it failed, its `ERROR:` line.
pub fn import_evidence(build: &Build, vertex: u32) -> Vec<Evidence> {
    let mut ev = Vec::new();
    if let Some(step) = build.steps.iter().find(|s| s.vertex == vertex) {
        ev.push(evidence(build, step));
    }
    if let Some(i) = build.cache.imports.iter().find(|i| i.vertex == vertex)
        && let Some(err) = &i.error
        && let Some(line) = error_line(build, vertex)
    {
        ev.push(Evidence {
            source: build.source.clone(),
            line,
            text: format!("#{vertex} ERROR: {err}"),
        });
    }
    ev
}

/// The headers (and `ERROR:` lines) of every cache import of `build`.
pub fn imports_evidence(build: &Build) -> Vec<Evidence> {
    build
        .cache
        .imports
        .iter()
        .flat_map(|i| import_evidence(build, i.vertex))
        .collect()
}

/// The `ERROR:` line of a failed step, when the log holds it.
pub fn step_error_evidence(build: &Build, step: &Step) -> Option<Evidence> {
    let line = error_line(build, step.vertex)?;
    Some(Evidence {
        source: build.source.clone(),
        line,
        text: format!(
            "#{} ERROR: {}",
            step.vertex,
            step.error.as_deref().unwrap_or("")
        ),
    })
}

/// The line of vertex `vertex`'s last `ERROR:`.
fn error_line(build: &Build, vertex: u32) -> Option<u64> {
    build
        .error_lines
        .iter()
        .find(|[v, _]| *v == u64::from(vertex))
        .map(|[_, line]| *line)
}

/// The context transfer line of `build`.
pub fn context_evidence(build: &Build) -> Option<Evidence> {
    build.context.as_ref().map(|c| Evidence {
        source: build.source.clone(),
        line: c.line,
        text: c.text.clone(),
    })
}
