//! The analysis of many builds: its options, its tables and [`analyze`], which
//! makes them in three stages: the logs to typed rows ([`rows`](crate::analyze::rows),
//! in parallel), the rows to polars tables and their group-bys and joins
//! ([`aggregate`]), and the money ([`billing`]).
//!
//! Rows are kept in input order and every table is sorted, so the output
//! does not depend on the thread count.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashSet};

use polars::prelude::*;
use serde::Serialize;

use super::cache_loses::CacheLoss;
use super::interval::Interval;
use super::miss_causes::MissCause;
use super::rows::{BuildRow, IsoWeek, LogRows, RowMaker, Rows, STEP, StepRow};
use super::{aggregate, billing};
use crate::cost::{Pricing, PricingError};
use crate::model::{Kind, ParsedLog, Status};
use crate::source::ecr::RepositorySize;

/// A failure of the analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// A table operation failed.
    #[error("table: {0}")]
    Polars(#[from] PolarsError),
    /// A price is missing.
    #[error(transparent)]
    Pricing(#[from] PricingError),
}

/// What the analysis needs besides the logs.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// Prices.
    pub pricing: &'a Pricing,
    /// Compute type for runs CodeBuild's API did not describe ([`crate::cost::DEFAULT_COMPUTE_TYPE`] if none).
    pub compute_type: Option<String>,
    /// Window start, epoch ms (logs without a time are always in).
    pub since_ms: Option<i64>,
    /// Window end, epoch ms.
    pub until_ms: Option<i64>,
    /// Size of the cache repository, for storage cost.
    pub storage: Option<Storage>,
}

impl<'a> Options<'a> {
    /// `pricing`, no window, the default compute type, no known storage.
    pub fn new(pricing: &'a Pricing) -> Self {
        Options {
            pricing,
            compute_type: None,
            since_ms: None,
            until_ms: None,
            storage: None,
        }
    }
}

/// The cache repository's size and how it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Storage {
    /// Gigabytes (10^9 bytes) of unique layers.
    pub gb: f64,
    /// `ecr:<repo>` or `--cache-size-gb`.
    pub source: String,
}

impl Storage {
    /// The size ECR reports for repository `repo`: its unique blobs.
    pub fn of_repository(repo: &str, size: &RepositorySize) -> Self {
        Storage {
            gb: size.unique_bytes as f64 / 1e9,
            source: format!(
                "ecr:{repo} ({} images, {} unique blobs; their image sizes add up to {:.3} GB{})",
                size.images,
                size.blobs,
                size.summed_bytes as f64 / 1e9,
                match size.unread.len() {
                    0 => String::new(),
                    n => format!("; {n} of its manifests not read, their blobs not counted"),
                }
            ),
        }
    }

    /// A size the user gave (`--cache-size-gb`).
    pub fn given(gb: f64) -> Self {
        Storage {
            gb,
            source: "--cache-size-gb".to_owned(),
        }
    }
}

/// The tables of an analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// One row per Dockerfile step of the builds in the window.
    pub steps: DataFrame,
    /// One row per BuildKit build in the window.
    pub builds: DataFrame,
    /// One row per log (a CodeBuild run, or a file) in the window, with billing.
    pub runs: DataFrame,
    /// Hit rate per ISO week.
    pub by_week: DataFrame,
    /// Hit rate per day.
    pub by_day: DataFrame,
    /// Hit rate per project.
    pub by_project: DataFrame,
    /// Hit rate per branch.
    pub by_branch: DataFrame,
    /// Per project and step key: hits, misses, typical time, minutes lost to misses.
    pub step_keys: DataFrame,
    /// Per ISO week: minutes and dollars saved, overhead, storage, net.
    pub weekly: DataFrame,
    /// Per project and cause of misses: builds, steps and minutes lost, an
    /// example with its evidence and the fix; each project's first first
    /// (rows: the `miss_causes` table is [`MissCause::frame`]).
    pub miss_causes: Vec<MissCause>,
    /// Per project, ISO week and origin (remote, local, undetermined): builds,
    /// hits and minutes saved (see [`HitOrigin`](super::hit_origin::HitOrigin)).
    pub hits_by_origin: DataFrame,
    /// The step keys whose fetch costs more than their execution.
    pub cache_losses: Vec<CacheLoss>,
    /// The ISO weeks of the builds in the window, in order (the `week`
    /// columns hold them formatted).
    pub weeks: Vec<IsoWeek>,
    /// The headline figures.
    pub totals: Totals,
}

