//! CloudWatch Logs into the local archive: list the streams of a group active
//! in a time window (DescribeLogStreams, newest first), read each from the head
//! or from where the archive stopped (GetLogEvents, following
//! `nextForwardToken` until it repeats), a few streams at a time.
//!
//! A stream the archive holds complete and that has had no ingestion since is
//! not read again. Long streams are checkpointed every few pages, so a killed
//! fetch resumes where it stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::SdkError;
use aws_sdk_cloudwatchlogs::types::{LogStream, OrderBy};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::archive::{Archive, ArchiveError, BuildMetadata, Event, Stream, StreamHeader};

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The streams of a group with events in `[since, until]` (epoch ms).
    Window {
        /// The log group.
        log_group: String,
        /// Oldest last-event time to take.
        since: Option<i64>,
        /// Newest first-event time to take.
        until: Option<i64>,
    },
    /// One stream.
    Stream {
        /// The log group.
        log_group: String,
        /// The stream.
        log_stream: String,
    },
}

/// A failure of a fetch.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The log group does not exist (or is not visible to these credentials).
    #[error("log group {0} not found")]
    GroupNotFound(String),
    /// The stream does not exist.
    #[error("log stream {1} not found in log group {0}")]
    StreamNotFound(String, String),
    /// An AWS call failed after the SDK's retries.
    #[error("{call} on {target}: {message}")]
    Aws {
        /// The API call.
        call: &'static str,
        /// Its group or stream.
        target: String,
        /// The SDK's words.
        message: String,
    },
    /// The archive could not be written.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

/// How a fetch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    /// Streams read at the same time.
    pub concurrency: usize,
    /// Pages (of up to 10,000 events) between two checkpoints of a long stream.
    pub checkpoint_pages: usize,
}

/// Requests made and data moved, for the user and for tests.
#[derive(Debug, Default)]
pub struct Counters {
    /// DescribeLogStreams calls.
    pub describe_calls: AtomicU64,
    /// GetLogEvents calls.
    pub get_calls: AtomicU64,
    /// Events received.
    pub events: AtomicU64,
    /// Message bytes received.
    pub bytes: AtomicU64,
}

/// Called as a fetch goes: streams done of total, events, bytes.
pub trait Progress: Send + Sync {
    /// The number of streams to read is known.
    fn streams(&self, total: u64);
    /// A page of events arrived.
    fn page(&self, events: u64, bytes: u64);
    /// A stream is done.
    fn stream_done(&self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn streams(&self, _: u64) {}
    fn page(&self, _: u64, _: u64) {}
    fn stream_done(&self) {}
}

/// What a fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// `(group, stream)` of every stream in the target, fetched or already archived.
    pub streams: Vec<(String, String)>,
    /// Streams read (wholly or from their checkpoint).
    pub fetched: u64,
    /// Streams the archive already held complete and unchanged.
    pub unchanged: u64,
    /// Why streams could not be read (each message names its stream); the
    /// others were fetched all the same.
    pub failed: Vec<String>,
    /// Why archive files were damaged, of the streams read again whole because of it.
    pub repaired: Vec<String>,
    /// Events received.
    pub events: u64,
    /// Message bytes received.
    pub bytes: u64,
    /// DescribeLogStreams calls.
    pub describe_calls: u64,
    /// GetLogEvents calls.
    pub get_calls: u64,
    /// Temporary files of killed fetches removed from the archive.
    pub stale_removed: u64,
}

