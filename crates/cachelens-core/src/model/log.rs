//! Everything read from one log: its builds, its CodeBuild run, what was refused.
//! A source holding several CodeBuild runs one after another is a log per run.

use super::{Build, Origin, Run};

/// Everything read from one log: a source, or one of the CodeBuild runs a
/// source holds one after another (rule C5 of `codebuild.ebnf`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLog {
    /// Where the log was read.
    pub source: String,
    /// The BuildKit invocations found, in input order.
    pub builds: Vec<Build>,
    /// Lines read: of this log, where the source holds several.
    pub lines: u64,
    /// Unparsed lines that stand outside every build (before the first, after the last).
    pub unparsed_outside: u64,
    /// Of `unparsed_outside`, the lines that may be misread BuildKit output, shaped like
    /// BuildKit's: a `#N` line no rule accepts, a rawjson object that did not read, a tty
    /// frame line, vertex headers that made no build. The rest is other commands' output
    /// (and the lines in [`refused`](Self::refused), told apart).
    pub unparsed_outside_shaped: u64,
    /// The CodeBuild run, when the log holds `[Container]` agent lines.
    pub run: Option<Run>,
    /// What the source knows beyond the text (set by the reader, not the parser).
    pub origin: Origin,
    /// Client errors printed outside any build (`ERROR: BuildKit is enabled but the buildx
    /// component is missing`), with their line numbers.
    pub errors_outside: Vec<(u64, String)>,
    /// What the parser would not read, and where (at most [`MAX_REFUSED`] of them).
    pub refused: Vec<Refused>,
}

impl ParsedLog {
    /// Puts the records of `later`, the next log of the same source, after
    /// these: builds, counts, errors, what was refused (at most
    /// [`MAX_REFUSED`]), and its run's phases and commands after this run's.
    pub fn append(&mut self, later: ParsedLog) {
        self.builds.extend(later.builds);
        self.lines += later.lines;
        self.unparsed_outside += later.unparsed_outside;
        self.unparsed_outside_shaped += later.unparsed_outside_shaped;
        self.errors_outside.extend(later.errors_outside);
        let room = MAX_REFUSED.saturating_sub(self.refused.len());
        self.refused.extend(later.refused.into_iter().take(room));
        match (&mut self.run, later.run) {
            (Some(run), Some(next)) => {
                run.phases.extend(next.phases);
                run.commands.extend(next.commands);
            }
            (run @ None, next) => *run = next,
            (Some(_), None) => {}
        }
    }
}

/// Input the parser did not read: counted unparsed, and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A line longer than [`ParseOptions::max_line`](crate::parse::ParseOptions::max_line).
    LongLine {
        /// 1-based line number.
        line: u64,
        /// Its length.
        bytes: usize,
    },
    /// A pretty-printed rawjson object longer than [`ParseOptions::max_line`](crate::parse::ParseOptions::max_line) (rule R10).
    LongObject {
        /// 1-based line where it starts.
        line: u64,
    },
    /// Binary data: NUL bytes; the lines holding one are unparsed.
    Binary {
        /// Byte offset of the first NUL.
        offset: usize,
        /// 1-based line of the first NUL.
        line: u64,
        /// Lines holding a NUL.
        lines: u64,
    },
}

/// At most this many [`Refused`] entries are kept per log.
pub const MAX_REFUSED: usize = 100;
