//! The post_build summary of one build: the figures every summary format shows.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::{
    Build, BuildId, CacheExport, CacheImport, FetchTotals, Format, Kind, ParsedLog, Run, Status,
    Step, total_seconds,
};

/// The summaries of one source: its CodeBuild run, if any, and its builds.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSummary<'a> {
    /// Where it was read.
    pub source: &'a str,
    /// The CodeBuild run its `[Container]` lines tell, if any.
    pub run: Option<&'a Run>,
    /// One summary per build.
    pub builds: Vec<Summary<'a>>,
}

impl<'a> SourceSummary<'a> {
    /// Summarises every build of a parsed log.
    pub fn of(log: &'a ParsedLog) -> Self {
        SourceSummary {
            source: &log.source,
            run: log.run.as_ref(),
            builds: log.builds.iter().map(Summary::of).collect(),
        }
    }
}

/// Counts and facts of one build, computed once for every output format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary<'a> {
    /// Source of the build.
    pub source: &'a str,
    /// Index of the build in its source.
    pub index: usize,
    /// The CodeBuild build id, when known.
    pub build_id: Option<&'a BuildId>,
    /// The CodeBuild phase it ran in, when known.
    pub phase: Option<&'a str>,
    /// The buildspec command that ran it, when known.
    pub command: Option<&'a str>,
    /// `failed`, `incomplete` (a step without a terminal line, no error) or `succeeded`.
    pub outcome: &'static str,
    /// The progress format the build was read from.
    pub format: Format,
    /// Read from a tty frame: less precise (see [`Build::approximate`]).
    pub approximate: bool,
    /// Vertices with a header.
    pub steps: usize,
    /// Cacheable steps (Dockerfile instructions other than `FROM`).
    pub cacheable: usize,
    /// Cacheable steps the cache served.
    pub cached: usize,
    /// Cacheable steps that ran (`DONE`).
    pub executed: usize,
    /// Steps that failed (`ERROR`), cache imports included.
    pub errors: usize,
    /// Steps canceled.
    pub canceled: usize,
    /// Steps without a terminal line.
    pub incomplete: usize,
    /// Cached ÷ cacheable.
    pub hit_rate: Option<f64>,
    /// Sum of the `DONE` seconds of executed cacheable steps (parallel steps overlap).
    pub executed_seconds: f64,
    /// The first cacheable step, in print order, that was not cached.
    pub first_miss: Option<&'a Step>,
    /// Cache imports.
    pub imports: &'a [CacheImport],
    /// Cache exports.
    pub exports: &'a [CacheExport],
    /// Seconds spent importing and exporting cache.
    pub cache_seconds: f64,
    /// The layers the cacheable steps fetched, beside the import manifest time.
    pub fetch: &'a FetchTotals,
    /// The client's closing error, or the first failed step's message.
    pub error: Option<&'a str>,
    /// Warnings printed.
    pub warnings: &'a [String],
    /// Unparsed lines inside the build.
    pub unparsed_lines: u64,
    /// First of them.
    pub first_unparsed_line: Option<u64>,
    /// What the cache hits saved, when typical step times are known (`--history`).
    pub savings: Option<Savings>,
    /// The build's steps (for the per-step table).
    #[serde(skip)]
    pub build: &'a Build,
}

/// What a build's cache hits saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Savings {
    /// Seconds (the median executed time of each cached step's key, added up).
    pub seconds: f64,
    /// Cached steps whose time is unknown: never seen executed.
    pub unknown: u32,
    /// What those seconds cost at the compute type's price.
    pub cost: f64,
    /// The price table's currency.
    pub currency: String,
    /// The compute type priced.
    pub compute_type: String,
    /// Of `seconds`, what the cached steps spent fetching their layers.
    pub fetch_seconds: f64,
    /// `seconds − fetch_seconds`: what the hits saved net of their fetch.
    pub net_seconds: f64,
}