/// Fetches a target into the archive. `metadata` gives CodeBuild facts per stream name.
pub async fn fetch(
    client: &Client,
    archive: &Archive,
    target: &Target,
    metadata: &(dyn Fn(&str) -> Option<BuildMetadata> + Sync),
    options: &FetchOptions,
    progress: Arc<dyn Progress>,
) -> Result<FetchReport, FetchError> {
    let counters = Arc::new(Counters::default());
    let stale_removed = archive.clean_stale().len() as u64;
    let (log_group, listed) = match target {
        Target::Window {
            log_group,
            since,
            until,
        } => (
            log_group.clone(),
            list_window(client, log_group, *since, *until, &counters).await?,
        ),
        Target::Stream {
            log_group,
            log_stream,
        } => (
            log_group.clone(),
            vec![describe_one(client, log_group, log_stream, &counters).await?],
        ),
    };
    progress.streams(listed.len() as u64);

    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for listing in &listed {
        let permit = Arc::clone(&semaphore);
        let (client, archive, counters, progress) = (
            client.clone(),
            archive.clone(),
            Arc::clone(&counters),
            Arc::clone(&progress),
        );
        let (group, listing, meta) = (log_group.clone(), listing.clone(), metadata(&listing.name));
        let checkpoint = options.checkpoint_pages.max(1);
        tasks.spawn(async move {
            let _permit = permit.acquire_owned().await;
            let fetched = fetch_stream(
                &client, &archive, &group, &listing, meta, checkpoint, &counters, &*progress,
            )
            .await;
            progress.stream_done();
            (listing.name, fetched)
        });
    }
    let (mut fetched, mut unchanged, mut repaired) = (0, 0, Vec::new());
    let mut failed: Vec<(String, FetchError)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, Ok(Outcome::Fetched))) => fetched += 1,
            Ok((_, Ok(Outcome::Unchanged))) => unchanged += 1,
            Ok((_, Ok(Outcome::Repaired(why)))) => {
                fetched += 1;
                repaired.push(why);
            }
            Ok((name, Err(e))) => failed.push((name, e)),
            Err(join) => {
                return Err(FetchError::Aws {
                    call: "fetch task",
                    target: log_group.clone(),
                    message: join.to_string(),
                });
            }
        }
    }
    // one stream failing does not stop the others; all failing is the answer
    if !listed.is_empty() && failed.len() == listed.len() {
        failed.sort_by(|a, b| a.0.cmp(&b.0));
        return Err(failed.swap_remove(0).1);
    }
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    // a stream that failed is still read from an earlier whole copy, if any
    let readable = |name: &str| {
        failed.iter().all(|(f, _)| f != name) || archive.path(&log_group, name).exists()
    };
    Ok(FetchReport {
        streams: listed
            .iter()
            .filter(|l| readable(&l.name))
            .map(|l| (log_group.clone(), l.name.clone()))
            .collect(),
        failed: failed.into_iter().map(|(_, e)| e.to_string()).collect(),
        fetched,
        unchanged,
        repaired,
        events: counters.events.load(Ordering::Relaxed),
        bytes: counters.bytes.load(Ordering::Relaxed),
        describe_calls: counters.describe_calls.load(Ordering::Relaxed),
        get_calls: counters.get_calls.load(Ordering::Relaxed),
        stale_removed,
    })
}

/// What DescribeLogStreams said of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listing {
    name: String,
    first_event: Option<i64>,
    last_event: Option<i64>,
    last_ingestion: Option<i64>,
}

impl Listing {
    fn of(s: &LogStream) -> Option<Self> {
        Some(Listing {
            name: s.log_stream_name()?.to_owned(),
            first_event: s.first_event_timestamp(),
            last_event: s.last_event_timestamp(),
            last_ingestion: s.last_ingestion_time(),
        })
    }

    /// Whether an archived stream read to its end has had nothing new since:
    /// no later ingestion (or, when unknown, no later event).
    fn unchanged_since(&self, h: &StreamHeader) -> bool {
        h.complete
            && match (h.last_ingestion_time, self.last_ingestion) {
                (Some(archived), Some(listed)) => archived >= listed,
                _ => h.last_event_time.is_some() && h.last_event_time >= self.last_event,
            }
    }

    fn in_window(&self, since: Option<i64>, until: Option<i64>) -> bool {
        let after = since.is_none_or(|t| {
            self.last_event
                .or(self.last_ingestion)
                .is_none_or(|l| l >= t)
        });
        let before = until.is_none_or(|t| self.first_event.is_none_or(|f| f <= t));
        after && before
    }
}

/// The streams of a group active in the window, newest first; paging stops
/// once a whole page is older than `since`.
async fn list_window(
    client: &Client,
    log_group: &str,
    since: Option<i64>,
    until: Option<i64>,
    counters: &Counters,
) -> Result<Vec<Listing>, FetchError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        counters.describe_calls.fetch_add(1, Ordering::Relaxed);
        let page = client
            .describe_log_streams()
            .log_group_name(log_group)
            .order_by(OrderBy::LastEventTime)
            .descending(true)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| describe_error(e, log_group))?;
        let listings: Vec<Listing> = page.log_streams().iter().filter_map(Listing::of).collect();
        let all_old = since.is_some() && listings.iter().all(|l| !l.in_window(since, None));
        out.extend(listings.into_iter().filter(|l| l.in_window(since, until)));
        match page.next_token() {
            Some(next) if !all_old && token.as_deref() != Some(next) => {
                token = Some(next.to_owned())
            }
            _ => break,
        }
    }
    Ok(out)
}