/// The headline figures of a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    /// First and last build start in the window (ISO dates), when known.
    pub first_day: Option<String>,
    /// See `first_day`.
    pub last_day: Option<String>,
    /// Days the storage is charged for: the window, else the span of the builds.
    pub days: f64,
    /// Logs (CodeBuild runs or files).
    pub runs: usize,
    /// Of `runs`, the CodeBuild runs (a build id known); the others are files.
    pub codebuild_runs: usize,
    /// BuildKit builds.
    pub builds: usize,
    /// Cacheable steps.
    pub cacheable: usize,
    /// Cached steps.
    pub cached: usize,
    /// Cached ÷ cacheable.
    pub hit_rate: Option<f64>,
    /// Seconds the cached steps would have taken (sum of medians).
    pub saved_seconds: f64,
    /// Cached steps whose key never executed in the window or history: time saved unknown.
    pub saved_unknown: usize,
    /// Seconds of cache overhead: `import_seconds + fetch_seconds + export_seconds`.
    pub overhead_seconds: f64,
    /// Of it, the cache-import manifest vertices.
    pub import_seconds: f64,
    /// Of it, the layers the hits fetched (added up per step).
    pub fetch_seconds: f64,
    /// Of it, the cache export vertices.
    pub export_seconds: f64,
    /// Layers the hits fetched.
    pub fetch_layers: usize,
    /// Gigabytes (10^9 bytes) the hits fetched, as far as the logs printed sizes.
    pub fetch_gb: f64,
    /// Of `fetch_layers`, those whose size the log did not print (not in `fetch_gb`).
    pub fetch_layers_unsized: usize,
    /// What moving them cost (same-region ECR transfer, NAT gateway processing when priced).
    pub transfer_cost: f64,
    /// Hits, their builds and the minutes they saved, by where they came from.
    pub hits_by_origin: HitsByOrigin,
    /// Billed minutes.
    pub billed_minutes: f64,
    /// Billed minutes without the cache.
    pub billed_minutes_without_cache: f64,
    /// Dollars the cache saved in compute (billed).
    pub compute_saved: f64,
    /// Dollars of compute spent on cache import/export.
    pub overhead_cost: f64,
    /// Dollars of ECR storage for the window, when the size is known.
    pub storage_cost: Option<f64>,
    /// The storage size used.
    pub storage: Option<Storage>,
    /// What the cache cost: overhead_cost + storage_cost (unknown with the storage).
    pub cache_cost: Option<f64>,
    /// compute_saved − cache_cost (unknown with the storage).
    pub net: Option<f64>,
    /// compute_saved ÷ cache_cost (unknown with the storage, or when it cost nothing).
    pub return_ratio: Option<f64>,
    /// 90 % interval of the compute minutes saved (`saved_seconds` ÷ 60), by bootstrap.
    pub saved_minutes_interval: Option<Interval>,
    /// 90 % interval of `compute_saved`.
    pub compute_saved_interval: Option<Interval>,
    /// 90 % interval of `net` (unknown with it).
    pub net_interval: Option<Interval>,
    /// Storage size at which net is zero, GB.
    pub break_even_gb: Option<f64>,
    /// The price table's date.
    pub pricing_date: String,
    /// Currency.
    pub currency: String,
    /// Compute type assumed where CodeBuild did not say.
    pub default_compute_type: String,
}

/// The hits of the window by origin (see [`HitOrigin`](super::hit_origin::HitOrigin)).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HitsByOrigin {
    /// Hits of builds whose import succeeded and whose hits fetched layers.
    pub remote: OriginFigures,
    /// Hits of builds that imported no remote cache.
    pub local: OriginFigures,
    /// Hits of builds that imported a cache and fetched no layer.
    pub undetermined: OriginFigures,
}

/// The figures of one origin.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OriginFigures {
    /// Builds with a hit.
    pub builds: usize,
    /// Their cached steps.
    pub hits: usize,
    /// The minutes those saved.
    pub saved_minutes: f64,
}

