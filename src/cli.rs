//! Command-line arguments (clap derive). Exit codes are documented in `--help`.

use std::path::PathBuf;

use cachelens::analyze::ReadOptions;
use cachelens::model::{BuildId, Format};
use cachelens::parse::{DEFAULT_MAX_LINE, FormatIn, ParseOptions};
use cachelens::source::DEFAULT_MAX_INPUT;
use cachelens::source::s3::S3Url;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit code: a build's hit rate is below `--min-hit-rate`.
pub const EXIT_BELOW_MIN_HIT_RATE: u8 = 4;
/// Exit code: an input could not be read and was skipped (the others were
/// processed and printed), or output could not be written.
pub const EXIT_SKIPPED: u8 = 1;
/// Exit code: no input held a BuildKit build.
pub const EXIT_NO_BUILD: u8 = 3;
/// Exit code: wrong arguments (clap's own, and [`Usage`]).
pub const EXIT_USAGE: u8 = 2;

/// Arguments that clap accepts but that give nothing to do (no input and a
/// terminal on stdin): exit [`EXIT_USAGE`], with a hint.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit codes, for every `--help` (a macro so that each command's examples
/// can be put before it with `concat!`).
macro_rules! exit_codes {
    () => {
        "\
Exit codes:
  0  success
  1  an input could not be read (said on stderr; every other input was still
     processed and printed), or output could not be written
  2  wrong arguments
  3  no BuildKit build found in any input
  4  a build's hit rate is below --min-hit-rate (summary)"
    };
}

/// A command's `after_help`: its examples, then the exit codes.
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!("Examples:\n", $("  ", $line, "\n",)+ "\n", exit_codes!())
    };
}

/// See what the Docker build cache saves you, what it costs, and why it missed.
///
/// Configuration: cachelens.toml in the working directory, else
/// $XDG_CONFIG_HOME/cachelens/cachelens.toml (~/.config/cachelens/), or the file of
/// --config / CACHELENS_CONFIG; flags and their variables override it (`cachelens
/// config` shows what is in force and where each value comes from).
#[derive(Debug, Parser)]
#[command(
    name = "cachelens",
    version,
    about,
    after_help = examples!(
        "cachelens summary build.log                  # the post_build summary of a log",
        "docker buildx build --progress=plain . 2>&1 | tee build.log | cachelens summary",
        "cachelens report --archive ~/.cache/cachelens --offline --out weekly/",
        "cachelens --generate complete-bash > /etc/bash_completion.d/cachelens",
        "cachelens --generate man > /usr/local/share/man/man1/cachelens.1",
        "cachelens config                             # the configuration in force",
    ),
    subcommand_required = false
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Print a shell completion script or the man page (roff) to standard output, and exit.
    #[arg(long, value_enum, value_name = "KIND")]
    pub generate: Option<GenerateKind>,
    /// The configuration file (TOML) [default: CACHELENS_CONFIG, else
    /// ./cachelens.toml, else $XDG_CONFIG_HOME/cachelens/cachelens.toml].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long, global = true, conflicts_with = "config")]
    pub no_config: bool,
    /// Threads to work on, at most: reading the logs, the tables, writing the report
    /// [default: POLARS_MAX_THREADS, else RAYON_NUM_THREADS, else every core].
    #[arg(long, short = 'j', global = true, value_name = "N")]
    pub threads: Option<std::num::NonZeroUsize>,
}

/// `--generate`: what to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateKind {
    /// Bash completions.
    CompleteBash,
    /// Zsh completions.
    CompleteZsh,
    /// Fish completions.
    CompleteFish,
    /// PowerShell completions.
    CompletePowershell,
    /// The man page (roff), every subcommand in it.
    Man,
}

impl Cli {
    /// Whether the command's work runs on the thread pool: `summary` (without
    /// `--history`), `steps` and `config` read on one thread, and making the
    /// pool's threads would only add to their start.
    pub fn parallel(&self) -> bool {
        match &self.command {
            Some(Command::Summary(args)) => !args.cost.history.is_empty(),
            Some(Command::Steps(_) | Command::Config) | None => false,
            Some(_) => true,
        }
    }

