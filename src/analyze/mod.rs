//! Work over many logs, in parallel with rayon; results keep the input order.
//! Then the tables (polars) that aggregate them: hit rates, time saved, cost.

pub mod diagnose;
pub mod frames;
pub mod key;

use rayon::prelude::*;

use crate::parse::{FormatIn, ParsedLog, parse_log_as};
use crate::source::{Source, SourceError};

/// Reads and parses every source in the formats `format` allows, one rayon
/// task each; builds carry their source's CodeBuild build id when it knows one.
/// The logs in input order, and the sources that could not be read (the
/// others are parsed all the same).
pub fn parse_sources(sources: &[Source], format: FormatIn) -> (Vec<ParsedLog>, Vec<SourceError>) {
    let each: Vec<Result<ParsedLog, SourceError>> = sources
        .par_iter()
        .map(|s| {
            let loaded = s.load()?;
            let mut log = parse_log_as(&loaded.bytes, &loaded.name, format);
            if let Some(id) = &loaded.origin.build_id {
                for b in &mut log.builds {
                    b.build_id = Some(id.clone());
                }
                log.run.get_or_insert_default().build_id = Some(id.clone());
            }
            log.origin = loaded.origin;
            Ok(log)
        })
        .collect();
    let mut logs = Vec::with_capacity(each.len());
    let mut skipped = Vec::new();
    for parsed in each {
        match parsed {
            Ok(log) => logs.push(log),
            Err(e) => skipped.push(e),
        }
    }
    (logs, skipped)
}