/// How every figure is made; shown in `totals.json` and the reports.
pub const ASSUMPTIONS: &[&str] = &[
    "Hit rate counts Dockerfile instructions other than FROM; internal, auth, exporter and cache import/export vertices never count.",
    "A cached step saves the median DONE time of the same step (same project and step key: instruction and arguments, without stage prefix or image digests) in builds where it executed, in the window or the history.",
    "A cached step whose key never executed is counted apart as 'unknown', never as zero.",
    "Saved times of one build are added up; steps of parallel stages overlap, so this is an upper bound.",
    "Cache overhead is import + fetch + export: the time of the cache import vertices, the layers the cached steps fetched (pulling, downloading and extracting, the last figure of each layer, added up per step: layers fetched in parallel overlap), and the cache export vertices. A FROM's layers are the base image's and are not counted.",
    "A cached step's net saving is its key's median executed time minus its own fetch time; a step key whose hits' median fetch is longer than its median execution (3 samples of each or more) is flagged: the cache loses there. BuildKit ≤ v0.8 pulls a chain of hits' layers under the last of them, which carries the chain's fetch.",
    "Where hits come from, per build: no successful cache import, a local cache (the host's, a persistent builder); an import and layers fetched by its hits, the remote cache; an import and no layer fetched, undetermined (the layers were already local, or the import read a local image).",
    "Bytes fetched are the layers' sizes as printed (BuildKit ≤ v0.8 prints none: those count as unknown, not zero); their transfer costs the price table's same-region ECR transfer plus its NAT gateway processing per GB (0 unless set), added to the cache's cost.",
    "CodeBuild bills each build per started minute (per second for Lambda compute): billed minutes are compared with and without the saved time.",
    "Storage cost is the cache repository's unique layers (GB) × the GB-month price × the window's days / 30.4375.",
    "Intervals are 90 %: a seeded bootstrap (1000 replicates) draws each step key's executed times again, with replacement, and takes their median; a key with one sample borrows the spread of the keys with more, so it is wide; each replicate bills every run again. The interval is where 90 % of the replicates' totals fall: how much the figure depends on which executions happened to be seen, not a bound.",
    "The verdict: the cache pays for itself when the compute it saved exceeds its cost (import/export compute + storage); net = saved − cost, return = saved ÷ cost. Without the storage cost these are unknown, never computed as if it were zero.",
];

/// Analyses the logs of a window; `history` only adds samples of executed
/// steps (for the time a cached step saves), never rows of its own.
pub fn analyze(
    window: &[ParsedLog],
    history: &[ParsedLog],
    options: &Options<'_>,
) -> Result<Analysis, AnalyzeError> {
    Gathered::of(window, history, options).analyze(options)
}

/// What the analysis takes from the logs: their rows and the causes of their
/// misses. The logs can be dropped once it is made (a report of 100,000 runs
/// holds a gigabyte of them), and [`Gathered::analyze`] makes the tables.
pub struct Gathered {
    rows: Rows,
    miss_causes: Vec<MissCause>,
    /// How many of the rows' logs are the window's (the first ones).
    window: usize,
}

impl Gathered {
    /// The rows of `window` and `history` (see [`analyze`]) and the causes of
    /// the window's misses.
    pub fn of(window: &[ParsedLog], history: &[ParsedLog], options: &Options<'_>) -> Self {
        let rows = RowMaker::new(options).rows(window, history);
        Self::with_rows(rows, window)
    }

    /// Starts gathering logs as they are read, for the window and compute
    /// type of `options` (see [`Gathering`]).
    pub fn gathering(options: &Options<'_>) -> Gathering {
        Gathering {
            maker: RowMaker::new(options),
        }
    }

    /// The miss causes of `window`, whose rows (first among `rows`) were made already.
    fn with_rows<L: Borrow<ParsedLog> + Sync>(rows: Rows, window: &[L]) -> Self {
        let window_sources: HashSet<&str> = rows
            .builds()
            .filter(|b| b.in_window)
            .map(|b| &*b.source)
            .collect();
        let miss_causes = super::miss_causes::miss_causes(window, &window_sources);
        Gathered {
            rows,
            miss_causes,
            window: window.len(),
        }
    }