impl<'a> Summary<'a> {
    /// Computes the summary of a build.
    pub fn of(build: &'a Build) -> Self {
        let count = |st: Status| build.steps.iter().filter(|s| s.status == st).count();
        let executed: Vec<&Step> = build
            .cacheable()
            .filter(|s| s.status == Status::Done)
            .collect();
        let cache_seconds = build
            .cache
            .imports
            .iter()
            .filter_map(|i| i.seconds)
            .chain(build.cache.exports.iter().filter_map(|e| e.seconds))
            .fold(0.0, |a, b| a + b);
        let step_error = build
            .steps
            .iter()
            .find(|s| s.status == Status::Error && s.kind != Kind::CacheImport)
            .and_then(|s| s.error.as_deref());
        Summary {
            source: &build.source,
            index: build.index,
            build_id: build.build_id.as_ref(),
            phase: build.phase.as_deref(),
            command: build.command.as_deref(),
            outcome: if build.failed() {
                "failed"
            } else if build.incomplete() {
                "incomplete"
            } else {
                "succeeded"
            },
            format: build.format,
            approximate: build.approximate,
            steps: build.steps.len(),
            cacheable: build.cacheable().count(),
            cached: build
                .cacheable()
                .filter(|s| s.status == Status::Cached)
                .count(),
            executed: executed.len(),
            errors: count(Status::Error),
            canceled: count(Status::Canceled),
            incomplete: count(Status::Incomplete),
            hit_rate: build.hit_rate,
            executed_seconds: total_seconds(executed.iter().filter_map(|s| s.seconds)),
            first_miss: build.first_miss(),
            imports: &build.cache.imports,
            exports: &build.cache.exports,
            cache_seconds,
            fetch: &build.cache.fetch,
            error: build.error.as_deref().or(step_error),
            warnings: &build.warnings,
            unparsed_lines: build.unparsed_lines,
            first_unparsed_line: build.first_unparsed_line,
            savings: None,
            build,
        }
    }

    /// Whether the hit rate is below `min` (a fraction); builds without cacheable steps pass.
    pub fn below(&self, min: f64) -> bool {
        self.hit_rate.is_some_and(|r| r + 1e-9 < min)
    }

    /// The steps a summary table lists, in reading order: cache imports, then
    /// Dockerfile steps by stage (stages in order of first appearance) and
    /// position, then cache exports; with `all`, every other vertex in print order first.
    pub fn table_steps(&self, all: bool) -> Vec<&'a Step> {
        let mut stages: Vec<Option<&str>> = Vec::new();
        let mut keyed: Vec<((u8, usize, u32), &'a Step)> = Vec::new();
        for (i, step) in self.build.steps.iter().enumerate() {
            let key = match step.kind {
                Kind::CacheImport => (1, i, 0),
                Kind::From | Kind::Instruction => {
                    let stage = step.stage.as_deref();
                    let rank = stages.iter().position(|s| *s == stage).unwrap_or_else(|| {
                        stages.push(stage);
                        stages.len() - 1
                    });
                    (2, rank, step.position.map_or(0, |[p, _]| p))
                }
                Kind::CacheExport => (3, i, 0),
                _ if all => (0, i, 0),
                _ => continue,
            };
            keyed.push((key, step));
        }
        keyed.sort_by_key(|(key, _)| *key);
        keyed.into_iter().map(|(_, step)| step).collect()
    }
}

/// A piece of a fact line; each output format styles and escapes it its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// cachelens's own words.
    Text(String),
    /// A name from the log (a step, a cache reference): shown as typed.
    Name(String),
    /// A hit rate (a fraction).
    Rate(f64),
    /// A good outcome (`ok`).
    Good(String),
    /// A failure, with its message from the log.
    Bad(String),
    /// A step's status, in words.
    Status(Status),
}

/// One labelled line under a build's step table.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// What the line tells (`hit rate`, `first miss`, …).
    pub label: &'static str,
    /// Its content.
    pub parts: Vec<Part>,
}

