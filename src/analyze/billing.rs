//! Money: each run billed with and without the time its cache saved, the
//! headline [`Totals`], the figures per ISO week (savings, overhead, ECR
//! storage, net), and each summarised build's savings.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use polars::prelude::*;

use super::aggregate::{BUILD_SAVINGS, hit_rate_of};
use super::columns::{names, table};
use super::frames::{Analysis, AnalyzeError, Options, Totals};
use super::interval::{Interval, Intervals};
use super::rows::{BUILD, Context, IsoWeek, day_week};
use crate::cost::{self, Pricing};
use crate::summary::{Savings, SourceSummary};

const DAY_MS: i64 = 86_400_000;

table! {
    /// A log in the window (a CodeBuild run, or a file) and its bill: a row
    /// of the `runs` table.
    pub struct RunRow, columns RunColumns = RUN {
        /// The log's number (see [`StepRow::run`](super::rows::StepRow::run)).
        run: u32,
        /// Where the log was read.
        source: Arc<str>,
        /// The CodeBuild build id, when known.
        build_id: Option<Arc<str>>,
        /// The CodeBuild project (`-` when unknown).
        project: Arc<str>,
        /// The branch built, when known.
        branch: Option<Arc<str>>,
        /// The compute type billed.
        compute_type: Arc<str>,
        /// When the run started, epoch ms.
        started_ms: Option<i64>,
        /// Its day.
        day: Option<NaiveDate>,
        /// Its ISO week.
        week: Option<IsoWeek>,
        /// How long it ran.
        duration_seconds: f64,
        /// Seconds its builds' cache hits saved.
        saved_seconds: f64,
        /// Seconds of cache overhead: import + fetch + export.
        overhead_seconds: f64,
        /// Of it, cache import.
        import_seconds: f64,
        /// Of it, the layers the hits fetched.
        fetch_seconds: f64,
        /// Of it, cache export.
        export_seconds: f64,
        /// Gigabytes the hits fetched, as far as printed.
        fetch_gb: f64,
        /// What moving them cost.
        transfer_cost: f64,
        /// Minutes billed.
        billed_minutes: f64,
        /// Minutes it would have billed without the saved time.
        billed_minutes_without_cache: f64,
        /// What it cost.
        cost: f64,
        /// What it would have cost without the saved time.
        cost_without_cache: f64,
        /// `cost_without_cache − cost`.
        compute_saved: f64,
        /// What its cache import and export cost.
        overhead_cost: f64,
        /// Its builds in the window.
        builds: u32,
        /// Their cached steps of unknown saved time.
        saved_unknown: u32,
    }
}

names! {
    /// The `weekly` table: per ISO week, builds, hit rate, minutes and
    /// dollars saved, overhead, storage and net.
    pub struct WeeklyColumns = WEEKLY {
        week,
        builds,
        cacheable,
        cached,
        runs,
        saved_minutes,
        billed_minutes_saved,
        compute_saved,
        overhead_cost,
        hit_rate,
        storage_cost,
        net,
        fetch_gb,
        transfer_cost,
        saved_minutes_low,
        saved_minutes_high,
        compute_saved_low,
        compute_saved_high,
    }
}

/// The days a window covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// The first day a run started.
    pub(crate) first: Option<NaiveDate>,
    /// The last.
    pub(crate) last: Option<NaiveDate>,
    /// Days the storage is charged for: the window, else the days of the runs.
    pub(crate) days: f64,
}

impl Span {
    /// The span of the runs, or of the window when it has both ends.
    pub(crate) fn of(runs: &[RunRow], options: &Options<'_>) -> Self {
        let days = runs.iter().filter_map(|r| r.day);
        let (first, last) = (days.clone().min(), days.max());
        let days = match (options.since_ms, options.until_ms) {
            (Some(s), Some(u)) if u > s => (u - s) as f64 / DAY_MS as f64,
            _ => match (first, last) {
                (Some(f), Some(l)) => ((l - f).num_days() + 1) as f64,
                _ => 0.0,
            },
        };
        Span { first, last, days }
    }
}

