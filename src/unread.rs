//! What the logs held that was not understood, said on stderr: nothing is
//! dropped silently, and many logs do not flood the terminal (ten lines of
//! each kind). Gathered build by build, so streamed logs are told the same.

use cachelens::model::{Build, ParsedLog, Refused};

/// Lines of each kind shown.
const SHOWN: usize = 10;

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
    /// Lines outside any build, in logs that had builds, and those logs.
    outside: u64,
    holding: usize,
    /// Builds of the log being read.
    builds: usize,
}

impl Unread {
    /// Everything of logs read whole.
    pub fn of(logs: &[ParsedLog]) -> Self {
        let mut unread = Unread::default();
        for log in logs {
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
            self.outside += log.unparsed_outside;
            self.holding += 1;
        }
        refused(log);
    }

    /// Says it all.
    pub fn say(self) {
        for (source, lines, error) in &self.empty {
            let said = error
                .as_ref()
                .map(|(line, msg)| format!("; the client said at line {line}: {msg}"))
                .unwrap_or_default();
            say!("{source}: no BuildKit build found ({lines} lines read){said}");
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
        if self.outside > 0 {
            say!(
                "{} lines in {} logs stand outside any BuildKit build (other commands' output)",
                self.outside,
                self.holding
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
