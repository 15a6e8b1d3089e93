//! The configuration file: what people repeat on every run (the log group, the
//! cache repository, the compute type, the price table, the hit-rate gate,
//! redaction), in `cachelens.toml`.
//!
//! Which file: `--config FILE`, else `$CACHELENS_CONFIG`, else `cachelens.toml`
//! in the working directory, else `$XDG_CONFIG_HOME/cachelens/cachelens.toml`
//! (`~/.config/cachelens/cachelens.toml`); the first found is the one read, none
//! is merged with another. `--no-config` reads none. A flag (or its variable,
//! `CACHELENS_NO_REDACT`) overrides the file; the file overrides the defaults.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::builder::{BoolishValueParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use serde::Deserialize;

use cachelens::report::escape::terminal;

use crate::cli::{Cli, Command, Inputs, parse_percent};

/// The file's name, in the working directory and the user's config folder.
pub const FILE_NAME: &str = "cachelens.toml";
/// The variable naming the file.
pub const ENV: &str = "CACHELENS_CONFIG";

/// What the file may set; every key is the flag of the same name.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Settings {
    /// `--log-group`: what `fetch`, and `report` given no source, read.
    pub log_group: Option<String>,
    /// `report --cache-repo`.
    pub cache_repo: Option<String>,
    /// `--compute-type`.
    pub compute_type: Option<String>,
    /// `--pricing` (relative to the file's folder).
    pub pricing: Option<PathBuf>,
    /// `summary --min-hit-rate`: `80`, `80.5` or `"80%"`.
    #[serde(default, deserialize_with = "percent")]
    pub min_hit_rate: Option<f64>,
    /// `false` is `--no-redact`.
    pub redact: Option<bool>,
}

fn percent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Pct {
        Int(i64),
        Float(f64),
        Text(String),
    }
    let text = match Pct::deserialize(d)? {
        Pct::Int(n) => n.to_string(),
        Pct::Float(x) => x.to_string(),
        Pct::Text(t) => t,
    };
    parse_percent(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// How the file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Env,
    WorkingDir,
    UserDir,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "--config",
            Origin::Env => "CACHELENS_CONFIG",
            Origin::WorkingDir => "the working directory",
            Origin::UserDir => "the user's config folder",
        }
    }
}

/// What the command line says about the file.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub flag: Option<PathBuf>,
    pub none: bool,
}

impl Choice {
    pub fn of(cli: &Cli) -> Self {
        Choice {
            flag: cli.config.clone(),
            none: cli.no_config,
        }
    }
}

/// The file read (if any) and its settings.
#[derive(Debug, Default)]
pub struct Loaded {
    pub file: Option<(PathBuf, Origin)>,
    pub settings: Settings,
    /// Where it was looked for, in order, when no file was named.
    pub searched: Vec<PathBuf>,
}

/// `$XDG_CONFIG_HOME/cachelens/cachelens.toml`, or `~/.config/cachelens/cachelens.toml`
/// (an XDG_CONFIG_HOME that is not absolute is ignored, as the spec says).
fn user_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))?;
    Some(base.join("cachelens").join(FILE_NAME))
}

/// Finds and reads the file the choice and the environment select.
pub fn load(choice: &Choice) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    if choice.none {
        return Ok(loaded);
    }
    let named = match (&choice.flag, std::env::var_os(ENV)) {
        (Some(path), _) => Some((path.clone(), Origin::Flag)),
        (None, Some(path)) if !path.is_empty() => Some((PathBuf::from(path), Origin::Env)),
        _ => None,
    };
    let found = match named {
        Some(named) => Some(named),
        None => {
            let mut candidates = vec![(PathBuf::from(FILE_NAME), Origin::WorkingDir)];
            candidates.extend(user_file().map(|p| (p, Origin::UserDir)));
            loaded.searched = candidates.iter().map(|(p, _)| p.clone()).collect();
            candidates.into_iter().find(|(p, _)| p.is_file())
        }
    };
    let Some((path, origin)) = found else {
        return Ok(loaded);
    };
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "config file {} (from {})",
            path.display(),
            origin.describe()
        )
    })?;
    let path = std::path::absolute(&path).unwrap_or(path);
    loaded.settings = parse(&text, &path)?;
    loaded.file = Some((path, origin));
    Ok(loaded)
}

/// The settings of a file's text; relative paths are taken from the file's folder.
pub fn parse(text: &str, path: &Path) -> Result<Settings> {
    let mut settings: Settings = toml::from_str(text).map_err(|e| {
        anyhow::anyhow!(
            "config file {}: {}",
            path.display(),
            e.to_string().trim_end()
        )
    })?;
    if let Some(p) = &settings.pricing
        && p.is_relative()
    {
        let dir = path.parent().unwrap_or(Path::new(""));
        settings.pricing = Some(dir.join(p));
    }
    if settings.log_group.as_deref() == Some("") {
        bail!("config file {}: log-group is empty", path.display());
    }
    Ok(settings)
}