/// One row per log with a build in the window: its duration, the time its
/// builds saved, their overhead, and what CodeBuild billed and would have billed.
pub(crate) fn runs(
    builds: &DataFrame,
    contexts: &[Context],
    pricing: &Pricing,
) -> Result<Vec<RunRow>, AnalyzeError> {
    let per_run = builds
        .clone()
        .lazy()
        .group_by([col(BUILD.run)])
        .agg([
            col(BUILD_SAVINGS.saved_seconds).sum(),
            col(BUILD_SAVINGS.saved_unknown).sum(),
            col(BUILD_SAVINGS.overhead_seconds).sum(),
            col(BUILD.import_seconds).sum(),
            col(BUILD.fetch_seconds).sum(),
            col(BUILD.export_seconds).sum(),
            (col(BUILD.fetch_bytes).sum() / lit(1e9)).alias(RUN.fetch_gb),
            len().alias(RUN.builds),
        ])
        .sort([BUILD.run], SortMultipleOptions::default())
        .collect()?;
    let run_ids = per_run.column(BUILD.run)?.u32()?;
    let saved = per_run.column(BUILD_SAVINGS.saved_seconds)?.f64()?;
    let unknown = per_run.column(BUILD_SAVINGS.saved_unknown)?.u32()?;
    let overhead = per_run.column(BUILD_SAVINGS.overhead_seconds)?.f64()?;
    let counts = per_run.column(RUN.builds)?.u32()?;
    let part = |name: &str| -> Result<Float64Chunked, PolarsError> {
        Ok(per_run.column(name)?.f64()?.clone())
    };
    let (import, fetch, export, gb) = (
        part(BUILD.import_seconds)?,
        part(BUILD.fetch_seconds)?,
        part(BUILD.export_seconds)?,
        part(RUN.fetch_gb)?,
    );
    let mut rows = Vec::with_capacity(per_run.height());
    for i in 0..per_run.height() {
        let (Some(run), Some(ctx)) = (
            run_ids.get(i),
            run_ids.get(i).and_then(|r| contexts.get(r as usize)),
        ) else {
            continue;
        };
        let (saved, overhead) = (saved.get(i).unwrap_or(0.0), overhead.get(i).unwrap_or(0.0));
        let rate = pricing.rate(&ctx.compute_type)?;
        let bill = cost::bill(rate, ctx.duration_s, saved);
        let (day, week) = day_week(ctx.started_ms);
        rows.push(RunRow {
            run,
            source: ctx.source.clone(),
            build_id: ctx.build_id.clone(),
            project: ctx.project.clone(),
            branch: ctx.branch.clone(),
            compute_type: ctx.compute_type.clone(),
            started_ms: ctx.started_ms,
            day,
            week,
            duration_seconds: ctx.duration_s,
            saved_seconds: saved,
            overhead_seconds: overhead,
            import_seconds: import.get(i).unwrap_or(0.0),
            fetch_seconds: fetch.get(i).unwrap_or(0.0),
            export_seconds: export.get(i).unwrap_or(0.0),
            fetch_gb: gb.get(i).unwrap_or(0.0),
            transfer_cost: pricing.transfer_cost(gb.get(i).unwrap_or(0.0)),
            billed_minutes: bill.billed_minutes,
            billed_minutes_without_cache: bill.billed_minutes_without_cache,
            cost: bill.cost,
            cost_without_cache: bill.cost_without_cache,
            compute_saved: bill.cost_without_cache - bill.cost,
            overhead_cost: cost::time_cost(rate, overhead),
            builds: counts.get(i).unwrap_or(0),
            saved_unknown: unknown.get(i).unwrap_or(0),
        });
    }
    Ok(rows)
}

fn sum_f64(df: &DataFrame, name: &str) -> Result<f64, PolarsError> {
    Ok(df.column(name)?.f64()?.sum().unwrap_or(0.0))
}

