//! Work over many logs, in parallel with rayon; results keep the input order.
//! Then the tables that aggregate them ([`frames`]): typed rows ([`rows`]),
//! polars group-bys and joins ([`aggregate`]), money ([`billing`]), the
//! causes of the window's misses ([`miss_causes`]), where hits came from
//! ([`hit_origin`]) and the steps whose fetch costs more than a rerun
//! ([`cache_loses`]), with column names written once ([`columns`]).

// short functions (at most `too-many-lines-threshold` in clippy.toml)
#![warn(clippy::too_many_lines)]

pub mod aggregate;
pub mod billing;
pub mod cache_loses;
pub mod columns;
pub mod diagnose;
pub mod frames;
pub mod hit_origin;
pub mod hygiene;
pub mod interval;
pub mod key;
pub mod miss_causes;
pub mod rows;
mod shared;

use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::model::{Build, ParsedLog};
use crate::parse::{ParseOptions, Parsed};
use crate::source::{DEFAULT_MAX_INPUT, Source, SourceError};

/// How sources are read and parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// How each log is parsed (formats, redaction, line cap).
    pub parse: ParseOptions,
    /// Logs larger than this (after decompression) are refused.
    pub max_input: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            parse: ParseOptions::default(),
            max_input: DEFAULT_MAX_INPUT,
        }
    }
}

/// Reads and parses every source as `options` say, one rayon task each;
/// builds carry their source's CodeBuild build id when it knows one, and a
/// source of several CodeBuild runs one after another is a log per run.
/// The logs in input order, and the sources that could not be read (the
/// others are parsed all the same).
pub fn parse_sources(
    sources: &[Source],
    options: &ReadOptions,
) -> (Vec<ParsedLog>, Vec<SourceError>) {
    parse_sources_then(sources, options, |log| log)
}

/// [`parse_sources`], each log handed to `then` in the task that read it.
pub fn parse_sources_then<T: Send>(
    sources: &[Source],
    options: &ReadOptions,
    then: impl Fn(ParsedLog) -> T + Sync,
) -> (Vec<T>, Vec<SourceError>) {
    // the logs before the last of a source of several CodeBuild runs (rare):
    // set aside, so that the common case collects in place
    let earlier = Mutex::new(Vec::new());
    let each: Vec<Result<T, SourceError>> = sources
        .par_iter()
        .enumerate()
        .map(|(at, s)| {
            let (mut before, mut builds) = (Vec::new(), Vec::new());
            // a log holds one build or a few: no room for more (a report holds
            // 100,000 logs)
            let with_builds = |mut log: ParsedLog, builds: &mut Vec<Build>| {
                builds.shrink_to_fit();
                log.builds = std::mem::take(builds);
                then(log)
            };
            let last = s.parse(&options.parse, options.max_input, &mut |p| {
                match p {
                    Parsed::Build(b) => builds.push(b),
                    Parsed::Log(log) => before.push(with_builds(log, &mut builds)),
                }
                true
            })?;
            if !before.is_empty() {
                earlier
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((at, before));
            }
            Ok(with_builds(last, &mut builds))
        })
        .collect();
    let mut skipped = Vec::new();
    let mut earlier = earlier.into_inner().unwrap_or_else(PoisonError::into_inner);
    if earlier.is_empty() {
        // the standard library collects this in place where the layouts allow,
        // rather than beside a second vector of 100,000 logs
        let logs = each
            .into_iter()
            .filter_map(|parsed| parsed.map_err(|e| skipped.push(e)).ok())
            .collect();
        return (logs, skipped);
    }
    earlier.sort_unstable_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut logs = Vec::new();
    for (at, parsed) in each.into_iter().enumerate() {
        match parsed {
            Ok(last) => {
                if earlier.last().is_some_and(|(from, _)| *from == at) {
                    logs.extend(earlier.pop().into_iter().flat_map(|(_, before)| before));
                }
                logs.push(last);
            }
            Err(e) => skipped.push(e),
        }
    }
    (logs, skipped)
}
