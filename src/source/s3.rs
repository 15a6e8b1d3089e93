//! S3, both ways: a report folder and its dataset written to `s3://bucket/prefix/`
//! ([`upload_report`]), and CodeBuild's S3 build logs read into the local
//! archive ([`fetch_logs`]).
//!
//! Every call is bounded by the SDK's timeouts and retries ([`super::aws`]);
//! a body is read within the same bound. Objects are written whole by one
//! PutObject each, so a reader never sees half of one.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use flate2::read::MultiGzDecoder;
use tokio::sync::Semaphore;

use super::archive::{Archive, BuildMetadata, Event, Stream};
use super::aws::explain;

/// A failure of S3.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// Not an `s3://bucket/prefix` address.
    #[error("{0}: not an S3 address (s3://bucket/prefix/)")]
    Url(String),
    /// An S3 call failed after the SDK's retries.
    #[error("S3 {call} s3://{bucket}/{key}: {message}")]
    Aws {
        /// The API call.
        call: &'static str,
        /// The bucket.
        bucket: String,
        /// The key or prefix.
        key: String,
        /// The SDK's words.
        message: String,
    },
    /// A week's earlier object and this report's could not be merged.
    #[error("s3://{bucket}/{key}: cannot merge with this report's week: {message}")]
    Merge {
        /// The bucket.
        bucket: String,
        /// The partition's key.
        key: String,
        /// Why.
        message: String,
    },
    /// The prefix holds objects cachelens did not write.
    #[error(
        "{0} is not empty and cachelens did not write it (no {1} object in it): not writing there; choose a new or empty prefix"
    )]
    NotOurs(String, &'static str),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// An archived stream could not be written.
    #[error(transparent)]
    Archive(#[from] super::archive::ArchiveError),
}

/// `s3://bucket/prefix/`: a bucket and a key prefix (empty, or ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key prefix: empty or ending in `/`.
    pub prefix: String,
}

impl FromStr for S3Url {
    type Err = S3Error;

    fn from_str(s: &str) -> Result<Self, S3Error> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| S3Error::Url(s.into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
        if !valid || prefix.starts_with('/') || prefix.split('/').any(|p| p == "..") {
            return Err(S3Error::Url(s.into()));
        }
        let mut prefix = prefix.to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(S3Url {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

impl S3Url {
    /// Whether `text` names an S3 address (`s3://…`).
    pub fn is_s3(text: &std::ffi::OsStr) -> bool {
        text.as_encoded_bytes().starts_with(b"s3://")
    }

    /// The archive's log group of the build logs under this prefix: `s3://bucket/prefix`.
    pub fn log_group(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix.trim_end_matches('/'))
    }

    fn err(&self, call: &'static str, key: &str, message: String) -> S3Error {
        S3Error::Aws {
            call,
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            message,
        }
    }
}

/// An object listed: its key, size and last change (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The full key.
    pub key: String,
    /// Bytes.
    pub size: i64,
    /// LastModified, epoch ms.
    pub modified_ms: Option<i64>,
}

/// Every object under `url`'s prefix (ListObjectsV2, paged), at most `limit`.
pub async fn list(client: &Client, url: &S3Url, limit: usize) -> Result<Vec<Object>, S3Error> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(&url.bucket)
            .prefix(&url.prefix)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| url.err("ListObjectsV2", &url.prefix, explain(&e)))?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some(Object {
                key: o.key()?.to_owned(),
                size: o.size().unwrap_or(0),
                modified_ms: o.last_modified().and_then(|t| t.to_millis().ok()),
            })
        }));
        match page.next_continuation_token() {
            Some(next) if out.len() < limit && token.as_deref() != Some(next) => {
                token = Some(next.to_owned());
            }
            _ => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

/// The bytes of an object, `None` when there is none; the body is read within `bound`.
pub async fn get(
    client: &Client,
    url: &S3Url,
    key: &str,
    bound: Duration,
) -> Result<Option<Vec<u8>>, S3Error> {
    let out = match client
        .get_object()
        .bucket(&url.bucket)
        .key(key)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(url.err("GetObject", key, explain(&e))),
    };
    match tokio::time::timeout(bound, out.body.collect()).await {
        Ok(Ok(body)) => Ok(Some(body.into_bytes().to_vec())),
        Ok(Err(e)) => Err(url.err("GetObject", key, e.to_string())),
        Err(_) => Err(url.err(
            "GetObject",
            key,
            format!("the body did not arrive within {bound:?}; raise --read-timeout"),
        )),
    }
}