impl Summary<'_> {
    /// The lines every summary format shows under the step table, in order.
    pub fn facts(&self) -> Vec<Fact> {
        use Part::{Bad, Good, Name, Rate, Text};
        let fact = |label, parts| Fact { label, parts };
        let mut facts = vec![match self.hit_rate {
            Some(r) => fact(
                "hit rate",
                vec![
                    Rate(r),
                    Text(format!(
                        " ({} of {} cacheable steps cached)",
                        self.cached, self.cacheable
                    )),
                ],
            ),
            None => fact("hit rate", vec![Text("n/a (no cacheable step)".to_owned())]),
        }];
        facts.push(fact(
            "executed",
            vec![Text(format!(
                "{}, {} (sum of DONE times)",
                steps_word(self.executed),
                human_seconds(self.executed_seconds)
            ))],
        ));
        if let Some(miss) = self.first_miss {
            facts.push(fact(
                "first miss",
                vec![
                    Name(miss.label().to_owned()),
                    Text(" (".to_owned()),
                    Part::Status(miss.status),
                    Text(format!(", #{}, line {})", miss.vertex, miss.line)),
                ],
            ));
        }
        if let Some(saved) = &self.savings {
            let mut unknown = match saved.unknown {
                0 => String::new(),
                n => format!(", {n} cached steps of unknown time"),
            };
            if saved.fetch_seconds > 0.0 {
                unknown.push_str(&format!(
                    "; {} net of {} layer fetch",
                    human_seconds(saved.net_seconds),
                    human_seconds(saved.fetch_seconds)
                ));
            }
            facts.push(fact(
                "time saved",
                vec![Text(format!(
                    "{} ≈ {:.3} {} of {} compute{unknown}",
                    human_seconds(saved.seconds),
                    saved.cost,
                    saved.currency,
                    saved.compute_type
                ))],
            ));
        }
        if self.imports.is_empty() {
            facts.push(fact("cache import", vec![Text("none".to_owned())]));
        }
        for i in self.imports {
            let mut parts = vec![Name(i.reference.clone()), Text(" ".to_owned())];
            match &i.error {
                None => parts.push(Good("ok".to_owned())),
                Some(e) => parts.push(Bad(format!("FAILED: {e}"))),
            }
            if let Some(secs) = i.seconds {
                parts.push(Text(format!(" in {}", human_seconds(secs))));
            }
            facts.push(fact("cache import", parts));
        }
        if let Some(f) = self.fetch_fact() {
            facts.push(f);
        }
        if self.exports.is_empty() {
            facts.push(fact("cache export", vec![Text("none".to_owned())]));
        }
        for e in self.exports {
            let result = match (&e.error, e.seconds) {
                (Some(err), _) => Bad(format!("FAILED: {err}")),
                (None, Some(secs)) => Text(human_seconds(secs)),
                (None, None) => Text("done".to_owned()),
            };
            facts.push(fact(
                "cache export",
                vec![Name(e.name.clone()), Text(" ".to_owned()), result],
            ));
        }
        if let Some(err) = self.error {
            facts.push(fact("error", vec![Bad(err.to_owned())]));
        }
        if self.canceled + self.incomplete > 0 {
            facts.push(fact(
                "unfinished",
                vec![Text(format!(
                    "{} canceled, {} without a terminal line",
                    self.canceled, self.incomplete
                ))],
            ));
        }
        for w in self.warnings {
            facts.push(fact("warning", vec![Part::Name(w.clone())]));
        }
        if self.approximate {
            facts.push(fact(
                "approximate",
                vec![Text(format!(
                    "read from the final {} frame: step numbers are display positions, \
                     names may be cut at the terminal width",
                    self.format.as_str()
                ))],
            ));
        }
        if self.unparsed_lines > 0 {
            facts.push(fact(
                "unparsed",
                vec![Text(format!(
                    "{} lines (first at {}:{})",
                    self.unparsed_lines,
                    self.source,
                    self.first_unparsed_line.unwrap_or(0)
                ))],
            ));
        }
        facts
    }
}

impl Summary<'_> {
    /// `cache fetch`: the layers the hits fetched, their size and time, beside
    /// the import manifest's time; none when no cacheable step fetched a layer.
    fn fetch_fact(&self) -> Option<Fact> {
        let f = self.fetch;
        if f.layers == 0 {
            return None;
        }
        let size = f
            .bytes
            .map_or_else(|| "sizes not printed".to_owned(), human_bytes);
        let import = f.import_seconds.map_or_else(
            || "import manifest not timed".to_owned(),
            |s| format!("import manifest {}", human_seconds(s)),
        );
        Some(Fact {
            label: "cache fetch",
            parts: vec![Part::Text(format!(
                "{} {} in {} under {} ({size}); {import}",
                f.layers,
                if f.layers == 1 { "layer" } else { "layers" },
                human_seconds(f.seconds),
                steps_word(f.steps as usize),
            ))],
        })
    }
}

