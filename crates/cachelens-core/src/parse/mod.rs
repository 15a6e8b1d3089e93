//! BuildKit progress output into builds and steps.
//!
//! Each module mirrors a grammar in `grammars/`: [`lines`] and [`plain`] the
//! line rules of `buildkit-plain.ebnf`, [`framing`] `ci-framing.ebnf`,
//! [`rawjson`] `rawjson.md`, [`tty`] `buildkit-tty.ebnf`, [`vertex_name`] `vertex-name.ebnf`, [`codebuild`]
//! `codebuild.ebnf`, and [`assemble`] the assembler rules at the end of
//! `buildkit-plain.ebnf`, `codebuild.ebnf`, `rawjson.md` and `buildkit-tty.ebnf`;
//! [`stream`] reads a log in pieces and hands on each build (and CodeBuild
//! run) as it ends.
//! Pure functions of bytes: no I/O, no clock.

pub mod assemble;
pub mod codebuild;
pub mod fetch;
pub mod framing;
pub mod lines;
pub mod plain;
pub mod rawjson;
pub mod redact;
pub mod stream;
pub mod tty;
pub mod vertex_name;

pub use assemble::{parse_log, parse_log_as, parse_log_with, parse_logs_with};
pub use stream::{LogParser, Parsed};

use crate::model::Format;

/// Which progress formats to read: every one, told apart line by line and
/// region by region, or only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormatIn {
    /// Plain, rawjson and tty, as each line's shape says.
    #[default]
    Auto,
    /// Only this format; lines of the others are unparsed.
    Only(Format),
}

impl FormatIn {
    /// Whether lines of `format` are read.
    pub fn accepts(self, format: Format) -> bool {
        self == FormatIn::Auto || self == FormatIn::Only(format)
    }
}

/// A line (or a pretty-printed rawjson object) longer than this is not read by
/// default: it is counted unparsed (`--max-line`).
pub const DEFAULT_MAX_LINE: usize = 64 << 20;

/// How a log is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Which progress formats to read.
    pub format: FormatIn,
    /// Replace credentials in the kept text by `[redacted]` ([`redact`]).
    pub redact: bool,
    /// Lines and rawjson objects longer than this many bytes are counted unparsed.
    pub max_line: usize,
}

impl Default for ParseOptions {
    /// Every format, redacted, lines up to [`DEFAULT_MAX_LINE`].
    fn default() -> Self {
        ParseOptions {
            format: FormatIn::Auto,
            redact: true,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}