fn sum_u32(df: &DataFrame, name: &str) -> Result<usize, PolarsError> {
    Ok(df.column(name)?.u32()?.sum().unwrap_or(0) as usize)
}

/// The headline figures of the `builds` and `runs` tables.
pub(crate) fn totals(
    builds: &DataFrame,
    runs: &DataFrame,
    span: Span,
    intervals: &Intervals,
    options: &Options<'_>,
) -> Result<Totals, AnalyzeError> {
    let cacheable = sum_u32(builds, BUILD.cacheable)?;
    let cached = sum_u32(builds, BUILD.cached)?;
    let compute_saved = sum_f64(runs, RUN.compute_saved)?;
    let overhead_cost = sum_f64(runs, RUN.overhead_cost)?;
    let transfer_cost = sum_f64(runs, RUN.transfer_cost)?;
    let storage_cost = options
        .storage
        .as_ref()
        .map(|s| options.pricing.storage_cost(s.gb, span.days));
    // an unknown storage cost leaves the cache's cost, net and return unknown
    let cache_cost = storage_cost.map(|s| overhead_cost + transfer_cost + s);
    let net = cache_cost.map(|c| compute_saved - c);
    let per_gb = options.pricing.storage_cost(1.0, span.days);
    Ok(Totals {
        first_day: span.first.map(|d| d.to_string()),
        last_day: span.last.map(|d| d.to_string()),
        days: span.days,
        runs: runs.height(),
        codebuild_runs: runs.height() - runs.column(RUN.build_id)?.null_count(),
        builds: builds.height(),
        cacheable,
        cached,
        hit_rate: (cacheable > 0).then(|| cached as f64 / cacheable as f64),
        saved_seconds: sum_f64(runs, RUN.saved_seconds)?,
        saved_unknown: sum_u32(runs, RUN.saved_unknown)?,
        overhead_seconds: sum_f64(runs, RUN.overhead_seconds)?,
        import_seconds: sum_f64(runs, RUN.import_seconds)?,
        fetch_seconds: sum_f64(runs, RUN.fetch_seconds)?,
        export_seconds: sum_f64(runs, RUN.export_seconds)?,
        fetch_layers: sum_u32(builds, BUILD.fetch_layers)?,
        fetch_layers_unsized: sum_u32(builds, BUILD.fetch_layers_unsized)?,
        fetch_gb: sum_f64(runs, RUN.fetch_gb)?,
        transfer_cost,
        hits_by_origin: super::hit_origin::totals(builds)?,
        billed_minutes: sum_f64(runs, RUN.billed_minutes)?,
        billed_minutes_without_cache: sum_f64(runs, RUN.billed_minutes_without_cache)?,
        compute_saved,
        overhead_cost,
        storage_cost,
        storage: options.storage.clone(),
        cache_cost,
        net,
        return_ratio: cache_cost.filter(|c| *c > 0.0).map(|c| compute_saved / c),
        saved_minutes_interval: intervals.total.map(|(m, _)| m),
        compute_saved_interval: intervals.total.map(|(_, d)| d),
        net_interval: intervals.total.zip(cache_cost).map(|((_, d), c)| Interval {
            low: d.low - c,
            high: d.high - c,
        }),
        break_even_gb: (per_gb > 0.0)
            .then(|| ((compute_saved - overhead_cost - transfer_cost) / per_gb).max(0.0)),
        pricing_date: options.pricing.date.clone(),
        currency: options.pricing.currency.clone(),
        default_compute_type: default_compute_type(options).to_owned(),
    })
}

/// The compute type of runs CodeBuild did not describe.
pub(crate) fn default_compute_type<'a>(options: &'a Options<'_>) -> &'a str {
    options
        .compute_type
        .as_deref()
        .unwrap_or(cost::DEFAULT_COMPUTE_TYPE)
}

