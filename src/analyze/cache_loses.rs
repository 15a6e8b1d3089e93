//! The steps where the cache loses: a step key whose hits take longer to
//! fetch their layers than the step takes to run (both medians over the
//! window and history, each of [`MIN_SAMPLES`] or more), read from the
//! `step_keys` table, with what to do about it.

use polars::prelude::*;
use serde::Serialize;

use super::aggregate::{MIN_SAMPLES, STEP_KEY};

/// What to do where the cache loses.
pub const FIX: &str = "keep that layer out of the registry cache (export with mode=min, or mode=max only for the stages that pay), make the step cheaper to rerun, or order the Dockerfile so a hit there does not need the big layer";

/// A step key whose fetch costs more than its execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheLoss {
    /// The project.
    pub project: String,
    /// The step key.
    pub step_key: String,
    /// Median fetch seconds of its hits that fetched a layer.
    pub median_fetch_seconds: f64,
    /// How many hits that median is of.
    pub fetch_samples: u32,
    /// Median executed seconds.
    pub median_seconds: f64,
    /// How many executed runs that median is of.
    pub samples: u32,
    /// What to do.
    pub fix: &'static str,
}

/// The flagged rows of `step_keys`, the largest loss first.
pub(crate) fn cache_losses(step_keys: &DataFrame) -> PolarsResult<Vec<CacheLoss>> {
    let flagged = step_keys
        .clone()
        .lazy()
        .filter(col(STEP_KEY.cache_loses))
        .sort(
            [
                STEP_KEY.net_saved_seconds,
                STEP_KEY.project,
                STEP_KEY.step_key,
            ],
            SortMultipleOptions::default(),
        )
        .collect()?;
    let text = |name: &str| flagged.column(name).and_then(|c| Ok(c.str()?.clone()));
    let float = |name: &str| flagged.column(name).and_then(|c| Ok(c.f64()?.clone()));
    let count = |name: &str| {
        flagged
            .column(name)
            .and_then(|c| Ok(c.cast(&DataType::UInt32)?.u32()?.clone()))
    };
    let (project, key) = (text(STEP_KEY.project)?, text(STEP_KEY.step_key)?);
    let (fetch, exec) = (
        float(STEP_KEY.median_fetch_seconds)?,
        float(STEP_KEY.median_seconds)?,
    );
    let (fetch_n, exec_n) = (count(STEP_KEY.fetch_samples)?, count(STEP_KEY.samples)?);
    Ok((0..flagged.height())
        .map(|i| CacheLoss {
            project: project.get(i).unwrap_or("-").to_owned(),
            step_key: key.get(i).unwrap_or_default().to_owned(),
            median_fetch_seconds: fetch.get(i).unwrap_or(0.0),
            fetch_samples: fetch_n.get(i).unwrap_or(MIN_SAMPLES),
            median_seconds: exec.get(i).unwrap_or(0.0),
            samples: exec_n.get(i).unwrap_or(MIN_SAMPLES),
            fix: FIX,
        })
        .collect())
}
