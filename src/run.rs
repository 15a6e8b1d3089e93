//! What each subcommand does, on top of the library.

use std::borrow::Borrow;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, bail};

use cachelens::analyze::billing::fill_savings;
use cachelens::analyze::frames::{Gathered, Options, Storage, analyze};
use cachelens::analyze::hygiene::Hygiene;
use cachelens::analyze::{ReadOptions, parse_sources, parse_sources_then};
use cachelens::cost::Pricing;
use cachelens::model::{Build, BuildId, ParsedLog};
use cachelens::report::tables;
use cachelens::report::{self, StepsFormat, SummaryFormat, TableOptions};
use cachelens::safe_write::{self, OutDir};
use cachelens::source::s3::S3Url;
use cachelens::source::{Source, expand};
use cachelens::summary::SourceSummary;

use crate::cli::{
    Cli, ColorArg, Command, CostArgs, DiagnoseArgs, DiagnoseFormatArg, EXIT_BELOW_MIN_HIT_RATE,
    EXIT_NO_BUILD, EXIT_SKIPPED, Inputs, ReportArgs, StepsFormatArg, SummaryArgs, SummaryFormatArg,
    Usage,
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
            let format = match args.format {
                SummaryFormatArg::Table => SummaryFormat::Table,
                SummaryFormatArg::Markdown => SummaryFormat::Markdown,
                SummaryFormatArg::Json => SummaryFormat::Json,
            };
            let options = TableOptions {
                color: use_color(args.color),
                all_steps: args.all_steps,
            };
            let found = if args.cost.history.is_empty() {
                let sources = sources(&args.inputs, build_id)?;
                let found = crate::stream::summary(
                    &sources,
                    &args.inputs,
                    format,
                    options,
                    args.min_hit_rate,
                )?;
                if format == SummaryFormat::Table {
                    crate::builds::savings_hint(found.cached);
                }
                found
            } else {
                summary_with_history(&args, build_id, format, options)?
            };
            if found.builds == 0 {
                return Ok(EXIT_NO_BUILD);
            }
            if let Some(min) = args.min_hit_rate {
                for (source, index, rate) in &found.below {
                    say!(
                        "{source} build {}: hit rate {:.0}% is below --min-hit-rate {:.0}%",
                        index + 1,
                        rate.unwrap_or(0.0) * 100.0,
                        min * 100.0
                    );
                }
                if !found.below.is_empty() {
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
            let format = match args.format {
                StepsFormatArg::Json => StepsFormat::Json,
                StepsFormatArg::Ndjson => StepsFormat::Ndjson,
                StepsFormatArg::Csv => StepsFormat::Csv,
            };
            let found = crate::stream::steps(&sources(&args.inputs, None)?, &args.inputs, format)?;
            Ok(if found { 0 } else { EXIT_NO_BUILD })
        }
    }
}

/// `summary --history`: the logs read whole, their builds priced from the
/// typical step times of the history.
fn summary_with_history(
    args: &SummaryArgs,
    build_id: Option<BuildId>,
    format: SummaryFormat,
    options: TableOptions,
) -> Result<crate::stream::Found> {
    let logs = load(&args.inputs, build_id)?;
    let mut summaries: Vec<SourceSummary<'_>> = logs.iter().map(SourceSummary::of).collect();
    if found_builds(&logs) {
        add_savings(&mut summaries, &logs, &args.cost, &args.inputs)?;
    }
    write_out(|out| report::write_summary(format, &summaries, options, out))?;
    let mut found = crate::stream::Found::default();
    for s in summaries.iter().flat_map(|s| &s.builds) {
        found.builds += 1;
        found.cached += s.cached;
        if args.min_hit_rate.is_some_and(|min| s.below(min)) {
            found.below.push((s.source.to_owned(), s.index, s.hit_rate));
        }
    }
    Ok(found)
}

/// The logs of `--history`.
fn history(cost: &CostArgs, inputs: &Inputs) -> Result<Vec<ParsedLog>> {
    history_then(cost, inputs, |log| log)
}

/// [`history`], each log handed to `then` as it is read.
fn history_then<T: Send + Borrow<ParsedLog>>(
    cost: &CostArgs,
    inputs: &Inputs,
    then: impl Fn(ParsedLog) -> T + Sync,
) -> Result<Vec<T>> {
    if cost.history.is_empty() {
        return Ok(Vec::new());
    }
    let parsed = parse_reporting(
        &expand_reporting(&cost.history),
        &inputs.read_options(),
        then,
    );
    crate::unread::Unread::of(&parsed).say(inputs.verbose);
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
    inputs: &Inputs,
) -> Result<()> {
    let history = history(cost, inputs)?;
    let pricing = pricing(cost)?;
    let options = Options {
        compute_type: cost.compute_type.clone(),
        ..Options::new(&pricing)
    };
    let analysis = analyze(logs, &history, &options)?;
    fill_savings(summaries, &analysis, &pricing)?;
    Ok(())
}

