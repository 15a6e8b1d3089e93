//! Builds: one record per BuildKit invocation in a log.

use serde::Serialize;

use super::{BuildId, Cache, Framing, Kind, Status, Step, WallClock};

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
    pub build_id: Option<BuildId>,
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