/// Puts the file's settings where the command line left them unset.
pub fn apply(cli: &mut Cli, matches: &ArgMatches, settings: &Settings) {
    let sub = matches.subcommand().map(|(_, m)| m);
    let redact_given = sub.is_some_and(|m| {
        m.try_contains_id("no_redact").unwrap_or(false)
            && m.value_source("no_redact")
                .is_some_and(|s| s != ValueSource::DefaultValue)
    });
    let redaction = |inputs: &mut Inputs| {
        if let (false, Some(redact)) = (redact_given, settings.redact) {
            inputs.no_redact = !redact;
        }
    };
    let cost = |cost: &mut crate::cli::CostArgs| {
        if cost.compute_type.is_none() {
            cost.compute_type.clone_from(&settings.compute_type);
        }
        if cost.pricing.is_none() {
            cost.pricing.clone_from(&settings.pricing);
        }
    };
    match &mut cli.command {
        Some(Command::Summary(a)) => {
            redaction(&mut a.inputs);
            cost(&mut a.cost);
            if a.min_hit_rate.is_none() {
                a.min_hit_rate = settings.min_hit_rate;
            }
        }
        Some(Command::Steps(a)) => redaction(&mut a.inputs),
        Some(Command::Builds(a)) => redaction(&mut a.inputs),
        Some(Command::Diagnose(a)) => redaction(&mut a.inputs),
        Some(Command::Report(a)) => {
            redaction(&mut a.inputs);
            cost(&mut a.cost);
            if a.cache_repo.is_none() && a.cache_size_gb.is_none() {
                a.cache_repo.clone_from(&settings.cache_repo);
            }
            // only when no source is named: a named log or --archive is what the user asked
            if a.inputs.logs.is_empty() && !a.inputs.cloud.chosen() {
                a.inputs.cloud.log_group.clone_from(&settings.log_group);
            }
        }
        Some(Command::Fetch(a)) => {
            if a.cloud.build_id.is_none()
                && a.cloud.log_group.is_none()
                && a.cloud.s3_logs.is_none()
            {
                a.cloud.log_group.clone_from(&settings.log_group);
            }
        }
        Some(Command::Config) | None => {}
    }
}

