//! What each subcommand does, on top of the library.

use std::io::{self, BufWriter, IsTerminal, Write};

use anyhow::{Result, bail};

use cachelens::analyze::parse_sources;
use cachelens::parse::ParsedLog;
use cachelens::report::{self, StepsFormat, SummaryFormat, TableOptions};
use cachelens::source::{Source, expand};
use cachelens::summary::SourceSummary;

use crate::cli::{
    Cli, ColorArg, Command, EXIT_BELOW_MIN_HIT_RATE, EXIT_NO_BUILD, Inputs, StepsFormatArg,
    SummaryFormatArg,
};

/// Runs the command; the exit code on success.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Summary(args) => {
            let logs = load(&args.inputs)?;
            let summaries: Vec<SourceSummary<'_>> = logs.iter().map(SourceSummary::of).collect();
            let format = match args.format {
                SummaryFormatArg::Table => SummaryFormat::Table,
                SummaryFormatArg::Markdown => SummaryFormat::Markdown,
                SummaryFormatArg::Json => SummaryFormat::Json,
            };
            let options = TableOptions {
                color: use_color(args.color),
                all_steps: args.all_steps,
            };
            write_out(|out| report::write_summary(format, &summaries, options, out))?;
            if !found_builds(&logs) {
                return Ok(EXIT_NO_BUILD);
            }
            if let Some(min) = args.min_hit_rate {
                let below: Vec<_> = summaries
                    .iter()
                    .flat_map(|s| &s.builds)
                    .filter(|s| s.below(min))
                    .collect();
                for s in &below {
                    eprintln!(
                        "cachelens: {} build {}: hit rate {:.0}% is below --min-hit-rate {:.0}%",
                        s.source,
                        s.index + 1,
                        s.hit_rate.unwrap_or(0.0) * 100.0,
                        min * 100.0
                    );
                }
                if !below.is_empty() {
                    return Ok(EXIT_BELOW_MIN_HIT_RATE);
                }
            }
            Ok(0)
        }
        Command::Steps(args) => {
            let logs = load(&args.inputs)?;
            let format = match args.format {
                StepsFormatArg::Json => StepsFormat::Json,
                StepsFormatArg::Ndjson => StepsFormat::Ndjson,
                StepsFormatArg::Csv => StepsFormat::Csv,
            };
            write_out(|out| report::write_steps(format, &logs, out))?;
            Ok(if found_builds(&logs) {
                0
            } else {
                EXIT_NO_BUILD
            })
        }
    }
}

/// Whether any log held a BuildKit build.
fn found_builds(logs: &[ParsedLog]) -> bool {
    logs.iter().any(|l| !l.builds.is_empty())
}

/// Reads and parses the inputs; tells on stderr what could not be parsed.
fn load(inputs: &Inputs) -> Result<Vec<ParsedLog>> {
    let sources = if inputs.logs.is_empty() {
        if io::stdin().is_terminal() {
            bail!("no input: give LOG files or folders, or pipe a build log into `cachelens … -`");
        }
        vec![Source::Stdin]
    } else {
        expand(&inputs.logs)?
    };
    let parsed = parse_sources(&sources, inputs.format_in.into())?;
    parsed.iter().for_each(report_unparsed);
    Ok(parsed)
}

/// Says on stderr what in a log was not understood: nothing is dropped silently.
fn report_unparsed(log: &ParsedLog) {
    let source = &log.source;
    if log.builds.is_empty() {
        let said = log
            .errors_outside
            .first()
            .map(|(line, msg)| format!("; the client said at line {line}: {msg}"))
            .unwrap_or_default();
        eprintln!(
            "cachelens: {source}: no BuildKit build found ({} lines read){said}",
            log.lines
        );
        return;
    }
    for b in log.builds.iter().filter(|b| b.unparsed_lines > 0) {
        eprintln!(
            "cachelens: {source}: build {}: {} unparsed lines (first at line {})",
            b.index + 1,
            b.unparsed_lines,
            b.first_unparsed_line.unwrap_or(0)
        );
    }
    if log.unparsed_outside > 0 {
        eprintln!(
            "cachelens: {source}: {} lines outside any build were not BuildKit output",
            log.unparsed_outside
        );
    }
}

fn use_color(arg: ColorArg) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn write_out(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    f(&mut out)?;
    out.flush()?;
    Ok(())
}