/// Writes one object whole.
pub async fn put(client: &Client, url: &S3Url, key: &str, bytes: Vec<u8>) -> Result<(), S3Error> {
    client
        .put_object()
        .bucket(&url.bucket)
        .key(key)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| url.err("PutObject", key, explain(&e)))?;
    Ok(())
}

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uploaded {
    /// Objects written.
    pub objects: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// How a partition's previous object and its new file become the object to put.
pub type Merge = dyn Fn(&[u8], &Path) -> Result<Vec<u8>, String> + Sync;

/// Every file under `dir`, by its `/`-separated relative path, sorted.
fn files(dir: &Path) -> Result<BTreeMap<String, PathBuf>, S3Error> {
    fn walk(dir: &Path, rel: &str, out: &mut BTreeMap<String, PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type()?.is_dir() {
                walk(&e.path(), &rel, out)?;
            } else {
                out.insert(rel, e.path());
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out).map_err(|source| S3Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    Ok(out)
}

/// Uploads the report folder `dir` to `url`: the `marker` first (the prefix
/// must be empty or hold it: a prefix cachelens did not write is refused), then
/// every file under its own key. The dataset's partitions are objects of their
/// own: a week's `week=…/00000000.parquet` replaces that week's object and
/// leaves the other weeks as they are, so the dataset there grows week by week.
/// `merge` is given the previous object of each partition being written and the
/// new one, and returns the bytes to put.
pub async fn upload_report(
    client: &Client,
    url: &S3Url,
    dir: &Path,
    marker: &'static str,
    partitions: &str,
    merge: &Merge,
    bound: Duration,
) -> Result<Uploaded, S3Error> {
    let marker_key = format!("{}{marker}", url.prefix);
    let ours = get(client, url, &marker_key, bound).await?.is_some();
    if !ours && !list(client, url, 1).await?.is_empty() {
        return Err(S3Error::NotOurs(url.to_string(), marker));
    }
    let files = files(dir)?;
    let mut done = Uploaded::default();
    let order = files
        .iter()
        .filter(|(rel, _)| *rel == marker)
        .chain(files.iter().filter(|(rel, _)| *rel != marker));
    for (rel, path) in order {
        let key = format!("{}{rel}", url.prefix);
        let mut bytes = std::fs::read(path).map_err(|source| S3Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        if rel.starts_with(partitions)
            && let Some(previous) = get(client, url, &key, bound).await?
        {
            bytes = merge(&previous, path).map_err(|message| S3Error::Merge {
                bucket: url.bucket.clone(),
                key: key.clone(),
                message,
            })?;
        }
        done.bytes += bytes.len() as u64;
        done.objects += 1;
        put(client, url, &key, bytes).await?;
    }
    Ok(done)
}

/// What a fetch of S3 build logs did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsFetched {
    /// The archived streams of every log object listed, read or unchanged.
    pub streams: Vec<(String, String)>,
    /// Objects read now.
    pub fetched: usize,
    /// Objects already archived, unchanged.
    pub unchanged: usize,
    /// Objects that could not be read, each said in one line.
    pub failed: Vec<String>,
    /// Bytes read.
    pub bytes: u64,
}

/// The archive's name of a log object: group `s3://bucket/prefix`, stream
/// the key below the prefix without `.gz` (CodeBuild's `<uuid>`).
fn names(url: &S3Url, key: &str) -> (String, String) {
    let stream = key
        .strip_prefix(&url.prefix)
        .unwrap_or(key)
        .trim_end_matches(".gz");
    (url.log_group(), stream.to_owned())
}

/// A CodeBuild S3 log object (gzip text) as an archived stream: one event
/// per line, each at the object's LastModified time (S3 keeps no time per
/// line; CodeBuild's `[Container]` stamps still time the phases).
fn stream_of(url: &S3Url, object: &Object, gz: &[u8], max: u64) -> Result<Stream, String> {
    let mut text = Vec::new();
    MultiGzDecoder::new(gz)
        .take(max.saturating_add(1))
        .read_to_end(&mut text)
        .map_err(|e| format!("not a gzip log: {e}"))?;
    if text.len() as u64 > max {
        return Err(format!("more than {max} bytes after decompression"));
    }
    let text = String::from_utf8_lossy(&text);
    let (group, name) = names(url, &object.key);
    let mut stream = Stream::new(&group, &name);
    let t = object.modified_ms.unwrap_or(0);
    stream.extend(text.split_inclusive('\n').map(|line| Event {
        timestamp: t,
        message: line.to_owned(),
    }));
    stream.header.last_ingestion_time = object.modified_ms;
    // not the run's start: that comes from its `[Container]` phase stamps
    stream.header.first_event_time = None;
    stream.header.complete = true;
    Ok(stream)
}

/// The log objects of a fetch: which to read, which the archive already holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsPlan {
    /// Every log object listed in the window, by key, with its archive names.
    listed: Vec<(String, String, String)>,
    /// The objects to read.
    pub todo: Vec<Object>,
    /// Objects already archived, unchanged.
    pub unchanged: usize,
}

/// Lists the CodeBuild build logs under `url` (`<prefix><uuid>.gz`, the objects
/// CodeBuild writes when S3 logs are on) last changed in `since..=until` (epoch
/// ms; CodeBuild writes a log when its build ends): an object already archived
/// with the same LastModified time is not read again.
pub async fn plan_logs(
    client: &Client,
    url: &S3Url,
    archive: &Archive,
    since: Option<i64>,
    until: Option<i64>,
) -> Result<LogsPlan, S3Error> {
    let mut plan = LogsPlan::default();
    for o in list(client, url, usize::MAX).await? {
        let t = o.modified_ms.unwrap_or(0);
        if !o.key.ends_with(".gz")
            || since.is_some_and(|s| t < s)
            || until.is_some_and(|u| t > u + LONGEST_BUILD_MS)
        {
            continue;
        }
        let (group, stream) = names(url, &o.key);
        let current = archive
            .header(&group, &stream)
            .ok()
            .flatten()
            .is_some_and(|h| h.complete && h.last_ingestion_time == o.modified_ms);
        if current {
            plan.unchanged += 1;
        } else {
            plan.todo.push(o.clone());
        }
        plan.listed.push((o.key, group, stream));
    }
    Ok(plan)
}

/// CodeBuild's longest build timeout (36 hours): a log written this long
/// after `--until` may still be of a build started before it.
const LONGEST_BUILD_MS: i64 = 36 * 3_600_000;

/// The CodeBuild build UUID of a log object (its file name without `.gz`).
pub fn uuid_of(key: &str) -> &str {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.strip_suffix(".gz").unwrap_or(name)
}

/// Reads the planned objects into the archive, `concurrency` at a time;
/// `metadata` gives the CodeBuild facts of a build UUID. One object that cannot
/// be read (gone, not gzip, too large, timed out) is said and skipped.
pub async fn fetch_logs(
    client: &Client,
    url: &S3Url,
    archive: &Archive,
    plan: LogsPlan,
    metadata: &(dyn Fn(&str) -> Option<BuildMetadata> + Sync),
    options: &LogsOptions,
) -> Result<LogsFetched, S3Error> {
    let mut out = LogsFetched {
        unchanged: plan.unchanged,
        ..LogsFetched::default()
    };
    let gate = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for o in plan.todo {
        let (client, url, gate, bound) = (client.clone(), url.clone(), gate.clone(), options.bound);
        tasks.spawn(async move {
            let _slot = gate.acquire_owned().await;
            let got = get(&client, &url, &o.key, bound).await;
            (o, got)
        });
    }
    // each object archived as it arrives: at most `concurrency` bodies held
    let mut failed = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (o, got) = done.map_err(|e| url.err("GetObject", &url.prefix, e.to_string()))?;
        let said = |why: String| format!("s3://{}/{}: {why}", url.bucket, o.key);
        let why = match got {
            Ok(Some(gz)) => match stream_of(url, &o, &gz, options.max_bytes) {
                Ok(mut stream) => {
                    stream.header.build = metadata(uuid_of(&o.key));
                    archive.write(&stream)?;
                    out.fetched += 1;
                    out.bytes += gz.len() as u64;
                    continue;
                }
                Err(why) => said(why),
            },
            Ok(None) => said("gone since it was listed".into()),
            Err(e) => e.to_string(),
        };
        failed.insert(o.key, why);
    }
    out.streams = plan
        .listed
        .into_iter()
        .filter(|(key, _, _)| !failed.contains_key(key))
        .map(|(_, g, s)| (g, s))
        .collect();
    out.failed = failed.into_values().collect();
    Ok(out)
}

/// How log objects are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogsOptions {
    /// Objects read at the same time.
    pub concurrency: usize,
    /// The largest log, after decompression.
    pub max_bytes: u64,
    /// The time an object's body may take to arrive.
    pub bound: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_addresses() {
        let u: S3Url = "s3://my-bucket/reports/weekly".parse().unwrap();
        assert_eq!(u.bucket, "my-bucket");
        assert_eq!(u.prefix, "reports/weekly/");
        assert_eq!(u.to_string(), "s3://my-bucket/reports/weekly/");
        let root: S3Url = "s3://my-bucket".parse().unwrap();
        assert_eq!(root.prefix, "");
        for bad in [
            "my-bucket/x",
            "s3://",
            "s3://B/x",
            "s3://ab",
            "s3://b-1//x",
            "s3://bkt/a/../b",
        ] {
            assert!(bad.parse::<S3Url>().is_err(), "{bad}");
        }
        assert_eq!(
            names(&"s3://b-1/logs/".parse().unwrap(), "logs/0f1e.gz"),
            ("s3://b-1/logs".to_owned(), "0f1e".to_owned())
        );
    }

    #[test]
    fn a_log_object_becomes_a_stream_of_its_lines() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(
            b"[Container] 2026/10/05 10:00:00.000000 Entering phase BUILD\n#1 DONE 0.1s\n",
        )
        .unwrap();
        let gz = gz.finish().unwrap();
        let url: S3Url = "s3://b-1/logs/".parse().unwrap();
        let o = Object {
            key: "logs/0f1e.gz".into(),
            size: gz.len() as i64,
            modified_ms: Some(7),
        };
        let s = stream_of(&url, &o, &gz, 1 << 20).unwrap();
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.header.first_event_time, None);
        assert_eq!(s.header.last_event_time, Some(7));
        assert_eq!(uuid_of("logs/a/0f1e.gz"), "0f1e");
        assert!(stream_of(&url, &o, b"not gzip", 1 << 20).is_err());
        assert!(stream_of(&url, &o, &gz, 10).is_err());
    }
}
