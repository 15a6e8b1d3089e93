//! What the logs held that was not understood, said on stderr: nothing is
//! dropped silently, and many logs do not flood the terminal (ten lines of
//! each kind). Gathered build by build, so streamed logs are told the same.
//!
//! Lines outside any build, in a log that has builds, are most often other
//! commands' output (a CodeBuild stream's `docker login`, an `echo`): not news.
//! They are told only when they may be a misread: when some are shaped like
//! BuildKit's ([`ParsedLog::unparsed_outside_shaped`]), or when they are
//! many in a log (see `many`). `--verbose` tells every log's count.

use std::borrow::Borrow;

use cachelens::model::{Build, ParsedLog, Refused};

/// Lines of each kind shown.
const SHOWN: usize = 10;

/// Fewer lines outside builds than this are never many.
const MANY_LINES: u64 = 20;

/// Whether `outside` of a log's `lines` are many: at least [`MANY_LINES`] and
/// more than half the log. A CI job's other commands print a few lines around
/// the build; when most of a log that has builds stands outside them, a CI
/// framing or a format may have gone unrecognised (a prefix not peeled leaves
/// BuildKit lines unread, and not `#N`-shaped).
fn many(outside: u64, lines: u64) -> bool {
    outside >= MANY_LINES && outside * 2 > lines
}

/// A log with builds and lines outside them: its name, those lines, the
/// shaped ones among them, its lines.
type Outside = (String, u64, u64, u64);

/// A log without a build: its name, lines read, the client's first error (line, text).
type Empty = (String, u64, Option<(u64, String)>);

/// What is told once the logs are read.
#[derive(Debug, Default)]
pub struct Unread {
    /// Logs without a build.
    empty: Vec<Empty>,
    empty_more: usize,
    /// Builds with unparsed lines: source, index, count, first line.
    unparsed: Vec<(String, usize, u64, Option<u64>)>,
    unparsed_more: usize,
    /// Logs with builds and lines outside them: the first [`SHOWN`] (listed
    /// under `--verbose`), and how many in all.
    outside: Vec<Outside>,
    holding: usize,
    /// Shaped lines outside builds, and the logs holding them.
    shaped: u64,
    shaped_logs: usize,
    /// Logs in which lines outside builds are many (see `many`): the first [`SHOWN`], and the others.
    crowded: Vec<Outside>,
    crowded_more: usize,
    /// Builds of the log being read.
    builds: usize,
}

impl Unread {
    /// Everything of logs read whole.
    pub fn of<L: Borrow<ParsedLog>>(logs: &[L]) -> Self {
        let mut unread = Unread::default();
        for log in logs.iter().map(Borrow::borrow) {
            log.builds.iter().for_each(|b| unread.build(b));
            unread.log(log);
        }
        unread
    }

    /// A build of the log being read.
    pub fn build(&mut self, b: &Build) {
        self.builds += 1;
        if b.unparsed_lines > 0 {
            if self.unparsed.len() < SHOWN {
                self.unparsed.push((
                    b.source.clone(),
                    b.index,
                    b.unparsed_lines,
                    b.first_unparsed_line,
                ));
            } else {
                self.unparsed_more += 1;
            }
        }
    }

    /// The end of a log (its builds given before): what it refused is said now.
    pub fn log(&mut self, log: &ParsedLog) {
        let builds = std::mem::take(&mut self.builds);
        if builds == 0 {
            if self.empty.len() < SHOWN {
                self.empty.push((
                    log.source.clone(),
                    log.lines,
                    log.errors_outside.first().cloned(),
                ));
            } else {
                self.empty_more += 1;
            }
        } else if log.unparsed_outside > 0 {
            self.holding += 1;
            if log.unparsed_outside_shaped > 0 {
                self.shaped += log.unparsed_outside_shaped;
                self.shaped_logs += 1;
            }
            let outside = (
                log.source.clone(),
                log.unparsed_outside,
                log.unparsed_outside_shaped,
                log.lines,
            );
            if many(log.unparsed_outside, log.lines) {
                if self.crowded.len() < SHOWN {
                    self.crowded.push(outside.clone());
                } else {
                    self.crowded_more += 1;
                }
            }
            if self.outside.len() < SHOWN {
                self.outside.push(outside);
            }
        }
        refused(log);
    }