/// Per ISO week: builds, hit rate, minutes and dollars saved, overhead,
/// storage (a full week's, or the days of the week inside the window), net.
pub(crate) fn weekly(
    builds: &DataFrame,
    runs: &DataFrame,
    weeks: &[IsoWeek],
    span: Span,
    intervals: &Intervals,
    options: &Options<'_>,
) -> Result<DataFrame, AnalyzeError> {
    let hits = builds.clone().lazy().group_by([col(BUILD.week)]).agg([
        len().alias(WEEKLY.builds),
        col(BUILD.cacheable).sum().alias(WEEKLY.cacheable),
        col(BUILD.cached).sum().alias(WEEKLY.cached),
    ]);
    let money = runs.clone().lazy().group_by([col(RUN.week)]).agg([
        len().alias(WEEKLY.runs),
        (col(RUN.saved_seconds).sum() / lit(60.0)).alias(WEEKLY.saved_minutes),
        (col(RUN.billed_minutes_without_cache) - col(RUN.billed_minutes))
            .sum()
            .alias(WEEKLY.billed_minutes_saved),
        col(RUN.compute_saved).sum().alias(WEEKLY.compute_saved),
        col(RUN.overhead_cost).sum().alias(WEEKLY.overhead_cost),
        col(RUN.fetch_gb).sum().alias(WEEKLY.fetch_gb),
        col(RUN.transfer_cost).sum().alias(WEEKLY.transfer_cost),
    ]);
    let on = || [col(WEEKLY.week)];
    let df = hits
        .join(money, on(), on(), JoinArgs::new(JoinType::Left))
        .with_column(hit_rate_of(WEEKLY.cached, WEEKLY.cacheable))
        .join(
            storage(weeks, span, options)?.lazy(),
            on(),
            on(),
            JoinArgs::new(JoinType::Left),
        )
        .join(
            interval_columns(weeks, intervals)?.lazy(),
            on(),
            on(),
            JoinArgs::new(JoinType::Left),
        )
        .filter(col(WEEKLY.week).is_not_null())
        .sort([WEEKLY.week], SortMultipleOptions::default())
        .with_column(
            (col(WEEKLY.compute_saved)
                - col(WEEKLY.overhead_cost)
                - col(WEEKLY.transfer_cost)
                - col(WEEKLY.storage_cost))
            .alias(WEEKLY.net),
        )
        .select(WEEKLY.all().into_iter().map(col).collect::<Vec<_>>())
        .collect()?;
    Ok(df)
}

/// Each week's 90 % intervals of the minutes and dollars saved.
fn interval_columns(weeks: &[IsoWeek], intervals: &Intervals) -> PolarsResult<DataFrame> {
    let of = |w: &IsoWeek| intervals.weeks.get(w);
    let column = |name: &str, f: fn(&(Interval, Interval)) -> f64| {
        let values: Vec<Option<f64>> = weeks.iter().map(|w| of(w).map(f)).collect();
        Column::new(name.into(), values)
    };
    DataFrame::new(
        weeks.len(),
        vec![
            Column::new(
                WEEKLY.week.into(),
                weeks.iter().map(IsoWeek::to_string).collect::<Vec<_>>(),
            ),
            column(WEEKLY.saved_minutes_low, |(m, _)| m.low),
            column(WEEKLY.saved_minutes_high, |(m, _)| m.high),
            column(WEEKLY.compute_saved_low, |(_, d)| d.low),
            column(WEEKLY.compute_saved_high, |(_, d)| d.high),
        ],
    )
}

/// Each week's storage cost (none when the cache's size is unknown).
fn storage(weeks: &[IsoWeek], span: Span, options: &Options<'_>) -> PolarsResult<DataFrame> {
    let cost: Vec<Option<f64>> = weeks
        .iter()
        .map(|w| {
            let days = week_days_in_window(*w, span, options);
            options
                .storage
                .as_ref()
                .map(|s| options.pricing.storage_cost(s.gb, days))
        })
        .collect();
    DataFrame::new(
        weeks.len(),
        vec![
            Column::new(
                WEEKLY.week.into(),
                weeks.iter().map(IsoWeek::to_string).collect::<Vec<_>>(),
            ),
            Column::new(WEEKLY.storage_cost.into(), cost),
        ],
    )
}

