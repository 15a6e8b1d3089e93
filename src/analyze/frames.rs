//! The step records of many builds as polars tables, and what they add up to:
//! hit rates per project, branch, day, ISO week and step key; the time the
//! cache saved (the median executed time of each cached step's key); the cache's
//! own overhead; billed minutes and money.
//!
//! Rows are made in parallel (rayon, one task per log) and concatenated in
//! input order; every table is sorted, so the output does not depend on the
//! thread count.

use chrono::{DateTime, Datelike, NaiveDate};
use polars::prelude::*;
use rayon::prelude::*;
use serde::Serialize;

use super::key::step_key;
use crate::cost::{self, Pricing, PricingError};
use crate::model::ParsedLog;
use crate::model::{Kind, Status};

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
    /// Compute type for runs CodeBuild's API did not describe ([`cost::DEFAULT_COMPUTE_TYPE`] if none).
    pub compute_type: Option<String>,
    /// Window start, epoch ms (logs without a time are always in).
    pub since_ms: Option<i64>,
    /// Window end, epoch ms.
    pub until_ms: Option<i64>,
    /// Size of the cache repository, for storage cost.
    pub storage: Option<Storage>,
}

/// The cache repository's size and how it was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Storage {
    /// Gigabytes (10^9 bytes) of unique layers.
    pub gb: f64,
    /// `ecr:<repo>` or `--cache-size-gb`.
    pub source: String,
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
    /// Seconds spent importing and exporting cache.
    pub overhead_seconds: f64,
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
    /// compute_saved − overhead_cost − storage_cost.
    pub net: f64,
    /// Storage size at which net is zero, GB.
    pub break_even_gb: Option<f64>,
    /// The price table's date.
    pub pricing_date: String,
    /// Currency.
    pub currency: String,
    /// Compute type assumed where CodeBuild did not say.
    pub default_compute_type: String,
}

/// What one build's cache hits saved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildSavings {
    /// The build's source.
    pub source: String,
    /// Its index in the source.
    pub index: usize,
    /// Seconds saved (sum of the medians of its cached steps' keys).
    pub seconds: f64,
    /// Cached steps whose time is unknown (their key never executed).
    pub unknown: u32,
    /// The compute type its run was billed at.
    pub compute_type: String,
}