/// `cachelens config`: the file read, then each setting, its value and where it comes from.
pub fn command(choice: &Choice) -> Result<u8> {
    let loaded = load(choice)?;
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    match (&loaded.file, choice.none) {
        (Some((path, origin)), _) => text.push_str(&format!(
            "config file   {} (from {})\n",
            path.display(),
            origin.describe()
        )),
        (None, true) => text.push_str("config file   none (--no-config)\n"),
        (None, false) => text.push_str(&format!(
            "config file   none (looked for {})\n",
            loaded
                .searched
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    let s = &loaded.settings;
    let from_file = "config file";
    let row = |key: &str, value: Option<String>, default: &str, used: &str| {
        let (value, from) = match value {
            Some(v) => (v, from_file),
            None => (default.to_owned(), "default"),
        };
        format!("{key:<13} {value:<28} {from:<12} ({used})\n")
    };
    text.push_str(&row(
        "log-group",
        s.log_group.clone(),
        "none",
        "fetch, and report given no source",
    ));
    text.push_str(&row("cache-repo", s.cache_repo.clone(), "none", "report"));
    text.push_str(&row(
        "compute-type",
        s.compute_type.clone(),
        cachelens::cost::DEFAULT_COMPUTE_TYPE,
        "where the CodeBuild API did not say",
    ));
    text.push_str(&row(
        "pricing",
        s.pricing.as_ref().map(|p| p.display().to_string()),
        "embedded",
        "summary --history, report",
    ));
    text.push_str(&row(
        "min-hit-rate",
        s.min_hit_rate.map(|x| format!("{}%", x * 100.0)),
        "none",
        "summary's exit 4",
    ));
    // read as the flag reads it (cli.rs: `--no-redact`, BoolishValueParser)
    let env_redact = match std::env::var_os("CACHELENS_NO_REDACT").filter(|v| !v.is_empty()) {
        Some(v) => Some(
            BoolishValueParser::new()
                .parse_ref(&Cli::command(), None, &v)
                .map_err(|e| anyhow::anyhow!("CACHELENS_NO_REDACT: {}", e.kind()))?,
        ),
        None => None,
    };
    let (redact, from) = match (env_redact, s.redact) {
        (Some(no), _) => (!no, "CACHELENS_NO_REDACT"),
        (None, Some(r)) => (r, from_file),
        (None, None) => (true, "default"),
    };
    text.push_str(&format!(
        "{:<13} {:<28} {from:<12} (every output)\n",
        "redact",
        if redact { "on" } else { "off" }
    ));
    // the pool's own size, as made
    let (threads, from) = crate::threads::in_force();
    text.push_str(&format!(
        "{:<13} {threads:<28} {from:<12} (reading, tables, writing; --threads)\n",
        "threads"
    ));
    text.push_str("flags given to a command override every value above\n");
    for line in text.lines() {
        writeln!(out, "{}", terminal(line))?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_read() {
        let s = parse(
            "log-group = \"/aws/codebuild/web\"\ncache-repo = \"web-cache\"\n\
             compute-type = \"general1.medium\"\npricing = \"prices.toml\"\n\
             min-hit-rate = \"75%\"\nredact = false\n",
            Path::new("/etc/ci/cachelens.toml"),
        )
        .unwrap();
        assert_eq!(s.log_group.as_deref(), Some("/aws/codebuild/web"));
        assert_eq!(s.cache_repo.as_deref(), Some("web-cache"));
        assert_eq!(s.compute_type.as_deref(), Some("general1.medium"));
        assert_eq!(s.pricing, Some(PathBuf::from("/etc/ci/prices.toml")));
        assert_eq!(s.min_hit_rate, Some(0.75));
        assert_eq!(s.redact, Some(false));
    }

    #[test]
    fn percentages_as_numbers_or_text() {
        let p = Path::new("c.toml");
        assert_eq!(
            parse("min-hit-rate = 80", p).unwrap().min_hit_rate,
            Some(0.8)
        );
        assert_eq!(
            parse("min-hit-rate = 12.5", p).unwrap().min_hit_rate,
            Some(0.125)
        );
        assert!(parse("min-hit-rate = 180", p).is_err());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_naming_the_file() {
        let err = parse("log_groups = []", Path::new("x/cachelens.toml")).unwrap_err();
        assert!(err.to_string().contains("x/cachelens.toml"), "{err}");
        assert!(err.to_string().contains("log_groups"), "{err}");
        assert!(parse("redact = \"no\"", Path::new("c.toml")).is_err());
        assert!(parse("log-group = \"\"", Path::new("c.toml")).is_err());
    }

    fn cli_with(args: &[&str], file: &str) -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        let mut cli = Cli::from_arg_matches(&matches).unwrap();
        let settings = parse(file, Path::new("/cfg/cachelens.toml")).unwrap();
        apply(&mut cli, &matches, &settings);
        cli
    }

    const FILE: &str = "log-group = \"/aws/codebuild/web\"\ncache-repo = \"web-cache\"\n\
        compute-type = \"general1.large\"\npricing = \"p.toml\"\nmin-hit-rate = 70\nredact = false\n";

    #[test]
    fn the_file_fills_what_flags_left_unset() {
        let Some(Command::Summary(a)) = cli_with(&["cachelens", "summary", "b.log"], FILE).command
        else {
            panic!()
        };
        assert_eq!(a.min_hit_rate, Some(0.7));
        assert!(a.inputs.no_redact);
        assert_eq!(a.cost.compute_type.as_deref(), Some("general1.large"));
        assert_eq!(a.cost.pricing, Some(PathBuf::from("/cfg/p.toml")));
        // a named log is not joined by the file's log group
        assert_eq!(a.inputs.cloud.log_group, None);
        let Some(Command::Report(r)) =
            cli_with(&["cachelens", "report", "--out", "r"], FILE).command
        else {
            panic!()
        };
        assert_eq!(
            r.inputs.cloud.log_group.as_deref(),
            Some("/aws/codebuild/web")
        );
        assert_eq!(r.cache_repo.as_deref(), Some("web-cache"));
        let Some(Command::Fetch(f)) = cli_with(&["cachelens", "fetch"], FILE).command else {
            panic!()
        };
        assert_eq!(f.cloud.log_group.as_deref(), Some("/aws/codebuild/web"));
    }

    #[test]
    fn flags_override_the_file() {
        let Some(Command::Summary(a)) = cli_with(
            &[
                "cachelens",
                "summary",
                "--min-hit-rate",
                "90",
                "--compute-type",
                "arm1.small",
                "--pricing",
                "mine.toml",
                "b.log",
            ],
            FILE,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(a.min_hit_rate, Some(0.9));
        assert_eq!(a.cost.compute_type.as_deref(), Some("arm1.small"));
        assert_eq!(a.cost.pricing, Some(PathBuf::from("mine.toml")));
        let Some(Command::Report(r)) = cli_with(
            &[
                "cachelens",
                "report",
                "--cache-size-gb",
                "3",
                "--archive",
                "a",
                "--out",
                "r",
            ],
            FILE,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(
            r.cache_repo, None,
            "--cache-size-gb rules out the file's repo"
        );
        assert_eq!(
            r.inputs.cloud.log_group, None,
            "--archive is the source asked for"
        );
        let Some(Command::Fetch(f)) = cli_with(
            &["cachelens", "fetch", "--log-group", "/aws/codebuild/api"],
            FILE,
        )
        .command
        else {
            panic!()
        };
        assert_eq!(f.cloud.log_group.as_deref(), Some("/aws/codebuild/api"));
    }

    #[test]
    fn redaction_flag_overrides_the_file() {
        let on = "redact = true\n";
        let Some(Command::Steps(a)) =
            cli_with(&["cachelens", "steps", "--no-redact", "b.log"], on).command
        else {
            panic!()
        };
        assert!(a.inputs.no_redact);
        let Some(Command::Steps(a)) = cli_with(&["cachelens", "steps", "b.log"], on).command else {
            panic!()
        };
        assert!(!a.inputs.no_redact);
    }
}
