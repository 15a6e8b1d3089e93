//! The commands that stream: `steps`, and `summary` without `--history`. Each
//! build is written as soon as it ends, so memory is bounded by the largest
//! build, not the logs, and a piped `docker build` shows each build's summary
//! when it finishes.

use std::io::{self, Write};

use anyhow::Result;

use cachelens::analyze::ReadOptions;
use cachelens::model::{Build, ParsedLog};
use cachelens::parse::Parsed;
use cachelens::report::{StepsFormat, StepsWriter, SummaryFormat, SummaryWriter, TableOptions};
use cachelens::source::Source;
use cachelens::summary::Summary;

use crate::cli::Inputs;
use crate::unread::Unread;

/// What is done with each build and each log's other records, in input order.
trait Consumer {
    /// A build, as it ends.
    fn build(&mut self, b: Build) -> io::Result<()>;
    /// The end of a log: its records but its builds.
    fn log(&mut self, rest: &ParsedLog) -> io::Result<()>;
    /// Writes out what is buffered.
    fn flush(&mut self) -> io::Result<()>;
}

/// Reads the sources one after the other, each as a stream, handing builds and
/// logs to `to`; a source that cannot be read is skipped (reported), an error
/// of `to` (a closed pipe) stops everything and is returned. What standard
/// input's builds make is written out as each ends (`docker build … | cachelens`).
fn each_build(sources: &[Source], inputs: &Inputs, to: &mut dyn Consumer) -> io::Result<()> {
    let ReadOptions { parse, .. } = inputs.read_options();
    let max = inputs.max_input_size.unwrap_or(u64::MAX);
    for source in sources {
        let live = *source == Source::Stdin;
        let mut failed = None;
        let parsed = source.parse(&parse, max, &mut |p| {
            let done = match p {
                Parsed::Build(b) => to.build(b),
                Parsed::Log(rest) => to.log(&rest),
            };
            match done.and_then(|()| if live { to.flush() } else { Ok(()) }) {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        match parsed {
            Ok(rest) => to.log(&rest)?,
            Err(e) => crate::run::skip(&e),
        }
    }
    Ok(())
}

/// `cachelens steps`: the records of every build, written as each ends.
/// Whether any build was found.
pub fn steps(sources: &[Source], inputs: &Inputs, format: StepsFormat) -> Result<bool> {
    struct Steps<'w> {
        writer: StepsWriter<'w>,
        unread: Unread,
        found: bool,
    }
    impl Consumer for Steps<'_> {
        fn build(&mut self, b: Build) -> io::Result<()> {
            self.found = true;
            self.unread.build(&b);
            self.writer.build(&b)
        }
        fn log(&mut self, rest: &ParsedLog) -> io::Result<()> {
            self.unread.log(rest);
            self.writer.log(rest);
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.writer.flush()
        }
    }
    let mut done = (false, Unread::default());
    crate::run::write_out(|out| {
        let mut steps = Steps {
            writer: StepsWriter::new(format, out)?,
            unread: Unread::default(),
            found: false,
        };
        each_build(sources, inputs, &mut steps)?;
        steps.writer.finish()?;
        done = (steps.found, steps.unread);
        Ok(())
    })?;
    done.1.say(inputs.verbose);
    Ok(done.0)
}

/// What the streamed summary found, for the exit code and the hints.
#[derive(Debug, Default)]
pub struct Found {
    /// Builds summarised.
    pub builds: usize,
    /// Cached steps in them.
    pub cached: usize,
    /// Builds below the hit-rate gate: source, index, hit rate.
    pub below: Vec<(String, usize, Option<f64>)>,
}

/// Builds of one log that wait for its CodeBuild run at most; past them, the
/// builds are written as they end and the run after them (memory stays bounded
/// on a log of many runs, `cat`ed stream files).
const MAX_HELD: usize = 64;

/// `cachelens summary` without `--history`: each build's summary written as it
/// ends; a build inside a CodeBuild run waits for the end of its log (up to
/// [`MAX_HELD`] of them), so that the run's section (known only then) comes first.
pub fn summary(
    sources: &[Source],
    inputs: &Inputs,
    format: SummaryFormat,
    options: TableOptions,
    min_hit_rate: Option<f64>,
) -> Result<Found> {
    struct Summaries<'w> {
        writer: SummaryWriter<'w>,
        /// Builds of the current log that wait for its CodeBuild run.
        held: Vec<Build>,
        /// More than [`MAX_HELD`] waited: the log's run comes after its builds.
        spilled: bool,
        unread: Unread,
        found: Found,
        min_hit_rate: Option<f64>,
    }
    impl Summaries<'_> {
        fn write(&mut self, b: &Build) -> io::Result<()> {
            let s = Summary::of(b);
            self.found.builds += 1;
            self.found.cached += s.cached;
            if self.min_hit_rate.is_some_and(|min| s.below(min)) {
                self.found
                    .below
                    .push((b.source.clone(), b.index, s.hit_rate));
            }
            self.writer.build(&s)
        }
    }
    impl Consumer for Summaries<'_> {
        fn build(&mut self, b: Build) -> io::Result<()> {
            self.unread.build(&b);
            if self.held.len() == MAX_HELD {
                for held in std::mem::take(&mut self.held) {
                    self.write(&held)?;
                }
                self.held.shrink_to_fit();
                self.spilled = true;
            }
            if (b.phase.is_some() || !self.held.is_empty()) && !self.spilled {
                self.held.push(b);
                return Ok(());
            }
            self.write(&b)
        }
        fn log(&mut self, rest: &ParsedLog) -> io::Result<()> {
            self.unread.log(rest);
            let held = std::mem::take(&mut self.held);
            if let Some(run) = rest.run.as_ref().filter(|_| !self.spilled) {
                self.writer.run(&rest.source, run)?;
            }
            for b in &held {
                self.write(b)?;
            }
            if let Some(run) = rest.run.as_ref().filter(|_| self.spilled) {
                self.writer.run(&rest.source, run)?;
            }
            self.spilled = false;
            Ok(())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.writer.flush()
        }
    }
    let mut done = (Found::default(), Unread::default());
    crate::run::write_out(|out: &mut dyn Write| {
        let mut summaries = Summaries {
            writer: SummaryWriter::new(format, options, out),
            held: Vec::new(),
            spilled: false,
            unread: Unread::default(),
            found: Found::default(),
            min_hit_rate,
        };
        each_build(sources, inputs, &mut summaries)?;
        summaries.writer.finish()?;
        done = (summaries.found, summaries.unread);
        Ok(())
    })?;
    done.1.say(inputs.verbose);
    Ok(done.0)
}