/// Formats bytes for people in decimal units, as BuildKit does: `512 B`, `1.58 kB`, `40.12 MB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// Formats seconds for people: `0.4s`, `12.3s`, `2m05s`, `1h02m`.
pub fn human_seconds(secs: f64) -> String {
    HumanSeconds(secs).to_string()
}

/// Seconds shown for people, as [`human_seconds`] formats them, written
/// without a `String` of their own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HumanSeconds(pub f64);

impl std::fmt::Display for HumanSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0;
        if secs < 60.0 {
            // fl(secs × 10) is within 1e-13 of secs × 10 below 600: rounded more
            // than 1e-9 off a tie, it rounds as `{secs:.1}` does (no float formatter)
            let tenths = secs * 10.0;
            let whole = tenths.round();
            if secs.is_sign_positive() && (tenths - whole).abs() < 0.5 - 1e-9 {
                let whole = whole as u32;
                f.write_str(itoa::Buffer::new().format(whole / 10))?;
                f.write_char('.')?;
                f.write_char(char::from(b'0' + (whole % 10) as u8))?;
                return f.write_char('s');
            }
            return write!(f, "{secs:.1}s");
        }
        let whole = secs.round() as u64;
        if whole < 3600 {
            write!(f, "{}m{:02}s", whole / 60, whole % 60)
        } else {
            write!(f, "{}h{:02}m", whole / 3600, (whole % 3600) / 60)
        }
    }
}

/// `1 step`, `2 steps`.
pub fn steps_word(n: usize) -> String {
    if n == 1 {
        "1 step".to_owned()
    } else {
        format!("{n} steps")
    }
}

/// How a step ended, in words: `cached`, `executed`, `error`, `canceled`, `incomplete`.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Done => "executed",
        other => other.as_str(),
    }
}

/// Formats a fraction as a whole percentage: `0.6` → `60%`.
pub fn percent(rate: f64) -> String {
    Percent(rate).to_string()
}

/// A fraction shown as a whole percentage, as [`percent`] formats it, written
/// without a `String` of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = self.0 * 100.0;
        let whole = value.round();
        // off a tie (which `{:.0}` rounds to even), `round` rounds as `{:.0}` does
        if value.is_sign_positive() && whole < 1e15 && (value - whole).abs() != 0.5 {
            f.write_str(itoa::Buffer::new().format(whole as u64))?;
            return f.write_char('%');
        }
        write!(f, "{value:.0}%")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn human_seconds_reads_well() {
        assert_eq!(human_seconds(0.0), "0.0s");
        assert_eq!(human_seconds(12.34), "12.3s");
        assert_eq!(human_seconds(125.0), "2m05s");
        assert_eq!(human_seconds(3725.0), "1h02m");
        assert_eq!(percent(0.6), "60%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(40_120_000), "40.12 MB");
        assert_eq!(human_bytes(2_500_000_000), "2.50 GB");
    }

    proptest! {
        /// The quick roundings write what the float formatter writes.
        #[test]
        fn quick_roundings_match_the_formatter(
            secs in prop_oneof![
                0.0..60.0f64,
                (0u32..1200).prop_map(|n| f64::from(n) / 20.0),
                (0u32..600).prop_map(|n| f64::from(n) / 10.0 + 0.05),
                proptest::num::f64::ANY,
            ],
            rate in prop_oneof![
                0.0..=1.0f64,
                (0u32..=200).prop_map(|n| f64::from(n) / 200.0),
                proptest::num::f64::ANY,
            ],
        ) {
            if secs < 60.0 {
                prop_assert_eq!(human_seconds(secs), format!("{secs:.1}s"));
            }
            prop_assert_eq!(percent(rate), format!("{:.0}%", rate * 100.0));
        }
    }
}