/// What each build of an analysis saved, in build order.
pub fn build_savings(analysis: &Analysis) -> Result<Vec<BuildSavings>, AnalyzeError> {
    let df = analysis
        .builds
        .clone()
        .lazy()
        .join(
            analysis
                .runs
                .clone()
                .lazy()
                .select([col("run"), col("compute_type")]),
            [col("run")],
            [col("run")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["build"], SortMultipleOptions::default())
        .collect()?;
    let source = df.column("source")?.str()?;
    let index = df.column("index")?.u32()?;
    let seconds = df.column("saved_seconds")?.f64()?;
    let unknown = df.column("saved_unknown")?.u32()?;
    let compute = df.column("compute_type")?.str()?;
    Ok((0..df.height())
        .map(|i| BuildSavings {
            source: source.get(i).unwrap_or_default().to_owned(),
            index: index.get(i).unwrap_or_default() as usize,
            seconds: seconds.get(i).unwrap_or_default(),
            unknown: unknown.get(i).unwrap_or_default(),
            compute_type: compute
                .get(i)
                .unwrap_or(cost::DEFAULT_COMPUTE_TYPE)
                .to_owned(),
        })
        .collect())
}

/// A build's facts that do not come from its steps.
struct Context {
    run: u32,
    source: String,
    build_id: Option<String>,
    project: String,
    branch: Option<String>,
    compute_type: String,
    started_ms: Option<i64>,
    duration_s: f64,
}

/// Rows of one log.
#[derive(Default)]
struct Rows {
    // steps
    s_run: Vec<u32>,
    s_build: Vec<u32>,
    s_vertex: Vec<u32>,
    s_project: Vec<String>,
    s_branch: Vec<Option<String>>,
    s_day: Vec<Option<String>>,
    s_week: Vec<Option<String>>,
    s_key: Vec<String>,
    s_name: Vec<Option<String>>,
    s_status: Vec<&'static str>,
    s_seconds: Vec<Option<f64>>,
    s_cacheable: Vec<bool>,
    s_cached: Vec<bool>,
    s_in_window: Vec<bool>,
    // builds
    b_run: Vec<u32>,
    b_build: Vec<u32>,
    b_source: Vec<String>,
    b_index: Vec<u32>,
    b_build_id: Vec<Option<String>>,
    b_project: Vec<String>,
    b_branch: Vec<Option<String>>,
    b_day: Vec<Option<String>>,
    b_week: Vec<Option<String>>,
    b_cacheable: Vec<u32>,
    b_cached: Vec<u32>,
    b_executed_seconds: Vec<f64>,
    b_import_seconds: Vec<f64>,
    b_export_seconds: Vec<f64>,
    b_import_failed: Vec<bool>,
    b_in_window: Vec<bool>,
}

/// Day (`2026-10-05`) and ISO week (`2026-W41`) of a time.
fn day_week(ms: Option<i64>) -> (Option<String>, Option<String>) {
    let Some(date) = ms
        .and_then(DateTime::from_timestamp_millis)
        .map(|d| d.date_naive())
    else {
        return (None, None);
    };
    let w = date.iso_week();
    (
        Some(date.to_string()),
        Some(format!("{}-W{:02}", w.year(), w.week())),
    )
}

fn context(log: &ParsedLog, run: u32, default_compute: &str) -> Context {
    let meta = log.origin.metadata.as_ref();
    let build_id = log.origin.build_id.as_ref().map(ToString::to_string);
    let project = log.origin.project().unwrap_or("-").to_owned();
    let branch = log.origin.branch().map(str::to_owned);
    let phase_times = log.run.as_ref().map(|r| {
        let start = r
            .phases
            .first()
            .map(|p| p.started.and_utc().timestamp_millis());
        let end = r
            .phases
            .iter()
            .filter_map(|p| p.ended)
            .max()
            .map(|t| t.and_utc().timestamp_millis());
        (start, end)
    });
    let started_ms = meta
        .and_then(|m| m.start_time)
        .or(log.origin.first_event_ms)
        .or(phase_times.and_then(|(s, _)| s));
    let duration_s = match (
        meta.and_then(|m| m.start_time),
        meta.and_then(|m| m.end_time),
    ) {
        (Some(s), Some(e)) if e >= s => (e - s) as f64 / 1000.0,
        _ => match phase_times {
            Some((Some(s), Some(e))) if e > s => (e - s) as f64 / 1000.0,
            // no clock at all: the executed steps' time
            _ => log
                .builds
                .iter()
                .flat_map(|b| &b.steps)
                .filter_map(|s| s.seconds)
                .sum(),
        },
    };
    Context {
        run,
        source: log.source.clone(),
        build_id,
        project,
        branch,
        compute_type: meta
            .and_then(|m| m.compute_type.clone())
            .unwrap_or_else(|| default_compute.to_owned()),
        started_ms,
        duration_s,
    }
}

fn in_window(ms: Option<i64>, since: Option<i64>, until: Option<i64>) -> bool {
    match ms {
        None => true,
        Some(t) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u),
    }
}

