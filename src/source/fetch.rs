//! A whole fetch: resolve what to read (a build id, a stream, a group in a
//! time window), ask CodeBuild for build facts where allowed, and read the
//! streams into the archive; or CodeBuild's S3 build logs ([`fetch_s3`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::archive::{Archive, BuildMetadata};
use super::aws::Aws;
use super::cloudwatch::{self, FetchError, FetchOptions, FetchReport, Progress, Target};
use super::codebuild::{self, BuildFacts, CodeBuildError};
use super::s3;
use crate::model::BuildId;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// One CodeBuild build, `project:uuid`; its log is found through the
    /// CodeBuild API when allowed, else at `/aws/codebuild/<project>`, stream `<uuid>`.
    BuildId(BuildId),
    /// A stream, or a group's streams in a window.
    Logs(Target),
}

/// The outcome: the report and the notes to tell the user once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// What was read.
    pub report: FetchReport,
    /// Things the user should know (no CodeBuild access, …).
    pub notes: Vec<String>,
}

/// Runs a fetch into the archive.
pub async fn fetch(
    aws: &Aws,
    archive: &Archive,
    request: &Request,
    use_codebuild: bool,
    options: &FetchOptions,
    progress: Arc<dyn Progress>,
) -> Result<Fetched, FetchError> {
    let logs = aws.logs();
    let builds = aws.codebuild();
    let mut notes = Vec::new();
    let denied = |e: CodeBuildError| {
        format!(
            "no CodeBuild API facts ({e}); compute type, branch and status come from the logs alone"
        )
    };

    let (target, facts): (Target, HashMap<String, BuildFacts>) = match request {
        Request::BuildId(id) => {
            let mut group = id.default_log_group();
            let mut stream = id.default_log_stream().to_owned();
            let mut facts = HashMap::new();
            if use_codebuild {
                match codebuild::builds(&builds, &[id.to_string()]).await {
                    Ok(found) => {
                        if let Some(f) = found.into_iter().next() {
                            group = f.log_group.clone().unwrap_or(group);
                            stream = f.log_stream.clone().unwrap_or(stream);
                            facts.insert(stream.clone(), f);
                        }
                    }
                    Err(e) => notes.push(denied(e)),
                }
            }
            (
                Target::Stream {
                    log_group: group,
                    log_stream: stream,
                },
                facts,
            )
        }
        Request::Logs(target) => {
            let mut facts = HashMap::new();
            let (group, since) = match target {
                Target::Window {
                    log_group, since, ..
                } => (log_group, *since),
                Target::Stream { log_group, .. } => (log_group, None),
            };
            if use_codebuild && let Some(project) = group.strip_prefix("/aws/codebuild/") {
                match codebuild::project_builds(&builds, project, since).await {
                    Ok(found) => facts = found,
                    Err(e) => notes.push(denied(e)),
                }
            }
            (target.clone(), facts)
        }
    };
    let metadata =
        |stream: &str| -> Option<BuildMetadata> { facts.get(stream).map(|f| f.metadata.clone()) };
    let report = cloudwatch::fetch(&logs, archive, &target, &metadata, options, progress).await?;
    Ok(Fetched { report, notes })
}

/// What an S3 logs fetch did, and the notes to tell once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedS3 {
    /// What was read.
    pub report: s3::LogsFetched,
    /// Things the user should know (no CodeBuild access, …).
    pub notes: Vec<String>,
}

/// Reads CodeBuild's S3 build logs under `url` (last written in `since..until`)
/// into the archive, with their builds' CodeBuild facts where allowed.
pub async fn fetch_s3(
    aws: &Aws,
    archive: &Archive,
    url: &s3::S3Url,
    window: (Option<i64>, Option<i64>),
    use_codebuild: bool,
    options: &s3::LogsOptions,
) -> Result<FetchedS3, s3::S3Error> {
    let client = aws.s3();
    let plan = s3::plan_logs(&client, url, archive, window.0, window.1).await?;
    let mut notes = Vec::new();
    let mut facts = HashMap::new();
    if use_codebuild && !plan.todo.is_empty() {
        let uuids: HashSet<String> = plan
            .todo
            .iter()
            .map(|o| s3::uuid_of(&o.key).to_owned())
            .collect();
        match codebuild::builds_by_uuid(&aws.codebuild(), &uuids).await {
            Ok(found) => {
                if found.len() < uuids.len() {
                    notes.push(format!(
                        "{} of {} S3 logs have no CodeBuild build in the newest {} ListBuilds pages: their project is unknown (-)",
                        uuids.len() - found.len(),
                        uuids.len(),
                        codebuild::MAX_LIST_PAGES
                    ));
                }
                facts = found;
            }
            Err(e) => notes.push(format!(
                "no CodeBuild API facts ({e}): the project, compute type and branch of S3 logs are unknown"
            )),
        }
    }
    let metadata = |uuid: &str| facts.get(uuid).map(|f| f.metadata.clone());
    let report = s3::fetch_logs(&client, url, archive, plan, &metadata, options).await?;
    Ok(FetchedS3 { report, notes })
}