/// One stream's listing.
async fn describe_one(
    client: &Client,
    log_group: &str,
    log_stream: &str,
    counters: &Counters,
) -> Result<Listing, FetchError> {
    counters.describe_calls.fetch_add(1, Ordering::Relaxed);
    let page = client
        .describe_log_streams()
        .log_group_name(log_group)
        .log_stream_name_prefix(log_stream)
        .send()
        .await
        .map_err(|e| describe_error(e, log_group))?;
    page.log_streams()
        .iter()
        .filter_map(Listing::of)
        .find(|l| l.name == log_stream)
        .ok_or_else(|| FetchError::StreamNotFound(log_group.to_owned(), log_stream.to_owned()))
}

fn describe_error<R>(
    e: SdkError<
        aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsError,
        R,
    >,
    log_group: &str,
) -> FetchError
where
    R: std::fmt::Debug + 'static,
{
    if e.as_service_error()
        .is_some_and(|s| s.is_resource_not_found_exception())
    {
        return FetchError::GroupNotFound(log_group.to_owned());
    }
    FetchError::Aws {
        call: "DescribeLogStreams",
        target: log_group.to_owned(),
        message: super::aws::explain(&e),
    }
}

/// Reads one stream into the archive, unless it was archived whole and is unchanged.
#[allow(clippy::too_many_arguments)]
async fn fetch_stream(
    client: &Client,
    archive: &Archive,
    log_group: &str,
    listing: &Listing,
    metadata: Option<BuildMetadata>,
    checkpoint_pages: usize,
    counters: &Counters,
    progress: &dyn Progress,
) -> Result<Outcome, FetchError> {
    let (archived, outcome) = match archive.read(log_group, &listing.name) {
        Ok(archived) => (archived, Outcome::Fetched),
        // a damaged or truncated file is read again from the head
        Err(e @ ArchiveError::Format { .. }) => (None, Outcome::Repaired(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    if archived
        .as_ref()
        .is_some_and(|s| listing.unchanged_since(&s.header))
    {
        return Ok(Outcome::Unchanged);
    }
    let mut stream = archived.unwrap_or_else(|| Stream::new(log_group, &listing.name));
    if metadata.is_some() {
        stream.header.build = metadata;
    }
    let mut pages = 0;
    loop {
        let token = stream.header.forward_token.clone();
        counters.get_calls.fetch_add(1, Ordering::Relaxed);
        let page = client
            .get_log_events()
            .log_group_name(log_group)
            .log_stream_name(&listing.name)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception())
                {
                    FetchError::StreamNotFound(log_group.to_owned(), listing.name.clone())
                } else {
                    FetchError::Aws {
                        call: "GetLogEvents",
                        target: format!("{log_group}/{}", listing.name),
                        message: super::aws::explain(&e),
                    }
                }
            })?;
        let events: Vec<Event> = page
            .events()
            .iter()
            .map(|e| Event {
                timestamp: e.timestamp().unwrap_or_default(),
                message: e.message().unwrap_or_default().to_owned(),
            })
            .collect();
        let bytes: u64 = events.iter().map(|e| e.message.len() as u64).sum();
        counters
            .events
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        counters.bytes.fetch_add(bytes, Ordering::Relaxed);
        progress.page(events.len() as u64, bytes);
        stream.extend(events);
        let next = page.next_forward_token().map(str::to_owned);
        let done = next.is_none() || next == token;
        stream.header.forward_token = next.or(token);
        pages += 1;
        if done {
            break;
        }
        if pages % checkpoint_pages == 0 {
            archive.write(&stream)?;
        }
    }
    stream.header.complete = true;
    stream.header.last_ingestion_time = listing.last_ingestion;
    archive.write(&stream)?;
    Ok(outcome)
}

/// What became of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Read (wholly or from its checkpoint).
    Fetched,
    /// Archived complete and unchanged: not read.
    Unchanged,
    /// Its archive file was damaged (why): read again whole.
    Repaired(String),
}
