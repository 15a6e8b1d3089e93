//! Work over many logs, in parallel with rayon; results keep the input order.

use rayon::prelude::*;

use crate::parse::{ParsedLog, parse_log};
use crate::source::{Source, SourceError};

/// Reads and parses every source, one rayon task each.
pub fn parse_sources(sources: &[Source]) -> Result<Vec<ParsedLog>, SourceError> {
    sources
        .par_iter()
        .map(|s| s.read().map(|bytes| parse_log(&bytes, &s.name())))
        .collect()
}