    /// What clap cannot check: --until after --since, --generate alone.
    pub fn check(&self) -> Result<(), String> {
        if self.generate.is_some() && self.command.is_some() {
            return Err("--generate prints its output alone: give it no command".to_owned());
        }
        let cloud = match &self.command {
            Some(Command::Summary(a)) => &a.inputs.cloud,
            Some(Command::Steps(a)) => &a.inputs.cloud,
            Some(Command::Report(a)) => &a.inputs.cloud,
            Some(Command::Diagnose(a)) => &a.inputs.cloud,
            Some(Command::Fetch(a)) => &a.cloud,
            Some(Command::Builds(a)) => &a.inputs.cloud,
            Some(Command::Config) | None => return Ok(()),
        };
        match (cloud.since, cloud.until) {
            (Some(since), Some(until)) if until < since => Err(format!(
                "--until is {} before --since: nothing can lie between them (give the older time to --since)",
                humantime::format_duration(std::time::Duration::from_secs(
                    ((since - until) / 1000) as u64
                ))
            )),
            _ => Ok(()),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Post_build summary of each build: steps, hit rate, first miss, cache import/export.
    #[command(after_help = examples!(
        "cachelens summary build.log                     # a table per build in the log",
        "docker buildx build --progress=plain . 2>&1 | tee build.log | cachelens summary -",
        "cachelens summary --codebuild                   # inside CodeBuild: this build's own log",
        "cachelens summary --min-hit-rate 80 build.log   # exit 4 when a build hits < 80 %",
        "cachelens summary --format markdown build.log >> \"$GITHUB_STEP_SUMMARY\"",
        "cachelens summary --history old-logs/ build.log # + the time the hits saved",
    ))]
    Summary(SummaryArgs),
    /// Every vertex of every build as records (json, ndjson, csv).
    #[command(after_help = examples!(
        "cachelens steps build.log                       # {\"builds\": [...]}",
        "cachelens steps --format ndjson logs/           # one step per line; folders, .gz",
        "cachelens steps --format csv build.log > steps.csv",
    ))]
    Steps(StepsArgs),
    /// CloudWatch Logs into the local archive (incremental, resumable).
    #[command(after_help = examples!(
        "cachelens fetch --log-group /aws/codebuild/web --since 7d",
        "cachelens fetch --build-id web:0b4c7f3e-5d1a-4c2e-9f00-1a2b3c4d5e6f",
        "cachelens fetch --log-group /aws/codebuild/web --archive ./archive --region eu-west-1",
    ))]
    Fetch(FetchArgs),
    /// Aggregates over many builds: hit rates, time saved, cost; tables into a folder.
    #[command(after_help = examples!(
        "cachelens report --archive sample-logs/demo --cache-size-gb 12 --out reports/example",
        "cachelens report --log-group /aws/codebuild/web --since 30d --cache-repo web-cache --out weekly/",
        "cachelens report logs/ --pricing prices.toml --compute-type general1.medium --out r/",
    ))]
    Report(ReportArgs),
    /// Why a build missed the cache: first miss per stage, its cascade, the cause
    /// with evidence lines and a fix, against a baseline build that hit.
    #[command(after_help = examples!(
        "cachelens diagnose old.log new.log              # new.log's last build against an earlier hit",
        "cachelens diagnose --baseline good.log slow.log",
        "cachelens diagnose --all logs/                  # every build against its own baseline",
        "cachelens diagnose --format markdown new.log",
    ))]
    Diagnose(DiagnoseArgs),
    /// One line per build: source, project, hit rate and buildx's cached/total, time
    /// executed, first miss, cache import.
    #[command(after_help = examples!(
        "cachelens builds logs/                          # every log of a folder",
        "cachelens builds --archive ~/.cache/cachelens --offline",
        "cachelens builds --log-group /aws/codebuild/web --since 2d",
    ))]
    Builds(BuildsArgs),
    /// The configuration in force: each setting, its value and where it comes from.
    #[command(after_help = examples!(
        "cachelens config                                # ./cachelens.toml or the user's",
        "cachelens config --config ci/cachelens.toml",
        "CACHELENS_CONFIG=ci/cachelens.toml cachelens config",
    ))]
    Config,
}

