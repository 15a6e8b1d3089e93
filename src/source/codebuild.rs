//! CodeBuild API facts about builds (ListBuildsForProject, ListBuilds, BatchGetBuilds):
//! the authoritative log location, compute type, status, source version,
//! initiator and times. Callers fall back to the logs alone when the
//! credentials may not call CodeBuild.

use std::collections::{HashMap, HashSet};

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_codebuild::types::{Build, SortOrderType};

use super::archive::BuildMetadata;
use super::aws;

/// A failure to ask CodeBuild.
#[derive(Debug, thiserror::Error)]
pub enum CodeBuildError {
    /// The credentials may not call CodeBuild (or the project is not visible).
    #[error("CodeBuild {call} not allowed or not found: {message}")]
    Denied {
        /// The API call.
        call: &'static str,
        /// AWS's words.
        message: String,
    },
    /// Another failure, after the SDK's retries.
    #[error("CodeBuild {call}: {message}")]
    Aws {
        /// The API call.
        call: &'static str,
        /// The SDK's words.
        message: String,
    },
}

/// A build's facts and where its log is.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildFacts {
    /// What the archive keeps.
    pub metadata: BuildMetadata,
    /// `logs.groupName`, when CodeBuild reports it.
    pub log_group: Option<String>,
    /// `logs.streamName`, when CodeBuild reports it.
    pub log_stream: Option<String>,
}

fn error<E, R>(call: &'static str, e: SdkError<E, R>) -> CodeBuildError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = aws::explain(&e);
    let not_found = e
        .as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ResourceNotFoundException");
    if aws::is_denied(&e) || not_found {
        CodeBuildError::Denied { call, message }
    } else {
        CodeBuildError::Aws { call, message }
    }
}

fn facts(b: &Build) -> BuildFacts {
    let millis =
        |t: Option<&aws_sdk_codebuild::primitives::DateTime>| t.and_then(|t| t.to_millis().ok());
    BuildFacts {
        metadata: BuildMetadata {
            build_id: b.id().and_then(|id| id.parse().ok()),
            project: b.project_name().map(str::to_owned),
            status: b.build_status().map(|s| s.as_str().to_owned()),
            compute_type: b
                .environment()
                .map(|e| e.compute_type().as_str().to_owned()),
            environment_type: b.environment().map(|e| e.r#type().as_str().to_owned()),
            source_version: b.source_version().map(str::to_owned),
            resolved_source_version: b.resolved_source_version().map(str::to_owned),
            initiator: b.initiator().map(str::to_owned),
            start_time: millis(b.start_time()),
            end_time: millis(b.end_time()),
        },
        log_group: b.logs().and_then(|l| l.group_name()).map(str::to_owned),
        log_stream: b.logs().and_then(|l| l.stream_name()).map(str::to_owned),
    }
}

/// Facts of the given builds (`project:uuid`), up to 100 per call.
pub async fn builds(client: &Client, ids: &[String]) -> Result<Vec<BuildFacts>, CodeBuildError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        let page = client
            .batch_get_builds()
            .set_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| error("BatchGetBuilds", e))?;
        out.extend(page.builds().iter().map(facts));
    }
    Ok(out)
}

/// Facts of a project's builds started at or after `since` (epoch ms), newest
/// first, keyed by the UUID of the build id (the default log stream name).
pub async fn project_builds(
    client: &Client,
    project: &str,
    since: Option<i64>,
) -> Result<HashMap<String, BuildFacts>, CodeBuildError> {
    let mut out = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_builds_for_project()
            .project_name(project)
            .sort_order(SortOrderType::Descending)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| error("ListBuildsForProject", e))?;
        let found = builds(client, page.ids()).await?;
        let mut older = false;
        for f in found {
            if since.is_some_and(|t| f.metadata.start_time.is_some_and(|s| s < t)) {
                older = true;
                continue;
            }
            let key = f.log_stream.clone().or_else(|| {
                let id = f.metadata.build_id.as_ref()?;
                Some(id.uuid().to_owned())
            });
            if let Some(key) = key {
                out.insert(key, f);
            }
        }
        match page.next_token() {
            Some(next) if !older && token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// The most ListBuilds pages (100 build ids each, newest first) read to find
/// the builds of S3 log objects.
pub const MAX_LIST_PAGES: usize = 200;

/// Facts of the builds whose UUID is in `uuids` (the names of CodeBuild's S3
/// log objects), keyed by UUID: ListBuilds, newest first, until all are found
/// or [`MAX_LIST_PAGES`] pages were read, then BatchGetBuilds.
pub async fn builds_by_uuid(
    client: &Client,
    uuids: &HashSet<String>,
) -> Result<HashMap<String, BuildFacts>, CodeBuildError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_LIST_PAGES {
        if ids.len() == uuids.len() {
            break;
        }
        let page = client
            .list_builds()
            .sort_order(SortOrderType::Descending)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| error("ListBuilds", e))?;
        ids.extend(
            page.ids()
                .iter()
                .filter(|id| id.rsplit(':').next().is_some_and(|u| uuids.contains(u)))
                .cloned(),
        );
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(builds(client, &ids)
        .await?
        .into_iter()
        .filter_map(|f| {
            let uuid = f.metadata.build_id.as_ref()?.uuid().to_owned();
            Some((uuid, f))
        })
        .collect())
}
