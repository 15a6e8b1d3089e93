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

mod cli;
mod cloud;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Err(message) = cli.check() {
        use clap::CommandFactory;
        cli::Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    match run::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if let Some(io) = err.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            say!("{}", message(&err));
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