/// Midnight UTC of a day, epoch ms.
fn midnight_ms(day: NaiveDate) -> Option<i64> {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
}

/// Days of an ISO week inside the window (7 without one).
fn week_days_in_window(week: IsoWeek, span: Span, options: &Options<'_>) -> f64 {
    let Some(monday) = week.monday() else {
        return 7.0;
    };
    let start = midnight_ms(monday).unwrap_or(0);
    let end = start + 7 * DAY_MS;
    let since = options
        .since_ms
        .or_else(|| span.first.and_then(midnight_ms));
    let until = options
        .until_ms
        .or_else(|| span.last.and_then(midnight_ms).map(|t| t + DAY_MS));
    let (s, e) = (
        since.unwrap_or(start).max(start),
        until.unwrap_or(end).min(end),
    );
    ((e - s).max(0)) as f64 / DAY_MS as f64
}

/// What one build's cache hits saved.
struct BuildSavings {
    seconds: f64,
    fetch_seconds: f64,
    unknown: u32,
    compute_type: String,
}

/// What each build of an analysis saved, by source and index in the source
/// (the first build of a pair, should two sources share a name).
fn build_savings(
    analysis: &Analysis,
) -> Result<HashMap<(String, usize), BuildSavings>, AnalyzeError> {
    let df = analysis
        .builds
        .clone()
        .lazy()
        .join(
            analysis
                .runs
                .clone()
                .lazy()
                .select([col(RUN.run), col(RUN.compute_type)]),
            [col(BUILD.run)],
            [col(RUN.run)],
            JoinArgs::new(JoinType::Left),
        )
        .sort([BUILD.build], SortMultipleOptions::default())
        .collect()?;
    let source = df.column(BUILD.source)?.str()?;
    let index = df.column(BUILD.index)?.u32()?;
    let seconds = df.column(BUILD_SAVINGS.saved_seconds)?.f64()?;
    let unknown = df.column(BUILD_SAVINGS.saved_unknown)?.u32()?;
    let fetch = df.column(BUILD.fetch_seconds)?.f64()?;
    let compute = df.column(RUN.compute_type)?.str()?;
    let mut by_build = HashMap::with_capacity(df.height());
    for i in 0..df.height() {
        let key = (
            source.get(i).unwrap_or_default().to_owned(),
            index.get(i).unwrap_or_default() as usize,
        );
        by_build.entry(key).or_insert_with(|| BuildSavings {
            seconds: seconds.get(i).unwrap_or_default(),
            fetch_seconds: fetch.get(i).unwrap_or_default(),
            unknown: unknown.get(i).unwrap_or_default(),
            compute_type: compute
                .get(i)
                .unwrap_or(cost::DEFAULT_COMPUTE_TYPE)
                .to_owned(),
        });
    }
    Ok(by_build)
}

/// Gives each summarised build what its cache hits saved in the analysis
/// (joined on source and index), priced at its run's compute type.
pub fn fill_savings(
    summaries: &mut [SourceSummary<'_>],
    analysis: &Analysis,
    pricing: &Pricing,
) -> Result<(), AnalyzeError> {
    let saved = build_savings(analysis)?;
    for b in summaries.iter_mut().flat_map(|s| &mut s.builds) {
        if let Some(s) = saved.get(&(b.source.to_owned(), b.index)) {
            b.savings = Some(Savings {
                seconds: s.seconds,
                unknown: s.unknown,
                cost: cost::time_cost(pricing.rate(&s.compute_type)?, s.seconds),
                currency: pricing.currency.clone(),
                compute_type: s.compute_type.clone(),
                fetch_seconds: s.fetch_seconds,
                net_seconds: s.seconds - s.fetch_seconds,
            });
        }
    }
    Ok(())
}
