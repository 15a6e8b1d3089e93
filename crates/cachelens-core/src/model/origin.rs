//! What a source knows of a log beyond its text: the CodeBuild build and its API facts.

use serde::{Deserialize, Serialize};

use super::BuildId;

/// What CodeBuild's API says of a build (kept in the archive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildMetadata {
    /// `project:uuid`.
    pub build_id: Option<BuildId>,
    /// The project.
    pub project: Option<String>,
    /// `SUCCEEDED`, `FAILED`, …
    pub status: Option<String>,
    /// `BUILD_GENERAL1_SMALL`, …
    pub compute_type: Option<String>,
    /// `environment.type`: `LINUX_CONTAINER`, `ARM_CONTAINER`,
    /// `LINUX_LAMBDA_CONTAINER`, … (with the compute type, what is billed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_type: Option<String>,
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
    pub build_id: Option<BuildId>,
    /// CodeBuild API facts, when fetched.
    pub metadata: Option<BuildMetadata>,
    /// Timestamp of the log's first event (CloudWatch), epoch milliseconds.
    pub first_event_ms: Option<i64>,
}

impl Origin {
    /// The CodeBuild project: the API's, else the build id's.
    pub fn project(&self) -> Option<&str> {
        self.metadata
            .as_ref()
            .and_then(|m| m.project.as_deref())
            .or_else(|| self.build_id.as_ref().map(BuildId::project))
    }

    /// The branch (or tag, or commit) the build ran on: the API's source
    /// version without `refs/heads/`.
    pub fn branch(&self) -> Option<&str> {
        let version = self.metadata.as_ref()?.source_version.as_deref()?;
        Some(version.strip_prefix("refs/heads/").unwrap_or(version))
    }
}
