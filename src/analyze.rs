//! Work over many logs, in parallel with rayon; results keep the input order.

use rayon::prelude::*;

use crate::parse::{FormatIn, ParsedLog, parse_log_as};
use crate::source::{Source, SourceError};

/// Reads and parses every source in the formats `format` allows, one rayon task each.
pub fn parse_sources(sources: &[Source], format: FormatIn) -> Result<Vec<ParsedLog>, SourceError> {
    sources
        .par_iter()
        .map(|s| {
            s.read()
                .map(|bytes| parse_log_as(&bytes, &s.name(), format))
        })
        .collect()
}
