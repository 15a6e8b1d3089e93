//! The command line's side of CloudWatch Logs: what to fetch from the flags,
//! a progress bar on a terminal, and the archived streams to read after.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};
use humansize::{DECIMAL, format_size};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use cachelens::model::BuildId;
use cachelens::source::Source;
use cachelens::source::archive::{Archive, read_header};
use cachelens::source::aws::{self, AwsOptions};
use cachelens::source::cloudwatch::{FetchOptions, Progress, Target};
use cachelens::source::ecr::{self, Lifecycle, RepositorySize};
use cachelens::source::fetch::{Fetched, Request, fetch, fetch_s3};
use cachelens::source::s3::{self, LogsOptions, S3Url};

use crate::cli::CloudArgs;

/// A progress bar on stderr (drawn only when stderr is a terminal): streams, events, bytes.
struct Bar {
    bar: ProgressBar,
    events: AtomicU64,
    bytes: AtomicU64,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} streams {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Bar {
            bar,
            events: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }
}

impl Progress for Bar {
    fn streams(&self, total: u64) {
        self.bar.set_length(total);
    }
    fn page(&self, events: u64, bytes: u64) {
        let e = self.events.fetch_add(events, Ordering::Relaxed) + events;
        let b = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.bar
            .set_message(format!("{e} events, {}", format_size(b, DECIMAL)));
    }
    fn stream_done(&self) {
        self.bar.inc(1);
    }
}

/// What the flags ask for; `None` when no CloudWatch source was chosen.
fn request(cloud: &CloudArgs, build_id: Option<BuildId>) -> Option<Request> {
    if let Some(id) = build_id.or_else(|| cloud.build_id.clone()) {
        return Some(Request::BuildId(id));
    }
    let group = cloud.log_group.clone()?;
    Some(Request::Logs(match &cloud.log_stream {
        Some(stream) => Target::Stream {
            log_group: group,
            log_stream: stream.clone(),
        },
        None => Target::Window {
            log_group: group,
            since: Some(cloud.since.unwrap_or_else(seven_days_ago)),
            until: cloud.until,
        },
    }))
}

fn seven_days_ago() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    now - 7 * 86_400_000
}

/// Every archived stream of a log group (the candidates for a baseline).
pub fn group_streams(cloud: &CloudArgs, log_group: &str) -> Result<Vec<Source>> {
    let files = archive(cloud).stream_files(Some(log_group))?;
    Ok(files.into_iter().map(Source::Archived).collect())
}

/// The archive's folder: --archive, else the default location.
pub fn archive_root(cloud: &CloudArgs) -> std::path::PathBuf {
    cloud
        .archive
        .clone()
        .unwrap_or_else(Archive::default_location)
}

fn archive(cloud: &CloudArgs) -> Archive {
    Archive::new(archive_root(cloud))
}

