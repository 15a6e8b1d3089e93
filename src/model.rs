//! The records cachelens makes of a log: builds, their steps and their cache traffic.
//!
//! Field names are part of the command-line contract (`steps --format json`,
//! DESIGN.md): rename nothing without changing the contract.

use serde::{Deserialize, Serialize};

use crate::parse::framing::{Framing, WallClock};

/// The progress format a build was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `--progress=plain` (`grammars/buildkit-plain.ebnf`).
    Plain,
    /// `--progress=rawjson` (`grammars/rawjson.md`).
    Rawjson,
    /// The final frame of `--progress=tty` (`grammars/buildkit-tty.ebnf`).
    Tty,
}

impl Format {
    /// The name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Rawjson => "rawjson",
            Format::Tty => "tty",
        }
    }
}

/// What a vertex is, from its name (see `grammars/vertex-name.ebnf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A Dockerfile instruction other than `FROM`: the only kind the cache can hit.
    Instruction,
    /// A `FROM` (also the implicit stage of `COPY --from=<image>`).
    From,
    /// `[internal] …`: loading the Dockerfile, context, metadata.
    Internal,
    /// `[auth] …`: registry credentials.
    Auth,
    /// `importing cache manifest from <ref>`.
    CacheImport,
    /// `exporting cache …`, `preparing layers for inline cache`.
    CacheExport,
    /// `exporting to image` and the other image exporters.
    Export,
    /// Anything else the solver or a frontend names.
    Other,
    /// A vertex whose header is not in the input (a pasted tail, a stream that starts mid-build).
    Unknown,
}

impl Kind {
    /// The name used in JSON, CSV and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Instruction => "instruction",
            Kind::From => "from",
            Kind::Internal => "internal",
            Kind::Auth => "auth",
            Kind::CacheImport => "cache-import",
            Kind::CacheExport => "cache-export",
            Kind::Export => "export",
            Kind::Other => "other",
            Kind::Unknown => "unknown",
        }
    }
}

/// How a vertex ended: BuildKit's last terminal line for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `#N CACHED`.
    Cached,
    /// `#N DONE [secs]`: executed.
    Done,
    /// `#N ERROR: …`.
    Error,
    /// `#N CANCELED`.
    Canceled,
    /// No terminal line (a truncated log, or the build was killed).
    Incomplete,
}

impl Status {
    /// The name used in JSON, CSV and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Cached => "cached",
            Status::Done => "done",
            Status::Error => "error",
            Status::Canceled => "canceled",
            Status::Incomplete => "incomplete",
        }
    }
}

/// One vertex of a build that had a named header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// BuildKit's own vertex number (`#N`).
    pub vertex: u32,
    /// The vertex name as printed in its header; `None` when the input holds no
    /// header for it (a fragment).
    pub name: Option<String>,
    /// Stage name from `[stage i/n]`, when printed.
    pub stage: Option<String>,
    /// Platform from `[linux/arm64 i/n]`, when printed.
    pub platform: Option<String>,
    /// `[i, n]`: instruction `i` of `n` in its stage.
    pub position: Option<[u32; 2]>,
    /// The Dockerfile keyword in upper case (`RUN`, `COPY`, `FROM`, …).
    pub instruction: Option<String>,
    /// What the vertex is.
    pub kind: Kind,
    /// How it ended.
    pub status: Status,
    /// The `DONE` duration in seconds; `None` when not `DONE` or printed without time.
    pub seconds: Option<f64>,
    /// Whether the build cache can serve this step (a Dockerfile instruction other than `FROM`).
    pub cacheable: bool,
    /// The vertex digest: `#N sha256:…` (BuildKit ≤ v0.8 prints it), or rawjson's `digest`.
    pub digest: Option<String>,
    /// The `ERROR:` message when the status is `error`.
    pub error: Option<String>,
    /// 1-based line of the vertex's first header in its source (of its first line
    /// when no header names it).
    pub line: u64,
}

impl Step {
    /// The name to show: the header's, or a note that the input holds none.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or("(no header in the input)")
    }
}

/// A remote cache import (`importing cache manifest from <ref>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheImport {
    /// The cache reference as printed.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Whether the import vertex ended `DONE` (it can succeed and still give no hit).
    pub ok: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The vertex's `DONE` seconds.
    pub seconds: Option<f64>,
    /// Vertex number of the import.
    pub vertex: u32,
}

/// A cache export (`exporting cache`, `exporting cache to registry`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheExport {
    /// The exporter vertex's name.
    pub name: String,
    /// Its `DONE` seconds.
    pub seconds: Option<f64>,
    /// Whether it ended `DONE`.
    pub ok: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Vertex number of the export.
    pub vertex: u32,
}

/// Cache traffic of one build.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cache {
    /// Cache imports in print order.
    pub imports: Vec<CacheImport>,
    /// Cache exports in print order.
    pub exports: Vec<CacheExport>,
}