/// The rows of one log; `first_build` numbers its builds globally.
fn rows(log: &ParsedLog, ctx: &Context, first_build: u32, window: bool) -> Rows {
    let mut r = Rows::default();
    let (day, week) = day_week(ctx.started_ms);
    for (i, b) in log.builds.iter().enumerate() {
        let build = first_build + i as u32;
        let mut cacheable = 0;
        let mut cached = 0;
        let mut executed = 0.0;
        for s in &b.steps {
            let Some(key) = step_key(s) else { continue };
            let is_cached = s.status == Status::Cached;
            if s.cacheable {
                cacheable += 1;
                cached += u32::from(is_cached);
                if s.status == Status::Done {
                    executed += s.seconds.unwrap_or(0.0);
                }
            }
            r.s_run.push(ctx.run);
            r.s_build.push(build);
            r.s_vertex.push(s.vertex);
            r.s_project.push(ctx.project.clone());
            r.s_branch.push(ctx.branch.clone());
            r.s_day.push(day.clone());
            r.s_week.push(week.clone());
            r.s_key.push(key);
            r.s_name.push(s.name.clone());
            r.s_status.push(s.status.as_str());
            r.s_seconds.push(s.seconds);
            r.s_cacheable.push(s.cacheable);
            r.s_cached.push(is_cached && s.cacheable);
            r.s_in_window.push(window);
        }
        let secs = |kind: Kind| {
            b.steps
                .iter()
                .filter(|s| s.kind == kind)
                .filter_map(|s| s.seconds)
                .sum::<f64>()
        };
        r.b_run.push(ctx.run);
        r.b_build.push(build);
        r.b_source.push(ctx.source.clone());
        r.b_index.push(b.index as u32);
        r.b_build_id.push(ctx.build_id.clone());
        r.b_project.push(ctx.project.clone());
        r.b_branch.push(ctx.branch.clone());
        r.b_day.push(day.clone());
        r.b_week.push(week.clone());
        r.b_cacheable.push(cacheable);
        r.b_cached.push(cached);
        r.b_executed_seconds.push(executed);
        r.b_import_seconds.push(secs(Kind::CacheImport));
        r.b_export_seconds.push(secs(Kind::CacheExport));
        r.b_import_failed
            .push(b.cache.imports.iter().any(|i| !i.ok));
        r.b_in_window.push(window);
    }
    r
}

impl Rows {
    fn append(&mut self, o: Rows) {
        macro_rules! cat {
            ($($f:ident),*) => { $( self.$f.extend(o.$f); )* };
        }
        cat!(
            s_run,
            s_build,
            s_vertex,
            s_project,
            s_branch,
            s_day,
            s_week,
            s_key,
            s_name,
            s_status,
            s_seconds,
            s_cacheable,
            s_cached,
            s_in_window,
            b_run,
            b_build,
            b_source,
            b_index,
            b_build_id,
            b_project,
            b_branch,
            b_day,
            b_week,
            b_cacheable,
            b_cached,
            b_executed_seconds,
            b_import_seconds,
            b_export_seconds,
            b_import_failed,
            b_in_window
        );
    }
}