/// `cachelens report`: analyse, write the tables, print the headline.
fn report(args: &ReportArgs) -> Result<u8> {
    // to S3: made in a temporary folder, then uploaded
    let to_s3: Option<S3Url> = if S3Url::is_s3(args.out.as_os_str()) {
        if args.force {
            bail!(
                "--force does not apply to an s3:// --out: cachelens never deletes objects there"
            );
        }
        Some(args.out.to_string_lossy().parse()?)
    } else {
        None
    };
    let staging = to_s3.as_ref().map(|_| tempfile::tempdir()).transpose()?;
    let folder = match &staging {
        Some(dir) => dir.path().join("report"),
        None => args.out.clone(),
    };
    let out = OutDir::check(
        &folder,
        &report_inputs(args),
        safe_write::REPORT,
        args.force,
    )?;
    let pricing = pricing(&args.cost)?;
    let mut options = Options {
        compute_type: args.cost.compute_type.clone(),
        since_ms: args.inputs.cloud.since,
        until_ms: args.inputs.cloud.until,
        storage: None,
        pricing: &pricing,
    };
    // each log's rows made as it is read: the logs and their rows are never
    // all held at once
    let gathering = Gathered::gathering(&options);
    let logs = load_then(&args.inputs, None, |log| gathering.read(log, true))?;
    if !found_builds(&logs) {
        return Ok(EXIT_NO_BUILD);
    }
    let history = history_then(&args.cost, &args.inputs, |log| gathering.read(log, false))?;
    let mut hygiene = None;
    options.storage = match (&args.cache_repo, args.cache_size_gb) {
        (Some(repo), _) => {
            let (size, policy) = cloud::repository_size(&args.inputs.cloud, repo)?;
            // ages are counted to the window's end, else now
            let as_of = args.inputs.cloud.until.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64)
            });
            hygiene = Some(Hygiene::of(repo, &size, &policy, as_of, &pricing));
            Some(Storage::of_repository(repo, &size))
        }
        (None, Some(gb)) => Some(Storage::given(gb)),
        (None, None) => None,
    };
    // the tables need no log: a report of 100,000 runs holds a gigabyte of them
    let gathered = gathering.gathered(logs, history);
    let sources: Vec<String> = gathered.sources().map(str::to_owned).collect();
    let analysis = gathered.analyze(&options)?;
    let location = to_s3.as_ref().map_or_else(
        || report::dataset::PLACEHOLDER_LOCATION.to_owned(),
        S3Url::to_string,
    );
    tables::write(
        &analysis,
        &pricing,
        &sources,
        hygiene.as_ref(),
        &out,
        &location,
    )?;
    if let Some(url) = &to_s3 {
        cloud::upload_report(&args.inputs.cloud, url, &folder)?;
    }
    let color = use_color(args.color);
    write_out(|out| report::headline::write(&analysis.totals, &args.out, color, out))?;
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
    let mut others = parse_reporting(&extra, &args.inputs.read_options(), |log| log);
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
    crate::unread::Unread::of(&parsed).say(args.inputs.verbose);
    match parsed.into_iter().flat_map(|l| l.builds).last() {
        Some(b) => Ok(b),
        None => bail!("--baseline {}: no BuildKit build found", path.display()),
    }
}

/// Whether any log held a BuildKit build.
fn found_builds<L: Borrow<ParsedLog>>(logs: &[L]) -> bool {
    logs.iter().any(|l| !l.borrow().builds.is_empty())
}

/// Reads and parses the inputs; tells on stderr what could not be parsed.
fn load(inputs: &Inputs, build_id: Option<BuildId>) -> Result<Vec<ParsedLog>> {
    load_then(inputs, build_id, |log| log)
}

/// [`load`], each log handed to `then` as it is read.
fn load_then<T: Send + Borrow<ParsedLog>>(
    inputs: &Inputs,
    build_id: Option<BuildId>,
    then: impl Fn(ParsedLog) -> T + Sync,
) -> Result<Vec<T>> {
    let sources = sources(inputs, build_id)?;
    let parsed = parse_reporting(&sources, &inputs.read_options(), then);
    crate::unread::Unread::of(&parsed).say(inputs.verbose);
    Ok(parsed)
}

/// The sources the inputs name (CloudWatch streams fetched into the archive first).
pub(crate) fn sources(inputs: &Inputs, build_id: Option<BuildId>) -> Result<Vec<Source>> {
    let cloud = inputs.cloud.chosen() || build_id.is_some();
    let mut sources = if !inputs.logs.is_empty() {
        expand_reporting(&inputs.logs)
    } else if cloud {
        Vec::new()
    } else if io::stdin().is_terminal() {
        return Err(Usage(
            "no input: give LOG files or folders, --archive DIR, --log-group/--build-id, or pipe a build log in (`… | cachelens summary -`)"
                .to_owned(),
        )
        .into());
    } else {
        vec![Source::Stdin]
    };
    if cloud {
        sources.extend(cloud::sources(&inputs.cloud, build_id)?);
    }
    Ok(sources)
}

/// [`expand`], reporting what is skipped.
fn expand_reporting(args: &[PathBuf]) -> Vec<Source> {
    let mut skipped = Vec::new();
    let sources = expand(args, &mut skipped);
    skipped.iter().for_each(|e| skip(e));
    sources
}

/// [`parse_sources_then`], reporting what is skipped.
fn parse_reporting<T: Send>(
    sources: &[Source],
    options: &ReadOptions,
    then: impl Fn(ParsedLog) -> T + Sync,
) -> Vec<T> {
    let (parsed, skipped) = parse_sources_then(sources, options, then);
    skipped.iter().for_each(|e| skip(e));
    parsed
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

/// What standard output is written in: stdout's own writer ends a write at
/// its last line end, so 8 KiB pieces (`BufWriter`'s default) were two system
/// calls each: 130,755 for 608 MB of NDJSON, 4,315 now, and a third less
/// system time through a pipe.
const OUT_BUFFER: usize = 256 << 10;

/// Runs `f` on standard output, buffered ([`OUT_BUFFER`]), and flushes it.
pub(crate) fn write_out(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(OUT_BUFFER, stdout.lock());
    f(&mut out)?;
    out.flush()?;
    Ok(())
}