/// `cachelens diagnose`.
#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// The build to compare with: the last build of this log. Default: the most
    /// recent earlier build of the inputs (same CodeBuild project and branch when
    /// known) in which the first miss was CACHED or that had a higher hit rate.
    #[arg(long, value_name = "LOG")]
    pub baseline: Option<PathBuf>,
    /// Diagnose every build of the inputs, not only the last one.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = DiagnoseFormatArg::Text)]
    pub format: DiagnoseFormatArg,
    /// Colours: auto (a terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// `--format` of `diagnose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnoseFormatArg {
    /// Text for a terminal or a CI log.
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// JSON for machines.
    Json,
}

/// `cachelens report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// The folder to write: created, or replaced whole when it is empty or a
    /// report cachelens wrote (it holds a `.cachelens-report` file); never an input.
    /// Or `s3://bucket/prefix/` (empty, or a report's): the report's files are
    /// replaced there and the window's weeks added to (or replaced in) its dataset.
    #[arg(long, value_name = "DIR|S3URL")]
    pub out: PathBuf,
    /// Replace --out even when it holds files cachelens did not write (they are deleted).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cost: CostArgs,
    /// The ECR repository holding the registry cache: its unique layers are measured
    /// (DescribeImages, BatchGetImage) for the storage cost.
    #[arg(long, value_name = "NAME", conflicts_with = "cache_size_gb")]
    pub cache_repo: Option<String>,
    /// The cache repository's size in GB, when it cannot be measured.
    #[arg(long, value_name = "GB")]
    pub cache_size_gb: Option<f64>,
    /// Colours of the verdict printed: auto (a terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

/// What time and money are worth, and where the typical step times come from.
#[derive(Debug, Args)]
#[command(next_help_heading = "Cost")]
pub struct CostArgs {
    /// Price table (TOML, any subset of the embedded one's keys) [default: embedded, dated].
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// CodeBuild compute type where the CodeBuild API did not say
    /// (`general1.medium`, `BUILD_GENERAL1_LARGE`, …) [default: general1.small].
    #[arg(long, value_name = "TYPE")]
    pub compute_type: Option<String>,
    /// More logs (files, folders) whose executed steps only add samples for the time
    /// a cached step saves, e.g. older builds of the same project.
    #[arg(long, value_name = "LOG")]
    pub history: Vec<PathBuf>,
}

/// Where logs come from.
#[derive(Debug, Args)]
pub struct Inputs {
    /// Log files, folders (their *.log, *.log.gz, *.txt and archived *.jsonl streams)
    /// or `-` for standard input; standard input when none is given, no CloudWatch
    /// source is chosen and it is not a terminal. Gzip is read as such, and a file
    /// cachelens archived (`fetch`) with its build id and metadata.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// Progress format of the logs: auto tells plain, rawjson and tty apart line by
    /// line (a log may change format); the others read only that one.
    #[arg(long, value_enum, default_value_t = FormatInArg::Auto)]
    pub format_in: FormatInArg,
    /// Print credentials found in log text as they are: by default AWS key ids,
    /// `*TOKEN*=`/`*SECRET*=`/`*PASSWORD*=` values, Authorization headers, GitHub,
    /// GitLab, npm and Slack tokens, private keys and URL passwords are `[redacted]`
    /// in every output.
    #[arg(long, env = "CACHELENS_NO_REDACT", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_redact: bool,
    /// The largest log read, after decompression (`256M`, `2G`, bytes) [default: none
    /// for steps and summary, which stream; 256M for the commands that keep every record].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_input_size: Option<u64>,
    /// The longest line (or pretty-printed rawjson object) read; longer ones are
    /// counted unparsed [default: 64M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_MAX_LINE as u64, hide_default_value = true)]
    pub max_line: u64,
    /// Also say, for each log, how many of its lines stand outside any BuildKit
    /// build (by default said only when they may be a misread).
    #[arg(long, short)]
    pub verbose: bool,
}