    /// Where the window's logs were read, in order.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.rows.contexts[..self.window].iter().map(|c| &*c.source)
    }

    /// The tables.
    pub fn analyze(self, options: &Options<'_>) -> Result<Analysis, AnalyzeError> {
        let Gathered {
            rows, miss_causes, ..
        } = self;
        let steps = aggregate::steps(StepRow::frame(rows.steps())?)?;
        let builds = aggregate::builds(BuildRow::frame(rows.builds())?, &steps)?;
        let run_rows = billing::runs(&builds, &rows.contexts, options.pricing)?;
        // the bootstrap beside the tables that do not need it: on two threads
        // the report's tail is not one thread's work
        let (intervals, tables) = rayon::join(
            || super::interval::intervals(rows.steps(), &run_rows, options.pricing),
            || -> Result<_, AnalyzeError> {
                let step_keys = aggregate::step_keys(&steps)?;
                let cache_losses = super::cache_loses::cache_losses(&step_keys)?;
                let hits_by_origin = super::hit_origin::hits_by_origin(&builds)?;
                let runs = billing::RunRow::frame(&run_rows)?;
                let by = |column| aggregate::hit_rate(&steps, column);
                let hit_rates = [
                    by(STEP.week)?,
                    by(STEP.day)?,
                    by(STEP.project)?,
                    by(STEP.branch)?,
                ];
                Ok((step_keys, cache_losses, hits_by_origin, runs, hit_rates))
            },
        );
        let intervals = intervals?;
        let (step_keys, cache_losses, hits_by_origin, runs, hit_rates) = tables?;
        let [by_week, by_day, by_project, by_branch] = hit_rates;
        let steps = steps.drop(STEP.executed)?;

        let span = billing::Span::of(&run_rows, options);
        let totals = billing::totals(&builds, &runs, span, &intervals, options)?;
        let weeks: BTreeSet<IsoWeek> = run_rows.iter().filter_map(|r| r.week).collect();
        let weeks: Vec<IsoWeek> = weeks.into_iter().collect();
        let weekly = billing::weekly(&builds, &runs, &weeks, span, &intervals, options)?;
        Ok(Analysis {
            by_week,
            by_day,
            by_project,
            by_branch,
            steps,
            builds,
            runs,
            step_keys,
            weekly,
            miss_causes,
            hits_by_origin,
            cache_losses,
            weeks,
            totals,
        })
    }
}

/// Gathers each log as it is read, in its reading task: its rows are made
/// then, and the log keeps only what the miss causes read (not its CodeBuild
/// run record, its vertex digests nor the `[internal]` vertices that ran). A
/// report of 100,000 runs thus never holds the whole logs and their rows at once.
pub struct Gathering {
    maker: RowMaker,
}

/// A log read by [`Gathering::read`]: the log, slimmed, and its rows.
pub struct ReadLog {
    log: ParsedLog,
    /// Taken by [`Gathering::gathered`].
    rows: Option<LogRows>,
}

impl Borrow<ParsedLog> for ReadLog {
    fn borrow(&self) -> &ParsedLog {
        &self.log
    }
}

impl Gathering {
    /// The rows of a log just read, of the window's logs (`from_window`) or
    /// the history's, and the log without what only its rows needed.
    pub fn read(&self, mut log: ParsedLog, from_window: bool) -> ReadLog {
        let rows = self.maker.log(&log, from_window);
        log.run = None;
        for build in &mut log.builds {
            // the rules read the cacheable steps, the imports' and exports'
            // vertices and the CACHED steps of any kind: an `[internal]` vertex
            // that ran is none of them (31 % of the steps of a 100,080-run corpus)
            build
                .steps
                .retain(|s| s.kind != Kind::Internal || s.status == Status::Cached);
            build.steps.shrink_to_fit();
            for step in &mut build.steps {
                step.digest = None;
            }
        }
        ReadLog {
            log,
            rows: Some(rows),
        }
    }