fn aws_options(cloud: &CloudArgs) -> AwsOptions {
    AwsOptions {
        region: cloud.region.clone(),
        profile: cloud.profile.clone(),
        endpoint_url: cloud.endpoint_url.clone(),
        max_attempts: cloud.max_attempts,
        connect_timeout: cloud.connect_timeout,
        read_timeout: cloud.read_timeout,
        on_retry: Some(|note| say!("{note}")),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Measures the cache repository in ECR.
pub fn repository_size(cloud: &CloudArgs, repository: &str) -> Result<(RepositorySize, Lifecycle)> {
    let options = aws_options(cloud);
    runtime()?.block_on(async {
        let aws = aws::load(&options).await?;
        let client = aws.ecr();
        let size = ecr::repository_size(&client, repository).await?;
        if let [first, rest @ ..] = &size.unread[..] {
            say!(
                "{} of the manifests of {repository} could not be read, and their blobs are not counted: {first}{}",
                size.unread.len(),
                if rest.is_empty() { "" } else { ", …" }
            );
        }
        let policy = ecr::lifecycle_policy(&client, repository).await?;
        if let Lifecycle::NotAllowed(why) = &policy {
            say!("the lifecycle policy of {repository} is unknown: {why}");
        }
        anyhow::Ok((size, policy))
    })
}

/// Fetches what the flags ask for into the archive; says what it did on stderr.
fn run_fetch(cloud: &CloudArgs, request: &Request) -> Result<Fetched> {
    let options = aws_options(cloud);
    let archive = archive(cloud);
    let runtime = runtime()?;
    let bar = Arc::new(Bar::new());
    let fetched = runtime.block_on(async {
        let aws = aws::load(&options).await?;
        let fetch_options = FetchOptions {
            concurrency: cloud.concurrency,
            checkpoint_pages: cloud.checkpoint_pages,
        };
        let progress: Arc<dyn Progress> = bar.clone();
        anyhow::Ok(
            fetch(
                &aws,
                &archive,
                request,
                !cloud.no_codebuild_api,
                &fetch_options,
                progress,
            )
            .await?,
        )
    });
    bar.bar.finish_and_clear();
    let fetched = fetched?;
    for note in &fetched.notes {
        say!("{note}");
    }
    let r = &fetched.report;
    for why in &r.failed {
        crate::run::skip(why);
    }
    for why in &r.repaired {
        say!("{why}: fetched again");
    }
    if r.stale_removed > 0 {
        say!(
            "removed {} temporary files killed fetches had left in the archive",
            r.stale_removed
        );
    }
    say!(
        "{} streams ({} read, {} unchanged{}): {} events, {} in {} DescribeLogStreams + {} GetLogEvents calls; archive {}",
        r.fetched + r.unchanged + r.failed.len() as u64,
        r.fetched,
        r.unchanged,
        if r.failed.is_empty() {
            String::new()
        } else {
            format!(", {} failed", r.failed.len())
        },
        r.events,
        format_size(r.bytes, DECIMAL),
        r.describe_calls,
        r.get_calls,
        archive.root().display()
    );
    Ok(fetched)
}

/// `cachelens fetch`.
pub fn fetch_command(cloud: &CloudArgs) -> Result<u8> {
    if cloud.offline {
        bail!("fetch --offline has nothing to do");
    }
    if let Some(url) = &cloud.s3_logs {
        run_fetch_s3(cloud, url)?;
    }
    match request(cloud, None) {
        Some(request) => {
            run_fetch(cloud, &request)?;
        }
        None if cloud.s3_logs.is_some() => {}
        None => bail!("fetch needs --log-group, --build-id or --s3-logs"),
    }
    Ok(0)
}

/// Reads CodeBuild's S3 build logs into the archive; says what it did on stderr.
fn run_fetch_s3(cloud: &CloudArgs, url: &S3Url) -> Result<Vec<Source>> {
    let options = aws_options(cloud);
    let archive = archive(cloud);
    let logs = LogsOptions {
        concurrency: cloud.concurrency,
        max_bytes: cachelens::source::DEFAULT_MAX_INPUT,
        bound: options.connect_timeout + 2 * options.read_timeout,
    };
    let window = (
        Some(cloud.since.unwrap_or_else(seven_days_ago)),
        cloud.until,
    );
    let fetched = runtime()?.block_on(async {
        let aws = aws::load(&options).await?;
        anyhow::Ok(fetch_s3(&aws, &archive, url, window, !cloud.no_codebuild_api, &logs).await?)
    })?;
    for note in &fetched.notes {
        say!("{note}");
    }
    let r = &fetched.report;
    for why in &r.failed {
        crate::run::skip(why);
    }
    say!(
        "{url}: {} build logs ({} read, {} unchanged{}), {}; archive {}",
        r.fetched + r.unchanged + r.failed.len(),
        r.fetched,
        r.unchanged,
        if r.failed.is_empty() {
            String::new()
        } else {
            format!(", {} failed", r.failed.len())
        },
        format_size(r.bytes, DECIMAL),
        archive.root().display()
    );
    Ok(r.streams
        .iter()
        .map(|(g, s)| Source::Archived(archive.path(g, s)))
        .collect())
}

/// The archived S3 build logs of --s3-logs, fetched first unless --offline.
fn s3_sources(cloud: &CloudArgs, url: &S3Url) -> Result<Vec<Source>> {
    if !cloud.offline {
        return run_fetch_s3(cloud, url);
    }
    let files = archive(cloud).stream_files(Some(&url.log_group()))?;
    Ok(files.into_iter().map(Source::Archived).collect())
}

/// Uploads the report folder `dir` to `url` (see [`s3::upload_report`]).
pub fn upload_report(cloud: &CloudArgs, url: &S3Url, dir: &std::path::Path) -> Result<()> {
    let options = aws_options(cloud);
    let bound = options.connect_timeout + 2 * options.read_timeout;
    let merge = |previous: &[u8], new: &std::path::Path| {
        cachelens::report::dataset::merge(previous, new).map_err(|e| e.to_string())
    };
    let done = runtime()?.block_on(async {
        let aws = aws::load(&options).await?;
        anyhow::Ok(
            s3::upload_report(
                &aws.s3(),
                url,
                dir,
                cachelens::safe_write::REPORT.name,
                cachelens::report::dataset::STEPS,
                &merge,
                bound,
            )
            .await?,
        )
    })?;
    say!(
        "{url}: {} objects, {}",
        done.objects,
        format_size(done.bytes, DECIMAL)
    );
    Ok(())
}

/// The archived streams the flags choose (CloudWatch, then S3 logs), fetched
/// first unless --offline.
pub fn sources(cloud: &CloudArgs, build_id: Option<BuildId>) -> Result<Vec<Source>> {
    let from_s3 = match &cloud.s3_logs {
        Some(url) => s3_sources(cloud, url)?,
        None => Vec::new(),
    };
    let request = request(cloud, build_id.clone());
    if request.is_none() && cloud.s3_logs.is_some() {
        return Ok(from_s3);
    }
    let mut all = cloudwatch_sources(cloud, request)?;
    all.extend(from_s3);
    Ok(all)
}

fn cloudwatch_sources(cloud: &CloudArgs, request: Option<Request>) -> Result<Vec<Source>> {
    let archive = archive(cloud);
    let Some(request) = request else {
        // --archive alone: every archived stream
        let files = archive.stream_files(None)?;
        if files.is_empty() {
            bail!("archive {} holds no stream", archive.root().display());
        }
        return Ok(files.into_iter().map(Source::Archived).collect());
    };
    if !cloud.offline {
        let fetched = run_fetch(cloud, &request)?;
        return Ok(fetched
            .report
            .streams
            .iter()
            .map(|(g, s)| Source::Archived(archive.path(g, s)))
            .collect());
    }
    let files = match &request {
        Request::BuildId(id) => {
            vec![archive.path(&id.default_log_group(), id.default_log_stream())]
        }
        Request::Logs(Target::Stream {
            log_group,
            log_stream,
        }) => vec![archive.path(log_group, log_stream)],
        Request::Logs(Target::Window {
            log_group,
            since,
            until,
        }) => {
            let mut files = Vec::new();
            for path in archive.stream_files(Some(log_group))? {
                // a damaged file is read all the same, to be reported and skipped
                let keep = read_header(&path).map_or(true, |h| {
                    let after = since.is_none_or(|t| h.last_event_time.is_some_and(|l| l >= t));
                    let before = until.is_none_or(|t| h.first_event_time.is_some_and(|f| f <= t));
                    after && before
                });
                if keep {
                    files.push(path);
                }
            }
            files
        }
    };
    Ok(files.into_iter().map(Source::Archived).collect())
}
