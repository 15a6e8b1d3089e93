//! Steps: one record per named vertex, and what it is and how it ended.

use serde::Serialize;

use super::Fetch;

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
    pub name: Option<Box<str>>,
    /// Stage name from `[stage i/n]`, when printed.
    pub stage: Option<Box<str>>,
    /// Platform from `[linux/arm64 i/n]`, when printed.
    pub platform: Option<Box<str>>,
    /// `[i, n]`: instruction `i` of `n` in its stage.
    pub position: Option<[u32; 2]>,
    /// The Dockerfile keyword in upper case (`RUN`, `COPY`, `FROM`, …).
    pub instruction: Option<Box<str>>,
    /// The instruction's arguments: the name after its keyword (`npm ci` of
    /// `[3/4] RUN npm ci`), read once by the parser and redacted as the name is;
    /// `None` for a vertex that is no instruction, or an instruction without any.
    /// Not in the JSON (the name holds them).
    #[serde(skip)]
    pub args: Option<Box<str>>,
    /// What the vertex is.
    pub kind: Kind,
    /// How it ended.
    pub status: Status,
    /// The `DONE` duration in seconds; `None` when not `DONE` or printed without time.
    pub seconds: Option<f64>,
    /// Whether the build cache can serve this step (a Dockerfile instruction other than `FROM`).
    pub cacheable: bool,
    /// The vertex digest: `#N sha256:…` (BuildKit ≤ v0.8 prints it), or rawjson's `digest`.
    pub digest: Option<Box<str>>,
    /// The `ERROR:` message when the status is `error`.
    pub error: Option<Box<str>>,
    /// The layers BuildKit fetched for the vertex (pulled, downloaded, extracted),
    /// when it printed any.
    pub fetch: Option<Box<Fetch>>,
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

/// Hit rate of a set of steps: cached ÷ cacheable, `None` without cacheable steps.
pub fn hit_rate<'a>(steps: impl IntoIterator<Item = &'a Step>) -> Option<f64> {
    let (mut cacheable, mut cached) = (0u32, 0u32);
    for s in steps.into_iter().filter(|s| s.cacheable) {
        cacheable += 1;
        cached += u32::from(s.status == Status::Cached);
    }
    (cacheable > 0).then(|| f64::from(cached) / f64::from(cacheable))
}

/// Durations added up, rounded to the millisecond: BuildKit prints them in
/// tenths or hundredths, so the sum reads as the log's figures do (`1.7`, not
/// `1.7000000000000002`); an empty sum is `0.0`.
pub fn total_seconds(seconds: impl IntoIterator<Item = f64>) -> f64 {
    let sum: f64 = seconds.into_iter().sum();
    (sum * 1000.0).round() / 1000.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::{Step, total_seconds};

    #[test]
    fn a_step_is_small() {
        // a report holds every step of a year of builds: 873,576 at 100,080 runs
        // (`BENCHMARKS.md`); boxed text and a boxed fetch keep a step at 168 bytes
        assert!(size_of::<Step>() <= 168, "{}", size_of::<Step>());
    }

    #[test]
    fn sums_read_as_the_log_prints_them() {
        assert_eq!(total_seconds([1.2, 0.5]), 1.7);
        assert_eq!(total_seconds([4.1, 3.2]), 7.3);
        assert_eq!(total_seconds([0.0004]), 0.0);
        assert!(total_seconds([]).is_sign_positive());
    }
}
