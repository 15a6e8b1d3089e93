//! What each subcommand does, on top of the library.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, bail};

use cachelens::analyze::billing::fill_savings;
use cachelens::analyze::frames::{Options, Storage, analyze};
use cachelens::analyze::{ReadOptions, parse_sources};
use cachelens::cost::Pricing;
use cachelens::model::{Build, BuildId, ParsedLog, Refused};
use cachelens::report::tables;
use cachelens::report::{self, StepsFormat, SummaryFormat, TableOptions};
use cachelens::safe_write::{self, OutDir};
use cachelens::source::{Source, expand};
use cachelens::summary::SourceSummary;

use crate::cli::{
    Cli, ColorArg, Command, CostArgs, DiagnoseArgs, DiagnoseFormatArg, EXIT_BELOW_MIN_HIT_RATE,
    EXIT_NO_BUILD, EXIT_SKIPPED, Inputs, ReportArgs, StepsFormatArg, SummaryFormatArg,
};
use crate::cloud;

/// Inputs skipped so far (reported on stderr as they were met).
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Reports an input that could not be read; the run goes on without it and
/// ends with [`EXIT_SKIPPED`].
pub(crate) fn skip(e: &dyn std::fmt::Display) {
    SKIPPED.fetch_add(1, Ordering::Relaxed);
    say!("skipped: {e}");
}

/// Runs the command; the exit code on success ([`EXIT_SKIPPED`] when an input
/// was skipped, after everything else was printed).
pub fn run(cli: Cli) -> Result<u8> {
    let code = command(cli)?;
    let skipped = SKIPPED.load(Ordering::Relaxed);
    if skipped > 0 {
        say!(
            "{skipped} input{} could not be read (above); the others were processed",
            if skipped == 1 { "" } else { "s" }
        );
        return Ok(EXIT_SKIPPED);
    }
    Ok(code)
}

