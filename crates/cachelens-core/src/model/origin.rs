//! What a source knows of a log beyond its text: the CodeBuild build and its API facts.

use serde::{Deserialize, Serialize};

/// What CodeBuild's API says of a build (kept in the archive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    /// `project:uuid`.
    pub build_id: Option<String>,
    /// The project.
    pub project: Option<String>,
    /// `SUCCEEDED`, `FAILED`, …
    pub status: Option<String>,
    /// `BUILD_GENERAL1_SMALL`, …
    pub compute_type: Option<String>,
    /// Branch, tag or commit the build ran on.
    pub source_version: Option<String>,
    /// The commit it resolved to.
    pub resolved_source_version: Option<String>,
    /// Who or what started it.
    pub initiator: Option<String>,
    /// Start time, epoch milliseconds.
    pub start_time: Option<i64>,
    /// End time, epoch milliseconds.
    pub end_time: Option<i64>,
}

/// Where a log came from, beyond its text: what the source knows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Origin {
    /// The CodeBuild build id, when known.
    pub build_id: Option<String>,
    /// CodeBuild API facts, when fetched.
    pub metadata: Option<BuildMetadata>,
    /// Timestamp of the log's first event (CloudWatch), epoch milliseconds.
    pub first_event_ms: Option<i64>,
}
