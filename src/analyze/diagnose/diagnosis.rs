//! The records a diagnosis is made of: what [`diagnose`](super::diagnose)
//! returns and `report/diagnose/` prints.

use serde::Serialize;

use super::kind::CauseKind;
use crate::model::{BuildId, Status, Step};

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
    /// The reference to `step`.
    pub(super) fn of(step: &Step) -> Self {
        StepRef {
            vertex: step.vertex,
            name: step.label().to_owned(),
            stage: step.stage.as_deref().map(str::to_owned),
            position: step.position,
            status: step.status,
            line: step.line,
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
    pub build_id: Option<BuildId>,
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