impl Inputs {
    /// How the inputs are read and parsed.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            parse: ParseOptions {
                format: self.format_in.into(),
                redact: !self.no_redact,
                max_line: usize::try_from(self.max_line).unwrap_or(usize::MAX),
            },
            max_input: self.max_input_size.unwrap_or(DEFAULT_MAX_INPUT),
        }
    }
}

/// CloudWatch Logs (through the local archive) as a source.
#[derive(Debug, Args)]
#[command(next_help_heading = "CloudWatch Logs and the archive")]
pub struct CloudArgs {
    /// A CodeBuild build (`project:uuid`): its log group and stream come from the
    /// CodeBuild API when allowed, else `/aws/codebuild/<project>` and `<uuid>`.
    #[arg(long, value_name = "PROJECT:UUID", conflicts_with = "log_group")]
    pub build_id: Option<BuildId>,
    /// A log group: its streams with events in --since/--until (default: the last 7 days).
    #[arg(long, value_name = "GROUP")]
    pub log_group: Option<String>,
    /// One stream of --log-group.
    #[arg(long, value_name = "STREAM", requires = "log_group")]
    pub log_stream: Option<String>,
    /// CodeBuild's S3 build logs (`s3://bucket/prefix/`, the project's S3 logs
    /// location): its `<uuid>.gz` objects written in --since/--until (default: the
    /// last 7 days) are read in parallel into the archive, each once.
    #[arg(long, value_name = "S3URL")]
    pub s3_logs: Option<S3Url>,
    /// Oldest events to take: a duration back from now (`7d`, `12h`) or a date/time
    /// (`2024-01-15`, `2024-01-15T10:00:00Z`).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub since: Option<i64>,
    /// Newest events to take, as --since.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub until: Option<i64>,
    /// The local archive [default: $XDG_CACHE_HOME/cachelens, ~/.cache/cachelens].
    /// Alone, without --log-group or --build-id, every archived stream is read.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// Read the archive only: no AWS call.
    #[arg(long)]
    pub offline: bool,
    /// Streams read at the same time.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// Attempts per AWS request (the SDK's standard retry with backoff, for throttling,
    /// 5xx and timeouts; each retry is told on stderr).
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub max_attempts: u32,
    /// Time to open a connection to AWS, per attempt.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub connect_timeout: std::time::Duration,
    /// Time to wait for AWS's answer, per attempt (an attempt ends after
    /// --connect-timeout + 2 × --read-timeout at most).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub read_timeout: std::time::Duration,
    /// Pages (of up to 10,000 events) between two checkpoints of a long stream.
    #[arg(long, value_name = "N", default_value_t = 10, hide = true)]
    pub checkpoint_pages: usize,
    /// Do not ask the CodeBuild API for build facts.
    #[arg(long)]
    pub no_codebuild_api: bool,
    /// AWS region [default: AWS_REGION, or the profile's].
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile [default: AWS_PROFILE, or `default`].
    #[arg(long)]
    pub profile: Option<String>,
    /// AWS endpoint (moto, LocalStack, a VPC endpoint) [default: AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
}

impl CloudArgs {
    /// Whether a CloudWatch or S3 source or the archive was chosen.
    pub fn chosen(&self) -> bool {
        self.build_id.is_some()
            || self.log_group.is_some()
            || self.s3_logs.is_some()
            || self.archive.is_some()
    }
}

/// `cachelens fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// `--format-in`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatInArg {
    /// Every format, as each line's shape says.
    Auto,
    /// `--progress=plain` output.
    Plain,
    /// `--progress=rawjson` output.
    Rawjson,
    /// The final frame of `--progress=tty` output (less precise).
    Tty,
}

impl From<FormatInArg> for FormatIn {
    fn from(arg: FormatInArg) -> Self {
        match arg {
            FormatInArg::Auto => FormatIn::Auto,
            FormatInArg::Plain => FormatIn::Only(Format::Plain),
            FormatInArg::Rawjson => FormatIn::Only(Format::Rawjson),
            FormatInArg::Tty => FormatIn::Only(Format::Tty),
        }
    }
}