fn command(cli: Cli) -> Result<u8> {
    let config = crate::config::Choice::of(&cli);
    let Some(command) = cli.command else {
        bail!("no command given (see --help)");
    };
    match command {
        Command::Summary(args) => {
            let build_id = if args.codebuild {
                let id = std::env::var("CODEBUILD_BUILD_ID").map_err(|_| {
                    anyhow::anyhow!(
                        "--codebuild: CODEBUILD_BUILD_ID is not set (not inside CodeBuild?)"
                    )
                })?;
                Some(
                    id.parse::<BuildId>()
                        .map_err(|e| anyhow::anyhow!("--codebuild: CODEBUILD_BUILD_ID: {e}"))?,
                )
            } else {
                None
            };
            let logs = load(&args.inputs, build_id)?;
            let mut summaries: Vec<SourceSummary<'_>> =
                logs.iter().map(SourceSummary::of).collect();
            if !args.cost.history.is_empty() && found_builds(&logs) {
                add_savings(
                    &mut summaries,
                    &logs,
                    &args.cost,
                    &args.inputs.read_options(),
                )?;
            } else if args.format == SummaryFormatArg::Table {
                crate::builds::savings_hint(&summaries);
            }
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
                    say!(
                        "{} build {}: hit rate {:.0}% is below --min-hit-rate {:.0}%",
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
        Command::Fetch(args) => cloud::fetch_command(&args.cloud),
        Command::Config => crate::config::command(&config),
        Command::Builds(args) => crate::builds::command(&load(&args.inputs, None)?),
        Command::Report(args) => report(&args),
        Command::Diagnose(args) => diagnose(&args),
        Command::Steps(args) => {
            let logs = load(&args.inputs, None)?;
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

/// The logs of `--history`.
fn history(cost: &CostArgs, options: &ReadOptions) -> Result<Vec<ParsedLog>> {
    if cost.history.is_empty() {
        return Ok(Vec::new());
    }
    let parsed = parse_reporting(&expand_reporting(&cost.history), options);
    report_unparsed(&parsed);
    Ok(parsed)
}

fn pricing(cost: &CostArgs) -> Result<Pricing> {
    Ok(match &cost.pricing {
        Some(path) => Pricing::with_file(path)?,
        None => Pricing::embedded(),
    })
}

/// What each summarised build's cache hits saved, from the typical step times of `--history`.
fn add_savings(
    summaries: &mut [SourceSummary<'_>],
    logs: &[ParsedLog],
    cost: &CostArgs,
    options: &ReadOptions,
) -> Result<()> {
    let history = history(cost, options)?;
    let pricing = pricing(cost)?;
    let options = Options {
        pricing: &pricing,
        compute_type: cost.compute_type.clone(),
        since_ms: None,
        until_ms: None,
        storage: None,
    };
    let analysis = analyze(logs, &history, &options)?;
    fill_savings(summaries, &analysis, &pricing)?;
    Ok(())
}

/// `cachelens report`: analyse, write the tables, print the headline.
fn report(args: &ReportArgs) -> Result<u8> {
    let out = OutDir::check(
        &args.out,
        &report_inputs(args),
        safe_write::REPORT,
        args.force,
    )?;
    let logs = load(&args.inputs, None)?;
    if !found_builds(&logs) {
        return Ok(EXIT_NO_BUILD);
    }
    let history = history(&args.cost, &args.inputs.read_options())?;
    let pricing = pricing(&args.cost)?;
    let storage = match (&args.cache_repo, args.cache_size_gb) {
        (Some(repo), _) => Some(Storage::of_repository(
            repo,
            &cloud::repository_size(&args.inputs.cloud, repo)?,
        )),
        (None, Some(gb)) => Some(Storage::given(gb)),
        (None, None) => None,
    };
    let options = Options {
        pricing: &pricing,
        compute_type: args.cost.compute_type.clone(),
        since_ms: args.inputs.cloud.since,
        until_ms: args.inputs.cloud.until,
        storage,
    };
    let analysis = analyze(&logs, &history, &options)?;
    let sources: Vec<String> = logs.iter().map(|l| l.source.clone()).collect();
    tables::write(&analysis, &pricing, &sources, &out)?;
    write_out(|out| report::headline::write(&analysis.totals, &args.out, out))?;
    Ok(0)
}

/// Every file and folder `report` reads: the report may not be written over them.
fn report_inputs(args: &ReportArgs) -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = args.inputs.logs.clone();
    inputs.extend(args.cost.history.iter().cloned());
    inputs.extend(args.cost.pricing.iter().cloned());
    if args.inputs.cloud.chosen() {
        inputs.push(cloud::archive_root(&args.inputs.cloud));
    }
    inputs
}

/// `cachelens diagnose`: the last build (or every build) against its baseline.
fn diagnose(args: &DiagnoseArgs) -> Result<u8> {
    use cachelens::analyze::diagnose as dx;
    use cachelens::report::diagnose::{self as out_dx, DiagnoseFormat};

    let mut logs = load(&args.inputs, None)?;
    if !found_builds(&logs) {
        return Ok(EXIT_NO_BUILD);
    }
    let diagnosed = if args.inputs.cloud.build_id.is_some() && args.baseline.is_none() {
        Some(add_group_streams(args, &mut logs)?)
    } else {
        None
    };
    let given = match &args.baseline {
        Some(path) => Some(load_baseline(path, args)?),
        None => None,
    };
    let selection = dx::Selection {
        all: args.all,
        only: diagnosed.as_deref(),
        baseline: given.as_ref(),
    };
    let mut diagnoses = Vec::new();
    for diagnosis in dx::diagnose_logs(&logs, &selection) {
        match diagnosis {
            Ok(d) => diagnoses.push(d),
            Err(e) => say!("{e}"),
        }
    }
    let format = match args.format {
        DiagnoseFormatArg::Text => DiagnoseFormat::Text,
        DiagnoseFormatArg::Markdown => DiagnoseFormat::Markdown,
        DiagnoseFormatArg::Json => DiagnoseFormat::Json,
    };
    let color = use_color(args.color);
    write_out(|out| out_dx::write(format, &diagnoses, color, out))?;
    Ok(0)
}

/// `diagnose --build-id`: the build's own streams are diagnosed; the other
/// archived streams of their log groups are added to `logs` as the candidates
/// for its baseline. The sources diagnosed.
fn add_group_streams(args: &DiagnoseArgs, logs: &mut Vec<ParsedLog>) -> Result<Vec<String>> {
    let own: Vec<String> = logs.iter().map(|l| l.source.clone()).collect();
    let groups: std::collections::BTreeSet<&str> = own
        .iter()
        .filter_map(|s| s.rsplit_once('/').map(|(g, _)| g))
        .collect();
    let mut extra = Vec::new();
    for g in groups {
        extra.extend(cloud::group_streams(&args.inputs.cloud, g)?);
    }
    let mut others = parse_reporting(&extra, &args.inputs.read_options());
    others.retain(|l| !own.contains(&l.source));
    logs.extend(others);
    Ok(own)
}

/// `diagnose --baseline <path>`: the last build of that log.
fn load_baseline(path: &std::path::Path, args: &DiagnoseArgs) -> Result<Build> {
    let mut skipped = Vec::new();
    let sources = expand(std::slice::from_ref(&path.to_path_buf()), &mut skipped);
    if let Some(e) = skipped.into_iter().next() {
        bail!("--baseline: {e}");
    }
    let (parsed, skipped) = parse_sources(&sources, &args.inputs.read_options());
    if let Some(e) = skipped.into_iter().next() {
        bail!("--baseline: {e}");
    }
    report_unparsed(&parsed);
    match parsed.into_iter().flat_map(|l| l.builds).last() {
        Some(b) => Ok(b),
        None => bail!("--baseline {}: no BuildKit build found", path.display()),
    }
}

/// Whether any log held a BuildKit build.
fn found_builds(logs: &[ParsedLog]) -> bool {
    logs.iter().any(|l| !l.builds.is_empty())
}

/// Reads and parses the inputs; tells on stderr what could not be parsed.
fn load(inputs: &Inputs, build_id: Option<BuildId>) -> Result<Vec<ParsedLog>> {
    let cloud = inputs.cloud.chosen() || build_id.is_some();
    let mut sources = if !inputs.logs.is_empty() {
        expand_reporting(&inputs.logs)
    } else if cloud {
        Vec::new()
    } else if io::stdin().is_terminal() {
        bail!(
            "no input: give LOG files or folders, --log-group/--build-id, or pipe a build log into `cachelens … -`"
        );
    } else {
        vec![Source::Stdin]
    };
    if cloud {
        sources.extend(cloud::sources(&inputs.cloud, build_id)?);
    }
    let parsed = parse_reporting(&sources, &inputs.read_options());
    report_unparsed(&parsed);
    Ok(parsed)
}

/// [`expand`], reporting what is skipped.
fn expand_reporting(args: &[PathBuf]) -> Vec<Source> {
    let mut skipped = Vec::new();
    let sources = expand(args, &mut skipped);
    skipped.iter().for_each(|e| skip(e));
    sources
}

/// [`parse_sources`], reporting what is skipped.
fn parse_reporting(sources: &[Source], options: &ReadOptions) -> Vec<ParsedLog> {
    let (parsed, skipped) = parse_sources(sources, options);
    skipped.iter().for_each(|e| skip(e));
    parsed
}

/// Says on stderr what in the logs was not understood: nothing is dropped
/// silently, and many logs do not flood the terminal (ten lines of each kind).
fn report_unparsed(logs: &[ParsedLog]) {
    const SHOWN: usize = 10;
    let empty: Vec<&ParsedLog> = logs.iter().filter(|l| l.builds.is_empty()).collect();
    for log in empty.iter().take(SHOWN) {
        let said = log
            .errors_outside
            .first()
            .map(|(line, msg)| format!("; the client said at line {line}: {msg}"))
            .unwrap_or_default();
        say!(
            "{}: no BuildKit build found ({} lines read){said}",
            log.source,
            log.lines
        );
    }
    if empty.len() > SHOWN {
        say!(
            "… and {} more logs without a BuildKit build",
            empty.len() - SHOWN
        );
    }
    let unparsed: Vec<_> = logs
        .iter()
        .flat_map(|l| &l.builds)
        .filter(|b| b.unparsed_lines > 0)
        .collect();
    for b in unparsed.iter().take(SHOWN) {
        say!(
            "{}: build {}: {} unparsed lines (first at line {})",
            b.source,
            b.index + 1,
            b.unparsed_lines,
            b.first_unparsed_line.unwrap_or(0)
        );
    }
    if unparsed.len() > SHOWN {
        say!(
            "… and {} more builds with unparsed lines",
            unparsed.len() - SHOWN
        );
    }
    report_refused(logs);
    let with_builds = logs.iter().filter(|l| !l.builds.is_empty());
    let (outside, holding) = with_builds
        .filter(|l| l.unparsed_outside > 0)
        .fold((0, 0), |(n, m), l| (n + l.unparsed_outside, m + 1));
    if outside > 0 {
        say!(
            "{outside} lines in {holding} logs stand outside any BuildKit build (other commands' output)"
        );
    }
}

/// Says on stderr what the parser would not read: binary data, lines and
/// rawjson objects over `--max-line`, each with its file and line.
fn report_refused(logs: &[ParsedLog]) {
    for log in logs {
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
            eprintln!(
                "cachelens: {}:{line}: a line of {bytes} bytes is longer than --max-line: counted unparsed{more}",
                log.source
            );
        }
        for r in &log.refused {
            match r {
                Refused::Binary {
                    offset,
                    line,
                    lines,
                } => eprintln!(
                    "cachelens: {}:{line}: binary file (a NUL byte at offset {offset}): \
                     {lines} lines holding NUL bytes counted unparsed; if it is a build log, \
                     `tr -d '\\000'` removes them",
                    log.source
                ),
                Refused::LongObject { line } => eprintln!(
                    "cachelens: {}:{line}: a rawjson object longer than --max-line: its lines counted unparsed",
                    log.source
                ),
                Refused::LongLine { .. } => {}
            }
        }
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