    /// The rows of `window` and then `history`, in that order, and the
    /// causes of the window's misses; the logs are dropped.
    pub fn gathered(self, mut window: Vec<ReadLog>, history: Vec<ReadLog>) -> Gathered {
        let mut rows = Rows::with_capacity(window.len() + history.len());
        // taken in place: the window's logs are not moved into a second list
        // (100,000 logs: 40 MB)
        for read in &mut window {
            rows.extend(read.rows.take());
        }
        rows.extend(history.into_iter().filter_map(|read| read.rows));
        Gathered::with_rows(rows, &window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::aggregate::STEP_SAVINGS;
    use crate::analyze::billing::{RUN, WEEKLY};
    use crate::model::{BuildId, BuildMetadata, Origin};
    use crate::parse::parse_log;

    const DAY: i64 = 86_400_000;
    /// 2026-10-05 00:00 UTC, a Monday (ISO week 41)
    const MONDAY: i64 = 1_791_158_400_000;

    fn run(name: &str, text: &str, start: i64, seconds: i64) -> ParsedLog {
        let mut log = parse_log(text.as_bytes(), name);
        log.origin = Origin {
            build_id: Some(BuildId::new("app", name)),
            first_event_ms: Some(start),
            metadata: Some(BuildMetadata {
                build_id: Some(BuildId::new("app", name)),
                project: Some("app".into()),
                compute_type: Some("BUILD_GENERAL1_MEDIUM".into()),
                source_version: Some("refs/heads/main".into()),
                start_time: Some(start),
                end_time: Some(start + seconds * 1000),
                ..BuildMetadata::default()
            }),
        };
        log
    }

    /// Three runs whose every figure is computed by hand in the test below.
    fn three_runs() -> Vec<ParsedLog> {
        vec![
            run(
                "a",
                "#1 [1/3] FROM base\n#1 DONE 0.0s\n\n#2 [2/3] RUN a\n#2 DONE 100.0s\n\n\
                 #3 [3/3] RUN b\n#3 DONE 50.0s\n\n#4 exporting cache\n#4 DONE 2.0s\n",
                MONDAY + 3_600_000,
                200,
            ),
            run(
                "b",
                "#1 importing cache manifest from r/app:cache\n#1 DONE 1.0s\n\n\
                 #2 [1/3] FROM base\n#2 CACHED\n\n#3 [2/3] RUN a\n#3 CACHED\n\n\
                 #4 [3/3] RUN b\n#4 DONE 70.0s\n\n#5 exporting cache\n#5 DONE 2.0s\n",
                MONDAY + DAY,
                90,
            ),
            run(
                "c",
                "#1 importing cache manifest from r/app:cache\n#1 ERROR: not found\n\n\
                 #2 [1/4] FROM base\n#2 DONE 0.0s\n\n#3 [2/4] RUN a\n#3 CACHED\n\n\
                 #4 [3/4] RUN b\n#4 CACHED\n\n#5 [4/4] RUN c\n#5 CACHED\n",
                MONDAY + 8 * DAY,
                30,
            ),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    #[allow(clippy::too_many_lines)] // every figure, one after the other
    fn every_figure_matches_a_hand_computation() {
        let pricing = Pricing::embedded();
        let options = Options {
            since_ms: Some(MONDAY),
            until_ms: Some(MONDAY + 14 * DAY),
            storage: Some(Storage {
                gb: 12.0,
                source: "--cache-size-gb".into(),
            }),
            ..Options::new(&pricing)
        };
        let a = analyze(&three_runs(), &[], &options).unwrap();
        let t = &a.totals;
        // hit rate: a 0/2, b 1/2, c 3/3
        assert_eq!((t.cacheable, t.cached), (7, 4));
        assert!(close(t.hit_rate.unwrap(), 4.0 / 7.0));
        // medians: RUN a [100] → 100, RUN b [50, 70] → 60, RUN c none → unknown
        // b saves 100; c saves 100 + 60 and one unknown
        assert!(close(t.saved_seconds, 260.0), "{}", t.saved_seconds);
        assert_eq!(t.saved_unknown, 1);
        // overhead: a export 2; b import 1 + export 2; c's failed import has no time
        assert!(close(t.overhead_seconds, 5.0));
        // billed minutes: a 200 s → 4 (saved nothing); b 90 s → 2, 190 s → 4;
        // c 30 s → 1, 190 s → 4
        assert!(close(t.billed_minutes, 7.0) && close(t.billed_minutes_without_cache, 12.0));
        assert!(close(t.compute_saved, 0.05), "{}", t.compute_saved);
        assert!(close(t.overhead_cost, 5.0 / 60.0 * 0.01));
        // storage: 12 GB × $0.10 × 14 / 30.4375 days
        let storage = 12.0 * 0.10 * 14.0 / 30.4375;
        assert!(close(t.storage_cost.unwrap(), storage));
        assert!(close(t.net.unwrap(), 0.05 - 5.0 / 60.0 * 0.01 - storage));
        let cost = 5.0 / 60.0 * 0.01 + storage;
        assert!(close(t.cache_cost.unwrap(), cost));
        assert!(close(t.return_ratio.unwrap(), 0.05 / cost));
        assert!(close(
            t.break_even_gb.unwrap(),
            (0.05 - 5.0 / 600.0 * 0.1) / (0.10 * 14.0 / 30.4375)
        ));
        assert_eq!((t.runs, t.builds), (3, 3));
        assert_eq!(t.first_day.as_deref(), Some("2026-10-05"));

        // per week: W41 holds a and b (1 of 4 cached), W42 holds c (3 of 3)
        let weeks = &a.weekly;
        let col = |n: &str| weeks.column(n).unwrap().clone();
        assert_eq!(col("week").str().unwrap().get(0), Some("2026-W41"));
        assert!(close(col("hit_rate").f64().unwrap().get(0).unwrap(), 0.25));
        assert!(close(col("hit_rate").f64().unwrap().get(1).unwrap(), 1.0));
        assert!(close(
            col("compute_saved").f64().unwrap().get(1).unwrap(),
            0.03
        ));
        assert!(close(
            col("storage_cost").f64().unwrap().get(0).unwrap(),
            12.0 * 0.10 * 7.0 / 30.4375
        ));
        assert!(close(
            col("saved_minutes").f64().unwrap().get(1).unwrap(),
            160.0 / 60.0
        ));

        // step keys: RUN b lost 50 + 70 s to misses in two runs, with two samples
        let keys = &a.step_keys;
        assert_eq!(
            keys.column("step_key").unwrap().str().unwrap().get(0),
            Some("RUN b")
        );
        assert!(close(
            keys.column("minutes_lost")
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap(),
            2.0
        ));
        assert_eq!(
            keys.column("samples").unwrap().u32().unwrap().get(0),
            Some(2)
        );
        assert!(close(
            keys.column("median_seconds")
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
                .unwrap(),
            60.0
        ));

        // branch from the source version; a history sample makes RUN c known
        assert_eq!(
            a.by_branch.column("branch").unwrap().str().unwrap().get(0),
            Some("main")
        );
        let history = [run(
            "h",
            "#1 [4/4] RUN c\n#1 DONE 30.0s\n",
            MONDAY - 30 * DAY,
            40,
        )];
        let with_history = analyze(&three_runs(), &history, &options).unwrap();
        assert_eq!(with_history.totals.saved_unknown, 0);
        assert!(close(with_history.totals.saved_seconds, 290.0));
        assert_eq!(
            with_history.totals.builds, 3,
            "history adds samples, not builds"
        );
    }

    #[test]
    fn the_slimmed_logs_give_the_miss_causes_the_whole_logs_give() {
        let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real");
        let logs: Vec<ParsedLog> = crate::corpus::real_logs(&real)
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, (name, text))| {
                let text = String::from_utf8_lossy(text);
                run(name, &text, MONDAY + i as i64 * DAY, 60)
            })
            .collect();
        assert!(
            logs.iter()
                .flat_map(|l| &l.builds)
                .flat_map(|b| &b.steps)
                .any(|s| s.kind == Kind::Internal),
            "the logs hold [internal] vertices"
        );
        let pricing = Pricing::embedded();
        let options = Options::new(&pricing);
        let whole = Gathered::of(&logs, &[], &options).miss_causes;
        let gathering = Gathered::gathering(&options);
        let read = logs
            .into_iter()
            .map(|log| gathering.read(log, true))
            .collect();
        let slimmed = gathering.gathered(read, Vec::new()).miss_causes;
        assert!(whole.len() > 1, "{whole:#?}");
        assert_eq!(slimmed, whole);
    }

    #[test]
    fn the_window_and_the_thread_count_do_not_change_a_thing() {
        let pricing = Pricing::embedded();
        let options = Options {
            compute_type: Some("general1.small".into()),
            since_ms: Some(MONDAY + 7 * DAY),
            ..Options::new(&pricing)
        };
        let a = analyze(&three_runs(), &[], &options).unwrap();
        assert_eq!(a.totals.builds, 1, "only c is in the window");
        // a and b still give samples: c saves 100 + 60
        assert!(close(a.totals.saved_seconds, 160.0));
        assert_eq!(a.totals.storage_cost, None);
        // no storage cost, so no cost of the cache, net or return: never as if zero
        assert_eq!(
            (a.totals.cache_cost, a.totals.net, a.totals.return_ratio),
            (None, None, None)
        );
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = one.install(|| analyze(&three_runs(), &[], &options).unwrap());
        assert_eq!(a.steps, b.steps);
        assert_eq!(a.totals, b.totals);
    }

    #[test]
    fn runs_are_priced_by_compute_and_environment_type() {
        let pricing = Pricing::embedded();
        let options = Options::new(&pricing);
        let mut logs = three_runs();
        let envs = [
            ("BUILD_GENERAL1_SMALL", "ARM_CONTAINER", "arm1.small"),
            ("BUILD_GENERAL1_LARGE", "LINUX_GPU_CONTAINER", "gpu1.large"),
            ("BUILD_LAMBDA_2GB", "ARM_LAMBDA_CONTAINER", "lambda.2gb.arm"),
        ];
        for (log, (compute, env, _)) in logs.iter_mut().zip(envs) {
            let m = log.origin.metadata.as_mut().unwrap();
            m.compute_type = Some(compute.into());
            m.environment_type = Some(env.into());
        }
        let a = analyze(&logs, &[], &options).unwrap();
        let types = a
            .runs
            .column(RUN.compute_type)
            .unwrap()
            .str()
            .unwrap()
            .clone();
        let cost = a.runs.column(RUN.cost).unwrap().f64().unwrap().clone();
        for (i, (_, _, name)) in envs.iter().enumerate() {
            assert_eq!(types.get(i), Some(*name));
        }
        // a: 200 s → 4 started minutes of arm1.small; b: 90 s → 2 of gpu1.large;
        // c: 30 s of 2 GB arm Lambda, per second
        assert!(close(cost.get(0).unwrap(), 4.0 * 0.0034));
        assert!(close(cost.get(1).unwrap(), 2.0 * 0.65));
        assert!(close(cost.get(2).unwrap(), 30.0 * 0.00002));
    }

    #[test]
    fn savings_intervals_hold_the_estimate_and_narrow_with_more_samples() {
        let pricing = Pricing::embedded();
        let options = Options {
            since_ms: Some(MONDAY),
            until_ms: Some(MONDAY + 14 * DAY),
            ..Options::new(&pricing)
        };
        let width = |i: Interval| i.high - i.low;
        let few = analyze(&three_runs(), &[], &options).unwrap().totals;
        // twenty earlier runs that executed both steps, at times around theirs
        let history: Vec<ParsedLog> = (0..20)
            .map(|i| {
                let (a, b) = (90 + i % 21, 50 + (i * 7) % 21);
                run(
                    &format!("h{i}"),
                    &format!(
                        "#1 [1/3] FROM base\n#1 DONE 0.0s\n\n#2 [2/3] RUN a\n#2 DONE {a}.0s\n\n\
                         #3 [3/3] RUN b\n#3 DONE {b}.0s\n"
                    ),
                    MONDAY - (i + 1) * DAY,
                    200,
                )
            })
            .collect();
        let many = analyze(&three_runs(), &history, &options).unwrap().totals;
        for t in [&few, &many] {
            let i = t.saved_minutes_interval.unwrap();
            let point = t.saved_seconds / 60.0;
            assert!(i.low <= point && point <= i.high, "{i:?} around {point}");
        }
        let (w_few, w_many) = (
            width(few.saved_minutes_interval.unwrap()),
            width(many.saved_minutes_interval.unwrap()),
        );
        assert!(w_few > w_many && w_many > 0.0, "{w_few} vs {w_many}");
        // the same logs, the same interval
        let again = analyze(&three_runs(), &[], &options).unwrap().totals;
        assert_eq!(again.saved_minutes_interval, few.saved_minutes_interval);
    }

    #[test]
    #[allow(clippy::too_many_lines)] // four logs and every figure they make
    fn fetch_overhead_origins_and_transfer_by_hand() {
        let mut pricing = Pricing::embedded();
        pricing.ecr.nat_gateway_per_gb = 0.045;
        let options = Options {
            pricing: &pricing,
            compute_type: None,
            since_ms: Some(MONDAY),
            until_ms: Some(MONDAY + 7 * DAY),
            storage: Some(Storage::given(1.0)),
        };
        let layer = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let (a, b) = (layer('a'), layer('b'));
        let import = "#1 importing cache manifest from r/app:cache\n#1 DONE 0.5s\n\n";
        let logs = vec![
            // cold, no import: RUN a runs in 10 s
            run(
                "a",
                "#2 [1/2] FROM base\n#2 DONE 0.0s\n\n#3 [2/2] RUN a\n#3 DONE 10.0s\n\n\
                 #4 exporting cache\n#4 DONE 1.0s\n",
                MONDAY,
                60,
            ),
            // a remote hit: 2 GB fetched in 3 + 1 s; the base image's pull is not the cache's
            run(
                "b",
                &format!(
                    "{import}#2 [1/2] FROM base\n#2 {b} 5.00MB / 5.00MB 2.0s done\n#2 DONE 2.0s\n\n\
                     #3 [2/2] RUN a\n#3 {a} 1.00GB / 2.00GB 1.5s\n#3 {a} 2.00GB / 2.00GB 3.0s done\n\
                     #3 extracting {a} 1.0s done\n#3 CACHED\n"
                ),
                MONDAY + 1000,
                30,
            ),
            // no import: a local hit
            run(
                "c",
                "#2 [1/2] FROM base\n#2 DONE 0.0s\n\n#3 [2/2] RUN a\n#3 CACHED\n",
                MONDAY + 2000,
                30,
            ),
            // an import and no layer fetched: undetermined
            run(
                "d",
                &format!("{import}#2 [1/2] FROM base\n#2 DONE 0.0s\n\n#3 [2/2] RUN a\n#3 CACHED\n"),
                MONDAY + 3000,
                30,
            ),
        ];
        let an = analyze(&logs, &[], &options).unwrap();
        let t = &an.totals;
        assert!(close(t.import_seconds, 1.0) && close(t.fetch_seconds, 4.0));
        assert!(close(t.export_seconds, 1.0) && close(t.overhead_seconds, 6.0));
        assert_eq!((t.fetch_layers, t.fetch_layers_unsized), (1, 0));
        assert!(close(t.fetch_gb, 2.0) && close(t.transfer_cost, 0.09));
        assert!(
            close(t.overhead_cost, 6.0 / 60.0 * 0.01),
            "{}",
            t.overhead_cost
        );
        let storage = t.storage_cost.unwrap();
        assert!(close(
            t.net.unwrap(),
            t.compute_saved - t.overhead_cost - 0.09 - storage
        ));
        let o = &t.hits_by_origin;
        assert_eq!(
            (o.remote.hits, o.local.hits, o.undetermined.hits),
            (1, 1, 1)
        );
        assert!(close(o.remote.saved_minutes, 10.0 / 60.0));
        // a hit saves its median (10 s) minus its own fetch
        let steps = &an.steps;
        let net: Vec<Option<f64>> = steps
            .column(STEP_SAVINGS.net_saved_seconds)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        let cached: Vec<bool> = steps
            .column(STEP.cached)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .map(Option::unwrap_or_default)
            .collect();
        let hits: Vec<f64> = net
            .iter()
            .zip(&cached)
            .filter(|(_, c)| **c)
            .map(|(n, _)| n.unwrap())
            .collect();
        assert_eq!(hits, [6.0, 10.0, 10.0]);
        // the weekly net takes the transfer too
        let weekly_net = an.weekly.column(WEEKLY.net).unwrap().f64().unwrap().sum();
        assert!(close(weekly_net.unwrap(), t.net.unwrap()));
        // one fetching hit is not enough to say the cache loses
        assert!(an.cache_losses.is_empty());
    }
}