/// Analyses the logs of a window; `history` only adds samples of executed
/// steps (for the time a cached step saves), never rows of its own.
pub fn analyze(
    window: &[ParsedLog],
    history: &[ParsedLog],
    options: &Options<'_>,
) -> Result<Analysis, AnalyzeError> {
    let default_compute = options
        .compute_type
        .clone()
        .unwrap_or_else(|| cost::DEFAULT_COMPUTE_TYPE.to_owned());
    let logs: Vec<(&ParsedLog, bool)> = window
        .iter()
        .map(|l| (l, true))
        .chain(history.iter().map(|l| (l, false)))
        .collect();
    let mut first_build = Vec::with_capacity(logs.len());
    let mut n = 0u32;
    for (l, _) in &logs {
        first_build.push(n);
        n += l.builds.len() as u32;
    }
    let contexts: Vec<Context> = logs
        .par_iter()
        .enumerate()
        .map(|(i, (l, _))| context(l, i as u32, &default_compute))
        .collect();
    let parts: Vec<Rows> = logs
        .par_iter()
        .zip(&contexts)
        .zip(&first_build)
        .map(|(((l, from_window), ctx), first)| {
            let window =
                *from_window && in_window(ctx.started_ms, options.since_ms, options.until_ms);
            rows(l, ctx, *first, window)
        })
        .collect();
    let mut r = Rows::default();
    for p in parts {
        r.append(p);
    }

    let all_steps = df!(
        "run" => &r.s_run,
        "build" => &r.s_build,
        "vertex" => &r.s_vertex,
        "project" => &r.s_project,
        "branch" => &r.s_branch,
        "day" => &r.s_day,
        "week" => &r.s_week,
        "step_key" => &r.s_key,
        "name" => &r.s_name,
        "status" => &r.s_status,
        "seconds" => &r.s_seconds,
        "cacheable" => &r.s_cacheable,
        "cached" => &r.s_cached,
        "in_window" => &r.s_in_window,
    )?;
    let all_builds = df!(
        "run" => &r.b_run,
        "build" => &r.b_build,
        "source" => &r.b_source,
        "index" => &r.b_index,
        "build_id" => &r.b_build_id,
        "project" => &r.b_project,
        "branch" => &r.b_branch,
        "day" => &r.b_day,
        "week" => &r.b_week,
        "cacheable" => &r.b_cacheable,
        "cached" => &r.b_cached,
        "executed_seconds" => &r.b_executed_seconds,
        "import_seconds" => &r.b_import_seconds,
        "export_seconds" => &r.b_export_seconds,
        "import_failed" => &r.b_import_failed,
        "in_window" => &r.b_in_window,
    )?;

    // the typical executed time of each step key, over the window and the history
    let samples = all_steps
        .clone()
        .lazy()
        .filter(
            col("cacheable")
                .and(col("status").eq(lit("done")))
                .and(col("seconds").is_not_null()),
        )
        .group_by([col("project"), col("step_key")])
        .agg([
            col("seconds").median().alias("median_seconds"),
            col("seconds").count().alias("samples"),
        ]);
    let steps = all_steps
        .lazy()
        .filter(col("in_window"))
        .join(
            samples,
            [col("project"), col("step_key")],
            [col("project"), col("step_key")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            when(col("cached"))
                .then(col("median_seconds"))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias("saved_seconds"),
            col("cached")
                .and(col("median_seconds").is_null())
                .alias("saved_unknown"),
        ])
        .drop(cols(["in_window"]))
        .sort(["build", "vertex"], SortMultipleOptions::default())
        .collect()?;

    let saved_per_build = steps.clone().lazy().group_by([col("build")]).agg([
        col("saved_seconds").sum().alias("saved_seconds"),
        col("saved_unknown")
            .cast(DataType::UInt32)
            .sum()
            .alias("saved_unknown"),
    ]);
    let builds = all_builds
        .lazy()
        .filter(col("in_window"))
        .join(
            saved_per_build,
            [col("build")],
            [col("build")],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("saved_seconds").fill_null(lit(0.0)),
            col("saved_unknown").fill_null(lit(0u32)),
            (col("import_seconds") + col("export_seconds")).alias("overhead_seconds"),
            (col("cached").cast(DataType::Float64) / col("cacheable").cast(DataType::Float64))
                .alias("hit_rate"),
        ])
        .drop(cols(["in_window"]))
        .sort(["build"], SortMultipleOptions::default())
        .collect()?;

    let runs = runs_table(&builds, &contexts, options.pricing)?;
    let hit = |by: &str| -> Result<DataFrame, PolarsError> {
        steps
            .clone()
            .lazy()
            .filter(col("cacheable"))
            .group_by([col(by)])
            .agg([
                len().alias("cacheable"),
                col("cached").cast(DataType::UInt32).sum().alias("cached"),
                col("build").n_unique().alias("builds"),
            ])
            .with_column(
                (col("cached").cast(DataType::Float64) / col("cacheable").cast(DataType::Float64))
                    .alias("hit_rate"),
            )
            .sort([by], SortMultipleOptions::default().with_nulls_last(true))
            .collect()
    };
    let step_keys = steps
        .clone()
        .lazy()
        .filter(col("cacheable"))
        .group_by([col("project"), col("step_key")])
        .agg([
            len().alias("runs"),
            col("cached").cast(DataType::UInt32).sum().alias("cached"),
            col("status")
                .eq(lit("done"))
                .cast(DataType::UInt32)
                .sum()
                .alias("executed"),
            col("median_seconds").first().alias("median_seconds"),
            col("samples").first().alias("samples"),
            (col("seconds").filter(col("status").eq(lit("done"))).sum() / lit(60.0))
                .alias("minutes_lost"),
        ])
        .with_column((col("runs") - col("cached")).alias("misses"))
        .sort(
            ["minutes_lost", "project", "step_key"],
            SortMultipleOptions::default().with_order_descending_multi([true, false, false]),
        )
        .collect()?;

    let totals = totals(&builds, &runs, options)?;
    let weekly = weekly(&builds, &runs, options, &totals)?;
    Ok(Analysis {
        by_week: hit("week")?,
        by_day: hit("day")?,
        by_project: hit("project")?,
        by_branch: hit("branch")?,
        steps,
        builds,
        runs,
        step_keys,
        weekly,
        totals,
    })
}