/// `cachelens summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = SummaryFormatArg::Table)]
    pub format: SummaryFormatArg,
    /// Exit with code 4 when a build's hit rate is below PCT percent (0–100; `80` or `80%`).
    /// Builds without a cacheable step pass.
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub min_hit_rate: Option<f64>,
    /// List every vertex, not only Dockerfile steps and cache import/export.
    #[arg(long)]
    pub all_steps: bool,
    /// Colours: auto (a terminal and no NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Inside CodeBuild: summarise this build's own log (`--build-id $CODEBUILD_BUILD_ID`).
    #[arg(long, conflicts_with_all = ["build_id", "log_group"])]
    pub codebuild: bool,
    /// With --history: the time and compute dollars each build's cache hits saved.
    #[command(flatten)]
    pub cost: CostArgs,
}

/// `cachelens builds`.
#[derive(Debug, Args)]
pub struct BuildsArgs {
    #[command(flatten)]
    pub inputs: Inputs,
}

/// `cachelens steps`.
#[derive(Debug, Args)]
pub struct StepsArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = StepsFormatArg::Json)]
    pub format: StepsFormatArg,
}

/// `--format` of `summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormatArg {
    /// A compact table for a terminal or a CI log.
    Table,
    /// GitHub-flavoured Markdown ($GITHUB_STEP_SUMMARY, PR comments).
    Markdown,
    /// JSON for machines.
    Json,
}

/// `--format` of `steps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepsFormatArg {
    /// One object {"builds": [...]}.
    Json,
    /// One step per line with its build's source and index.
    Ndjson,
    /// One step per row.
    Csv,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// When standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `--since`/`--until`: epoch milliseconds from a duration back from now or a date/time.
fn parse_when(s: &str) -> Result<i64, String> {
    let now = std::time::SystemTime::now();
    let at = if let Ok(back) = humantime::parse_duration(s) {
        now.checked_sub(back)
            .ok_or_else(|| format!("`{s}` is too far back"))?
    } else if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        t
    } else if let Ok(t) = humantime::parse_rfc3339_weak(&format!("{s} 00:00:00")) {
        t
    } else {
        return Err(format!(
            "`{s}` is neither a duration (7d, 12h) nor a date (2024-01-15, 2024-01-15T10:00:00Z)"
        ));
    };
    let ms = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("`{s}` is before 1970"))?
        .as_millis();
    i64::try_from(ms).map_err(|_| format!("`{s}` is too far ahead"))
}

/// `256M`, `2G`, `64KiB`, `1000`: bytes (K, M, G are 1024-based).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("`{s}` is not a size (256M, 2G, bytes)")),
    };
    n.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{s}` is not a size (256M, 2G, bytes)"))
}

pub(crate) fn parse_percent(s: &str) -> Result<f64, String> {
    let n: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage"))?;
    if (0.0..=100.0).contains(&n) {
        Ok(n / 100.0)
    } else {
        Err(format!("`{s}` is not between 0 and 100"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_commands_that_work_in_parallel_make_the_pool() {
        let parallel = |args: &str| {
            Cli::try_parse_from(args.split(' '))
                .map(|cli| cli.parallel())
                .unwrap_or_else(|e| panic!("{args}: {e}"))
        };
        assert!(!parallel("cachelens summary x.log"));
        assert!(!parallel("cachelens steps --format ndjson x.log"));
        assert!(!parallel("cachelens config"));
        assert!(parallel("cachelens summary --history old x.log"));
        assert!(parallel("cachelens report --out r x.log"));
        assert!(parallel("cachelens builds x.log"));
    }

    #[test]
    fn percentages() {
        assert_eq!(parse_percent("80"), Ok(0.8));
        assert_eq!(parse_percent("100%"), Ok(1.0));
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("x").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_when("2024-01-15"), Ok(1_705_276_800_000));
        assert_eq!(parse_when("2024-01-15T10:00:00Z"), Ok(1_705_312_800_000));
        let week = parse_when("7d").unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!((now - week - 7 * 86_400_000).abs() < 60_000);
        assert!(parse_when("last tuesday").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
