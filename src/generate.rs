//! `cachelens --generate KIND`: shell completions and the man page, made from the
//! command line's own definition (as ripgrep does), so they never fall behind it.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, GenerateKind};

/// Writes the completion script or the man page of `kind`.
pub fn write(kind: GenerateKind, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Cli::command();
    let shell = match kind {
        GenerateKind::CompleteBash => Shell::Bash,
        GenerateKind::CompleteZsh => Shell::Zsh,
        GenerateKind::CompleteFish => Shell::Fish,
        GenerateKind::CompletePowershell => Shell::PowerShell,
        GenerateKind::Man => return man(cmd, out),
    };
    // clap_complete panics when its writer fails (a closed pipe): it writes into
    // memory, and only this write can fail
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cachelens", &mut script);
    out.write_all(&script)
}

/// One page, `cachelens(1)`: the top level as clap_mangen renders it, then a
/// section per subcommand with its whole `--help` (options, examples, exit codes).
fn man(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = cmd.term_width(78);
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    for sub in cmd.get_subcommands_mut() {
        let name = sub.get_name().to_owned();
        let help = sub.render_long_help().to_string();
        writeln!(out, ".SH \"CACHELENS {}\"", name.to_uppercase())?;
        writeln!(out, ".nf")?;
        for line in help.lines() {
            writeln!(out, "{}", roff_line(line))?;
        }
        writeln!(out, ".fi")?;
    }
    man.render_extra_section(out)?;
    man.render_version_section(out)?;
    Ok(())
}

/// A line of text in a no-fill block: backslashes escaped, and a line that would
/// read as a request (`.` or `'` first) guarded.
fn roff_line(line: &str) -> String {
    let text = line.replace('\\', "\\e");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(kind: GenerateKind) -> String {
        let mut out = Vec::new();
        write(kind, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_kind_names_every_subcommand() {
        for kind in [
            GenerateKind::CompleteBash,
            GenerateKind::CompleteZsh,
            GenerateKind::CompleteFish,
            GenerateKind::CompletePowershell,
            GenerateKind::Man,
        ] {
            let text = generated(kind);
            for sub in [
                "summary", "steps", "fetch", "report", "diagnose", "builds", "config",
            ] {
                assert!(text.contains(sub), "{kind:?} lacks {sub}");
            }
            assert!(text.contains("min-hit-rate"), "{kind:?} lacks a flag");
        }
    }

    #[test]
    fn man_page_is_roff_with_every_command_section() {
        let text = generated(GenerateKind::Man);
        assert!(text.starts_with(".ie \\n(.g .ds Aq") || text.starts_with(".TH"));
        assert!(text.contains(".TH cachelens 1"));
        assert!(text.contains(".SH \"CACHELENS SUMMARY\""));
        assert!(text.contains("Examples:"));
        assert_eq!(roff_line(".hidden"), "\\&.hidden");
        assert_eq!(roff_line("a\\b"), "a\\eb");
    }
}
