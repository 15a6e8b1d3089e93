//! The group-bys and joins (polars) over the rows: each step's typical time
//! and what its cache hit saved, each build's savings, hit rates per project,
//! branch, day and ISO week, and the steps that lost the most time to misses.

use polars::prelude::*;

use super::columns::names;
use super::rows::{BUILD, STEP};

names! {
    /// The columns a step gains from its key's samples: the `steps` table is
    /// [`StepColumns`](super::rows::StepColumns) (without the internal ones) and these.
    pub struct StepSavingsColumns = STEP_SAVINGS {
        median_seconds,
        samples,
        saved_seconds,
        saved_unknown,
    }
}

names! {
    /// The columns a build gains from its steps: the `builds` table is
    /// [`BuildColumns`](super::rows::BuildColumns) (without the internal one) and these.
    pub struct BuildSavingsColumns = BUILD_SAVINGS {
        saved_seconds,
        saved_unknown,
        overhead_seconds,
        hit_rate,
    }
}

names! {
    /// A hit rate table (`hit_rate_by_week`, `_day`, `_project`, `_branch`):
    /// the column grouped by, then these.
    pub struct HitRateColumns = HIT_RATE {
        cacheable,
        cached,
        builds,
        hit_rate,
    }
}

names! {
    /// The `step_keys` table: per project and step key, hits, misses, the
    /// typical time and the minutes lost to misses.
    pub struct StepKeyColumns = STEP_KEY {
        project,
        step_key,
        runs,
        cached,
        executed,
        median_seconds,
        samples,
        minutes_lost,
        misses,
    }
}

/// `cached ÷ cacheable` as a float column named `hit_rate`.
pub(crate) fn hit_rate_of(cached: &str, cacheable: &str) -> Expr {
    (col(cached).cast(DataType::Float64) / col(cacheable).cast(DataType::Float64))
        .alias(HIT_RATE.hit_rate)
}

/// How many of a boolean column's values are true, named `name`.
fn count(column: &str, name: &str) -> Expr {
    col(column).cast(DataType::UInt32).sum().alias(name)
}

/// The steps in the window, each with the median executed time of its key
/// (over the window and the history) and, when cached, the time it saved;
/// sorted by build and vertex. It keeps the internal `executed` column.
pub(crate) fn steps(all: DataFrame) -> PolarsResult<DataFrame> {
    let samples = all
        .clone()
        .lazy()
        .filter(
            col(STEP.cacheable)
                .and(col(STEP.executed))
                .and(col(STEP.seconds).is_not_null()),
        )
        .group_by([col(STEP.project), col(STEP.step_key)])
        .agg([
            col(STEP.seconds)
                .median()
                .alias(STEP_SAVINGS.median_seconds),
            col(STEP.seconds).count().alias(STEP_SAVINGS.samples),
        ]);
    let keys = [col(STEP.project), col(STEP.step_key)];
    all.lazy()
        .filter(col(STEP.in_window))
        .join(samples, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_columns([
            when(col(STEP.cached))
                .then(col(STEP_SAVINGS.median_seconds))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(STEP_SAVINGS.saved_seconds),
            col(STEP.cached)
                .and(col(STEP_SAVINGS.median_seconds).is_null())
                .alias(STEP_SAVINGS.saved_unknown),
        ])
        .drop(cols([STEP.in_window]))
        .sort([STEP.build, STEP.vertex], SortMultipleOptions::default())
        .collect()
}

/// The builds in the window with what their steps saved, their cache
/// overhead and hit rate; sorted by build.
pub(crate) fn builds(all: DataFrame, steps: &DataFrame) -> PolarsResult<DataFrame> {
    let saved_per_build = steps.clone().lazy().group_by([col(STEP.build)]).agg([
        col(STEP_SAVINGS.saved_seconds)
            .sum()
            .alias(BUILD_SAVINGS.saved_seconds),
        count(STEP_SAVINGS.saved_unknown, BUILD_SAVINGS.saved_unknown),
    ]);
    all.lazy()
        .filter(col(BUILD.in_window))
        .join(
            saved_per_build,
            [col(BUILD.build)],
            [col(STEP.build)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col(BUILD_SAVINGS.saved_seconds).fill_null(lit(0.0)),
            col(BUILD_SAVINGS.saved_unknown).fill_null(lit(0u32)),
            (col(BUILD.import_seconds) + col(BUILD.export_seconds))
                .alias(BUILD_SAVINGS.overhead_seconds),
            hit_rate_of(BUILD.cached, BUILD.cacheable),
        ])
        .drop(cols([BUILD.in_window]))
        .sort([BUILD.build], SortMultipleOptions::default())
        .collect()
}

/// The hit rate of the cacheable steps per value of the steps' column `by`
/// (unknown values last).
pub(crate) fn hit_rate(steps: &DataFrame, by: &str) -> PolarsResult<DataFrame> {
    steps
        .clone()
        .lazy()
        .filter(col(STEP.cacheable))
        .group_by([col(by)])
        .agg([
            len().alias(HIT_RATE.cacheable),
            count(STEP.cached, HIT_RATE.cached),
            col(STEP.build).n_unique().alias(HIT_RATE.builds),
        ])
        .with_column(hit_rate_of(HIT_RATE.cached, HIT_RATE.cacheable))
        .sort([by], SortMultipleOptions::default().with_nulls_last(true))
        .collect()
}

/// Per project and step key of the cacheable steps, most minutes lost first.
pub(crate) fn step_keys(steps: &DataFrame) -> PolarsResult<DataFrame> {
    steps
        .clone()
        .lazy()
        .filter(col(STEP.cacheable))
        .group_by([col(STEP.project), col(STEP.step_key)])
        .agg([
            len().alias(STEP_KEY.runs),
            count(STEP.cached, STEP_KEY.cached),
            count(STEP.executed, STEP_KEY.executed),
            col(STEP_SAVINGS.median_seconds)
                .first()
                .alias(STEP_KEY.median_seconds),
            col(STEP_SAVINGS.samples).first().alias(STEP_KEY.samples),
            (col(STEP.seconds).filter(col(STEP.executed)).sum() / lit(60.0))
                .alias(STEP_KEY.minutes_lost),
        ])
        .with_column((col(STEP_KEY.runs) - col(STEP_KEY.cached)).alias(STEP_KEY.misses))
        .sort(
            [STEP_KEY.minutes_lost, STEP_KEY.project, STEP_KEY.step_key],
            SortMultipleOptions::default().with_order_descending_multi([true, false, false]),
        )
        .collect()
}