    /// Says it all; `verbose`: every log's lines outside builds too.
    pub fn say(self, verbose: bool) {
        for (source, lines, error) in &self.empty {
            let said = error
                .as_ref()
                .map(|(line, msg)| format!("; the client said at line {line}: {msg}"))
                .unwrap_or_default();
            let s = if *lines == 1 { "" } else { "s" };
            say!("{source}: no BuildKit build found ({lines} line{s} read){said}");
        }
        if self.empty_more > 0 {
            say!(
                "… and {} more logs without a BuildKit build",
                self.empty_more
            );
        }
        for (source, index, lines, first) in &self.unparsed {
            say!(
                "{source}: build {}: {lines} unparsed lines (first at line {})",
                index + 1,
                first.unwrap_or(0)
            );
        }
        if self.unparsed_more > 0 {
            say!(
                "… and {} more builds with unparsed lines",
                self.unparsed_more
            );
        }
        self.say_outside(verbose);
    }

    /// Lines outside builds: each log under `verbose`, else the shaped ones and
    /// the logs where they are many.
    fn say_outside(&self, verbose: bool) {
        if verbose {
            for (source, outside, shaped, lines) in &self.outside {
                say!(
                    "{source}: {outside} of {lines} lines stand outside any BuildKit build \
                     ({shaped} shaped like BuildKit's)"
                );
            }
            if self.holding > self.outside.len() {
                say!(
                    "… and {} more logs with lines outside any build",
                    self.holding - self.outside.len()
                );
            }
        }
        if self.shaped > 0 {
            say!(
                "{} line{} in {} log{} shaped like BuildKit's but read into no build \
                 (a possible misread: --verbose names the logs)",
                self.shaped,
                if self.shaped == 1 { "" } else { "s" },
                self.shaped_logs,
                if self.shaped_logs == 1 { "" } else { "s" }
            );
        }
        for (source, outside, _, lines) in &self.crowded {
            say!(
                "{source}: {outside} of its {lines} lines stand outside any BuildKit build \
                 (other commands' output, or a CI framing cachelens did not recognise)"
            );
        }
        if self.crowded_more > 0 {
            say!(
                "… and {} more logs mostly outside any build",
                self.crowded_more
            );
        }
    }
}

/// Says on stderr what the parser would not read: binary data, lines and
/// rawjson objects over `--max-line`, each with its file and line.
fn refused(log: &ParsedLog) {
    let mut long = log.refused.iter().filter_map(|r| match r {
        Refused::LongLine { line, bytes } => Some((*line, *bytes)),
        _ => None,
    });
    if let Some((line, bytes)) = long.next() {
        let more = long.count();
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        say!(
            "{}:{line}: a line of {bytes} bytes is longer than --max-line: counted unparsed{more}",
            log.source
        );
    }
    for r in &log.refused {
        match r {
            Refused::Binary {
                offset,
                line,
                lines,
            } => say!(
                "{}:{line}: binary file (a NUL byte at offset {offset}): \
                 {lines} lines holding NUL bytes counted unparsed; if it is a build log, \
                 `tr -d '\\000'` removes them",
                log.source
            ),
            Refused::LongObject { line } => say!(
                "{}:{line}: a rawjson object longer than --max-line: its lines counted unparsed",
                log.source
            ),
            Refused::LongLine { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::many;

    #[test]
    fn a_few_lines_around_builds_are_not_many() {
        assert!(!many(1, 200), "one line per CodeBuild stream");
        assert!(!many(19, 20), "fewer than MANY_LINES");
        assert!(!many(300, 1000), "a test run after the build");
        assert!(many(600, 1000), "most of the log");
    }
}
