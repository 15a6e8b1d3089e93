//! Command-line arguments (clap derive). Exit codes are documented in `--help`.

use std::path::PathBuf;

use cachelens::model::Format;
use cachelens::parse::FormatIn;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit code: a build's hit rate is below `--min-hit-rate`.
pub const EXIT_BELOW_MIN_HIT_RATE: u8 = 4;
/// Exit code: no input held a BuildKit build.
pub const EXIT_NO_BUILD: u8 = 3;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  an input could not be read, or output could not be written
  2  wrong arguments
  3  no BuildKit build found in any input
  4  a build's hit rate is below --min-hit-rate (summary)";

/// See what the Docker build cache saves you, what it costs, and why it missed.
#[derive(Debug, Parser)]
#[command(name = "cachelens", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Post_build summary of each build: steps, hit rate, first miss, cache import/export.
    #[command(after_help = EXIT_CODES)]
    Summary(SummaryArgs),
    /// Every vertex of every build as records (json, ndjson, csv).
    #[command(after_help = EXIT_CODES)]
    Steps(StepsArgs),
}

/// Where logs come from.
#[derive(Debug, Args)]
pub struct Inputs {
    /// Log files, folders (their *.log, *.log.gz, *.txt) or `-` for standard input;
    /// standard input when none is given and it is not a terminal. Gzip is read as such.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Progress format of the logs: auto tells plain, rawjson and tty apart line by
    /// line (a log may change format); the others read only that one.
    #[arg(long, value_enum, default_value_t = FormatInArg::Auto)]
    pub format_in: FormatInArg,
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

fn parse_percent(s: &str) -> Result<f64, String> {
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
    fn percentages() {
        assert_eq!(parse_percent("80"), Ok(0.8));
        assert_eq!(parse_percent("100%"), Ok(1.0));
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("x").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
