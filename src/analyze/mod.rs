//! Work over many logs, in parallel with rayon; results keep the input order.
//! Then the tables (polars) that aggregate them: hit rates, time saved, cost.

pub mod frames;
pub mod key;

use rayon::prelude::*;

use crate::parse::{ParsedLog, parse_log};
use crate::source::{Source, SourceError};

/// Reads and parses every source, one rayon task each; builds carry their
/// source's CodeBuild build id when it knows one.
pub fn parse_sources(sources: &[Source]) -> Result<Vec<ParsedLog>, SourceError> {
    sources
        .par_iter()
        .map(|s| {
            let loaded = s.load()?;
            let mut log = parse_log(&loaded.bytes, &loaded.name);
            if let Some(id) = &loaded.origin.build_id {
                for b in &mut log.builds {
                    b.build_id = Some(id.clone());
                }
                log.run.get_or_insert_default().build_id = Some(id.clone());
            }
            log.origin = loaded.origin;
            Ok(log)
        })
        .collect()
}