/// One row per log in the window: its duration, the time its builds saved,
/// their overhead, and what CodeBuild billed and would have billed.
fn runs_table(
    builds: &DataFrame,
    contexts: &[Context],
    pricing: &Pricing,
) -> Result<DataFrame, AnalyzeError> {
    let per_run = builds
        .clone()
        .lazy()
        .group_by([col("run")])
        .agg([
            col("saved_seconds").sum(),
            col("saved_unknown").sum(),
            col("overhead_seconds").sum(),
            len().alias("builds"),
        ])
        .sort(["run"], SortMultipleOptions::default())
        .collect()?;
    let run_ids: Vec<u32> = per_run.column("run")?.u32()?.into_no_null_iter().collect();
    let saved: Vec<f64> = per_run
        .column("saved_seconds")?
        .f64()?
        .into_no_null_iter()
        .collect();
    let overhead: Vec<f64> = per_run
        .column("overhead_seconds")?
        .f64()?
        .into_no_null_iter()
        .collect();
    let mut t = RunRows::default();
    for (i, run) in run_ids.iter().enumerate() {
        let ctx = &contexts[*run as usize];
        let rate = pricing.rate(&ctx.compute_type)?;
        let bill = cost::bill(rate, ctx.duration_s, saved[i]);
        let (day, week) = day_week(ctx.started_ms);
        t.run.push(*run);
        t.source.push(ctx.source.clone());
        t.build_id.push(ctx.build_id.clone());
        t.project.push(ctx.project.clone());
        t.branch.push(ctx.branch.clone());
        t.compute_type.push(ctx.compute_type.clone());
        t.started_ms.push(ctx.started_ms);
        t.day.push(day);
        t.week.push(week);
        t.duration_seconds.push(ctx.duration_s);
        t.saved_seconds.push(saved[i]);
        t.overhead_seconds.push(overhead[i]);
        t.billed_minutes.push(bill.billed_minutes);
        t.billed_minutes_without_cache
            .push(bill.billed_minutes_without_cache);
        t.cost.push(bill.cost);
        t.cost_without_cache.push(bill.cost_without_cache);
        t.compute_saved.push(bill.cost_without_cache - bill.cost);
        t.overhead_cost.push(cost::time_cost(rate, overhead[i]));
    }
    let mut df = df!(
        "run" => &t.run,
        "source" => &t.source,
        "build_id" => &t.build_id,
        "project" => &t.project,
        "branch" => &t.branch,
        "compute_type" => &t.compute_type,
        "started_ms" => &t.started_ms,
        "day" => &t.day,
        "week" => &t.week,
        "duration_seconds" => &t.duration_seconds,
        "saved_seconds" => &t.saved_seconds,
        "overhead_seconds" => &t.overhead_seconds,
        "billed_minutes" => &t.billed_minutes,
        "billed_minutes_without_cache" => &t.billed_minutes_without_cache,
        "cost" => &t.cost,
        "cost_without_cache" => &t.cost_without_cache,
        "compute_saved" => &t.compute_saved,
        "overhead_cost" => &t.overhead_cost,
    )?;
    df.with_column(per_run.column("builds")?.clone())?;
    df.with_column(per_run.column("saved_unknown")?.clone())?;
    Ok(df)
}

