//! The `cachelens` command: parse arguments, dispatch, map errors to exit codes.

/// `eprintln!("cachelens: …")`, the text made safe for a terminal (log text and
/// file names in messages cannot drive it).
macro_rules! say {
    ($($arg:tt)*) => {
        eprintln!(
            "cachelens: {}",
            cachelens::report::escape::terminal(&format!($($arg)*))
        )
    };
}

mod builds;
mod cli;
mod cloud;
mod config;
mod generate;
mod run;
mod stream;
mod threads;
mod unread;

use std::process::ExitCode;

/// Each build's records are many small strings made and freed together.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches};

/// `mi_option_purge_delay` of `mimalloc.h` (v2 and v3), which the bindings do
/// not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system 10 ms after it is freed, not a second
/// (mimalloc 3's default): `report` frees each stage's data before the next,
/// and a report of 100,000 runs held 100 MB more for it. The
/// `MIMALLOC_PURGE_DELAY` variable still decides when set.
fn purge_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an option of the allocator linked in; any value is valid
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) }
    }
}

fn main() -> ExitCode {
    purge_freed_memory_soon();
    let matches = cli::Cli::command().get_matches();
    let mut cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // SAFETY: no thread exists yet: parsing the arguments and setting an
    // allocator option start none, and both pools are made later
    unsafe { threads::limit(cli.threads) };
    if let Err(message) = cli.check() {
        cli::Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    if let Some(kind) = cli.generate {
        let mut out = std::io::stdout().lock();
        return match generate::write(kind, &mut out).and_then(|()| std::io::Write::flush(&mut out))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                say!("--generate: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cli.command.is_none() {
        cli::Cli::command()
            .error(
                clap::error::ErrorKind::MissingSubcommand,
                "a command is needed (summary, steps, fetch, report, diagnose, builds, config), or --generate",
            )
            .exit();
    }
    match config::load(&config::Choice::of(&cli)) {
        Ok(loaded) => config::apply(&mut cli, &matches, &loaded.settings),
        Err(err) => {
            say!("{}", message(&err));
            return ExitCode::from(2);
        }
    }
    let result = if cli.parallel() {
        threads::on_the_pool(|| run::run(cli))
    } else {
        run::run(cli)
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            say!("{}", message(&err));
            if err.downcast_ref::<cli::Usage>().is_some() {
                say!("usage: cachelens <COMMAND> [LOG…|-] (`cachelens <COMMAND> --help` for more)");
                return ExitCode::from(cli::EXIT_USAGE);
            }
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause said once (an error that
/// prints its source already is not followed by it again).
fn message(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