/// One BuildKit invocation found in a source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Build {
    /// Where it was read: a path, `-` for stdin, or `group/stream`.
    pub source: String,
    /// 0-based index of this build within its source.
    pub index: usize,
    /// One record per named vertex, in the order their first headers were printed.
    pub steps: Vec<Step>,
    /// Cache imports and exports.
    pub cache: Cache,
    /// Cached ÷ cacheable steps; `None` when no step is cacheable.
    pub hit_rate: Option<f64>,
    /// Lines inside this build that no grammar rule accepts.
    pub unparsed_lines: u64,
    /// 1-based line of the first of them.
    pub first_unparsed_line: Option<u64>,
    /// The client's closing error (`ERROR: failed to solve: …`, `executor failed running …`).
    pub error: Option<String>,
    /// `#N WARN:` lines and the client's `WARNING:` lines.
    pub warnings: Vec<String>,
    /// 1-based first and last line of the build in its source.
    pub lines: [u64; 2],
    /// The CodeBuild build id (`project:uuid`), when the source knows it.
    pub build_id: Option<String>,
    /// The CodeBuild phase the build ran in, from `[Container]` lines.
    pub phase: Option<String>,
    /// The buildspec command that ran it, from `[Container]` lines.
    pub command: Option<String>,
    /// The progress format it was read from.
    pub format: Format,
    /// The records are less precise than BuildKit's own (read from a tty frame):
    /// `vertex` numbers are display positions given by cachelens, names may be cut
    /// at the terminal's width, and a vertex still running when the frame was
    /// drawn reads as `done`.
    pub approximate: bool,
    /// The CI framing of the build's first line, when it had one.
    pub framing: Option<Framing>,
    /// Wall-clock time of the build's first line: a CI timestamp, or (rawjson) the
    /// first vertex start.
    pub started_at: Option<WallClock>,
    /// Wall-clock time of the build's last line, or (rawjson) the last vertex completion.
    pub ended_at: Option<WallClock>,
    /// What `[internal] load build context` transferred, when it said.
    pub context: Option<ContextTransfer>,
    /// `[vertex, line]` of each vertex's last `#N ERROR:` line (plain format).
    pub error_lines: Vec<[u64; 2]>,
}

/// The build context transfer: the last `transferring context: 354B done` status
/// line of `[internal] load build context`. BuildKit sends only what changed since
/// the builder's last transfer of the same context, so an unchanged context sends
/// the same small size (file metadata) every time and a changed one sends more.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContextTransfer {
    /// The size as printed (`354B`, `1.58kB`).
    pub size: String,
    /// The size in bytes (`kB` = 1000 B, as BuildKit's go-units prints).
    pub bytes: Option<u64>,
    /// 1-based line of the status line.
    pub line: u64,
    /// The status line as read (`#6 transferring context: 354B done`, without CI framing).
    pub text: String,
}

impl ContextTransfer {
    /// Reads `#6 transferring context: 354B done`.
    pub fn from_line(text: &str, line: u64) -> Option<ContextTransfer> {
        let status = text.split_once(' ').map_or(text, |(_, rest)| rest);
        let rest = status.strip_prefix("transferring context:")?.trim_start();
        let size = rest.split_whitespace().next()?.to_owned();
        Some(ContextTransfer {
            bytes: parse_size(&size),
            size,
            line,
            text: text.to_owned(),
        })
    }
}

/// `354B`, `1.58kB`, `2.1MB`, `3GB` in bytes (decimal units, as go-units `HumanSize`).
pub fn parse_size(size: &str) -> Option<u64> {
    let at = size.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = size.split_at(at);
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((number * scale).round() as u64)
}

impl Build {
    /// Cacheable steps (Dockerfile instructions other than `FROM`).
    pub fn cacheable(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.cacheable)
    }

    /// The first cacheable step, in print order, that the cache did not serve.
    pub fn first_miss(&self) -> Option<&Step> {
        self.cacheable().find(|s| s.status != Status::Cached)
    }

    /// Whether a step has no terminal line: the log ends before the build does.
    pub fn incomplete(&self) -> bool {
        self.steps.iter().any(|s| s.status == Status::Incomplete)
    }

    /// Whether the build failed: a step or the client reported an error.
    pub fn failed(&self) -> bool {
        self.error.is_some()
            || self
                .steps
                .iter()
                .any(|s| s.status == Status::Error && s.kind != Kind::CacheImport)
    }
}

/// Hit rate of a set of steps: cached ÷ cacheable, `None` without cacheable steps.
pub fn hit_rate<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Option<f64> {
    let (mut cacheable, mut cached) = (0u32, 0u32);
    for s in steps.into_iter().filter(|s| s.cacheable) {
        cacheable += 1;
        cached += u32::from(s.status == Status::Cached);
    }
    (cacheable > 0).then(|| f64::from(cached) / f64::from(cacheable))
}

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