#[derive(Default)]
struct RunRows {
    run: Vec<u32>,
    source: Vec<String>,
    build_id: Vec<Option<String>>,
    project: Vec<String>,
    branch: Vec<Option<String>>,
    compute_type: Vec<String>,
    started_ms: Vec<Option<i64>>,
    day: Vec<Option<String>>,
    week: Vec<Option<String>>,
    duration_seconds: Vec<f64>,
    saved_seconds: Vec<f64>,
    overhead_seconds: Vec<f64>,
    billed_minutes: Vec<f64>,
    billed_minutes_without_cache: Vec<f64>,
    cost: Vec<f64>,
    cost_without_cache: Vec<f64>,
    compute_saved: Vec<f64>,
    overhead_cost: Vec<f64>,
}

fn sum_f64(df: &DataFrame, name: &str) -> Result<f64, PolarsError> {
    Ok(df.column(name)?.f64()?.sum().unwrap_or(0.0))
}

fn sum_u32(df: &DataFrame, name: &str) -> Result<usize, PolarsError> {
    Ok(df.column(name)?.u32()?.sum().unwrap_or(0) as usize)
}

fn days_of(
    since: Option<i64>,
    until: Option<i64>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
) -> f64 {
    match (since, until) {
        (Some(s), Some(u)) if u > s => (u - s) as f64 / 86_400_000.0,
        _ => match (first, last) {
            (Some(f), Some(l)) => ((l - f).num_days() + 1) as f64,
            _ => 0.0,
        },
    }
}

fn totals(
    builds: &DataFrame,
    runs: &DataFrame,
    options: &Options<'_>,
) -> Result<Totals, AnalyzeError> {
    let days: Vec<NaiveDate> = runs
        .column("day")?
        .str()?
        .iter()
        .flatten()
        .filter_map(|d| d.parse().ok())
        .collect();
    let (first, last) = (days.iter().min().copied(), days.iter().max().copied());
    let span = days_of(options.since_ms, options.until_ms, first, last);
    let cacheable = sum_u32(builds, "cacheable")?;
    let cached = sum_u32(builds, "cached")?;
    let compute_saved = sum_f64(runs, "compute_saved")?;
    let overhead_cost = sum_f64(runs, "overhead_cost")?;
    let storage_cost = options
        .storage
        .as_ref()
        .map(|s| options.pricing.storage_cost(s.gb, span));
    let net = compute_saved - overhead_cost - storage_cost.unwrap_or(0.0);
    let per_gb = options.pricing.storage_cost(1.0, span);
    Ok(Totals {
        first_day: first.map(|d| d.to_string()),
        last_day: last.map(|d| d.to_string()),
        days: span,
        runs: runs.height(),
        builds: builds.height(),
        cacheable,
        cached,
        hit_rate: (cacheable > 0).then(|| cached as f64 / cacheable as f64),
        saved_seconds: sum_f64(runs, "saved_seconds")?,
        saved_unknown: sum_u32(runs, "saved_unknown")?,
        overhead_seconds: sum_f64(runs, "overhead_seconds")?,
        billed_minutes: sum_f64(runs, "billed_minutes")?,
        billed_minutes_without_cache: sum_f64(runs, "billed_minutes_without_cache")?,
        compute_saved,
        overhead_cost,
        storage_cost,
        storage: options.storage.clone(),
        net,
        break_even_gb: (per_gb > 0.0).then(|| ((compute_saved - overhead_cost) / per_gb).max(0.0)),
        pricing_date: options.pricing.date.clone(),
        currency: options.pricing.currency.clone(),
        default_compute_type: options
            .compute_type
            .clone()
            .unwrap_or_else(|| cost::DEFAULT_COMPUTE_TYPE.to_owned()),
    })
}

/// Per ISO week: builds, hit rate, minutes and dollars saved, overhead,
/// storage (a full week's, or the days of the week inside the window), net.
fn weekly(
    builds: &DataFrame,
    runs: &DataFrame,
    options: &Options<'_>,
    totals: &Totals,
) -> Result<DataFrame, AnalyzeError> {
    let hits = builds.clone().lazy().group_by([col("week")]).agg([
        len().alias("builds"),
        col("cacheable").sum(),
        col("cached").sum(),
    ]);
    let money = runs.clone().lazy().group_by([col("week")]).agg([
        len().alias("runs"),
        (col("saved_seconds").sum() / lit(60.0)).alias("saved_minutes"),
        (col("billed_minutes_without_cache") - col("billed_minutes"))
            .sum()
            .alias("billed_minutes_saved"),
        col("compute_saved").sum(),
        col("overhead_cost").sum(),
    ]);
    let mut df = hits
        .join(
            money,
            [col("week")],
            [col("week")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            (col("cached").cast(DataType::Float64) / col("cacheable").cast(DataType::Float64))
                .alias("hit_rate"),
        )
        .filter(col("week").is_not_null())
        .sort(["week"], SortMultipleOptions::default())
        .collect()?;
    let weeks: Vec<String> = df
        .column("week")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    let storage: Vec<Option<f64>> = weeks
        .iter()
        .map(|w| {
            options.storage.as_ref().map(|s| {
                options
                    .pricing
                    .storage_cost(s.gb, week_days_in_window(w, options, totals))
            })
        })
        .collect();
    df.with_column(Column::new("storage_cost".into(), &storage))?;
    let df = df
        .lazy()
        .with_column(
            (col("compute_saved") - col("overhead_cost") - col("storage_cost").fill_null(lit(0.0)))
                .alias("net"),
        )
        .collect()?;
    Ok(df)
}

/// Days of ISO week `2026-W41` inside the window (7 without one).
fn week_days_in_window(week: &str, options: &Options<'_>, totals: &Totals) -> f64 {
    let parsed = week
        .split_once("-W")
        .and_then(|(y, w)| Some((y.parse::<i32>().ok()?, w.parse::<u32>().ok()?)))
        .and_then(|(y, w)| NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon));
    let Some(monday) = parsed else { return 7.0 };
    let start = monday
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(0);
    let end = start + 7 * 86_400_000;
    let since = options.since_ms.or_else(|| {
        totals
            .first_day
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
    });
    let until = options.until_ms.or_else(|| {
        totals
            .last_day
            .as_deref()
            .and_then(|d| d.parse::<NaiveDate>().ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis() + 86_400_000)
    });
    let (s, e) = (
        since.unwrap_or(start).max(start),
        until.unwrap_or(end).min(end),
    );
    ((e - s).max(0)) as f64 / 86_400_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn every_figure_matches_a_hand_computation() {
        let pricing = Pricing::embedded();
        let options = Options {
            pricing: &pricing,
            compute_type: None,
            since_ms: Some(MONDAY),
            until_ms: Some(MONDAY + 14 * DAY),
            storage: Some(Storage {
                gb: 12.0,
                source: "--cache-size-gb".into(),
            }),
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
        assert!(close(t.net, 0.05 - 5.0 / 60.0 * 0.01 - storage));
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
    fn the_window_and_the_thread_count_do_not_change_a_thing() {
        let pricing = Pricing::embedded();
        let options = Options {
            pricing: &pricing,
            compute_type: Some("general1.small".into()),
            since_ms: Some(MONDAY + 7 * DAY),
            until_ms: None,
            storage: None,
        };
        let a = analyze(&three_runs(), &[], &options).unwrap();
        assert_eq!(a.totals.builds, 1, "only c is in the window");
        // a and b still give samples: c saves 100 + 60
        assert!(close(a.totals.saved_seconds, 160.0));
        assert_eq!(a.totals.storage_cost, None);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = one.install(|| analyze(&three_runs(), &[], &options).unwrap());
        assert_eq!(a.steps, b.steps);
        assert_eq!(a.totals, b.totals);
    }
}
