//! The configuration file and `--generate`, through the binary: which file is
//! read (--config, CACHELENS_CONFIG, the working directory, XDG_CONFIG_HOME),
//! that flags and their variables override it, and the five generated outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

/// The real log of a build that hit 3 of 5 cacheable steps (60 %).
fn log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/real/nodeapp-partial-src-change.log")
}

/// The binary in `cwd`, with an empty user config folder unless `xdg` names one.
fn run(cwd: &Path, xdg: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("CACHELENS_CONFIG")
        .env_remove("CACHELENS_NO_REDACT")
        .env_remove("POLARS_MAX_THREADS")
        .env_remove("RAYON_NUM_THREADS")
        .env("XDG_CONFIG_HOME", xdg)
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn gate(cwd: &Path, xdg: &Path, env: &[(&str, &str)], extra: &[&str]) -> i32 {
    let log = log();
    let mut args = vec!["summary"];
    args.extend_from_slice(extra);
    args.push(log.to_str().unwrap());
    run(cwd, xdg, env, &args).status.code().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

struct Dirs {
    _tmp: tempfile::TempDir,
    cwd: PathBuf,
    xdg: PathBuf,
    other: PathBuf,
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("work");
    let xdg = tmp.path().join("xdg");
    let other = tmp.path().join("other");
    for d in [&cwd, &xdg.join("cachelens"), &other] {
        std::fs::create_dir_all(d).unwrap();
    }
    Dirs {
        _tmp: tmp,
        cwd,
        xdg,
        other,
    }
}

#[test]
fn precedence_flag_over_env_over_working_dir_over_user_dir() {
    let d = dirs();
    // the user's file alone: its gate (70 %) fails a 60 % build
    std::fs::write(
        d.xdg.join("cachelens/cachelens.toml"),
        "min-hit-rate = 70\n",
    )
    .unwrap();
    assert_eq!(gate(&d.cwd, &d.xdg, &[], &[]), 4);
    // the working directory's file wins over the user's
    std::fs::write(d.cwd.join("cachelens.toml"), "min-hit-rate = \"50%\"\n").unwrap();
    assert_eq!(gate(&d.cwd, &d.xdg, &[], &[]), 0);
    // CACHELENS_CONFIG wins over the working directory's
    let env_file = d.other.join("env.toml");
    std::fs::write(&env_file, "min-hit-rate = 65\n").unwrap();
    let env = [("CACHELENS_CONFIG", env_file.to_str().unwrap())];
    assert_eq!(gate(&d.cwd, &d.xdg, &env, &[]), 4);
    // --config wins over CACHELENS_CONFIG
    let flag_file = d.other.join("flag.toml");
    std::fs::write(&flag_file, "min-hit-rate = 10\n").unwrap();
    let flag = ["--config", flag_file.to_str().unwrap()];
    assert_eq!(gate(&d.cwd, &d.xdg, &env, &flag), 0);
    // a flag wins over every file
    assert_eq!(gate(&d.cwd, &d.xdg, &env, &["--min-hit-rate", "55"]), 0);
    assert_eq!(gate(&d.cwd, &d.xdg, &[], &["--min-hit-rate", "61"]), 4);
    // --no-config reads none
    std::fs::write(d.cwd.join("cachelens.toml"), "min-hit-rate = 99\n").unwrap();
    assert_eq!(gate(&d.cwd, &d.xdg, &[], &[]), 4);
    assert_eq!(gate(&d.cwd, &d.xdg, &[], &["--no-config"]), 0);
}

#[test]
fn config_command_says_where_each_value_comes_from() {
    let d = dirs();
    let o = run(&d.cwd, &d.xdg, &[], &["config"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(
        text.contains("config file   none (looked for cachelens.toml"),
        "{text}"
    );
    assert!(text.contains("redact        on"), "{text}");

    std::fs::write(
        d.cwd.join("cachelens.toml"),
        "log-group = \"/aws/codebuild/web\"\ncompute-type = \"general1.medium\"\n\
         pricing = \"prices.toml\"\nredact = false\n",
    )
    .unwrap();
    let text = stdout(&run(&d.cwd, &d.xdg, &[], &["config"]));
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .to_owned()
    };
    assert!(
        line("config file").contains("(from the working directory)"),
        "{text}"
    );
    assert!(line("log-group").contains("/aws/codebuild/web"));
    assert!(line("log-group").contains("config file"));
    assert!(line("compute-type").contains("general1.medium"));
    assert!(line("pricing").contains(&d.cwd.join("prices.toml").display().to_string()));
    assert!(line("cache-repo").contains("default"));
    assert!(line("redact").contains("off"));
    // the variable beats the file
    let text = stdout(&run(
        &d.cwd,
        &d.xdg,
        &[("CACHELENS_NO_REDACT", "0")],
        &["config"],
    ));
    let redact = text.lines().find(|l| l.starts_with("redact")).unwrap();
    assert!(
        redact.contains("on") && redact.contains("CACHELENS_NO_REDACT"),
        "{redact}"
    );
}

#[test]
fn threads_size_the_pool_the_work_runs_on() {
    let d = dirs();
    // `config` reads the size of the pool as made: the flag or the variables
    // must have sized it before it was
    let threads = |env: &[(&str, &str)], args: &[&str]| -> (String, String) {
        let o = run(&d.cwd, &d.xdg, env, args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = stdout(&o);
        let line = text
            .lines()
            .find(|l| l.starts_with("threads "))
            .unwrap_or_else(|| panic!("no threads in {text}"));
        let mut fields = line.split_whitespace().skip(1);
        (fields.next().unwrap().into(), fields.next().unwrap().into())
    };
    let pair = |n: &str, from: &str| (n.to_owned(), from.to_owned());
    let cores = std::thread::available_parallelism()
        .unwrap()
        .get()
        .to_string();
    assert_eq!(threads(&[], &["config"]), pair(&cores, "default"));
    assert_eq!(threads(&[], &["-j", "1", "config"]), pair("1", "--threads"));
    assert_eq!(
        threads(&[], &["config", "--threads", "3"]),
        pair("3", "--threads")
    );
    // RAYON_NUM_THREADS alone sizes polars' pool too
    let rayon = [("RAYON_NUM_THREADS", "1")];
    assert_eq!(threads(&rayon, &["config"]), pair("1", "RAYON_NUM_THREADS"));
    let both = [("RAYON_NUM_THREADS", "1"), ("POLARS_MAX_THREADS", "3")];
    assert_eq!(threads(&both, &["config"]), pair("3", "POLARS_MAX_THREADS"));
    assert_eq!(
        threads(&both, &["-j", "2", "config"]),
        pair("2", "--threads")
    );
    let o = run(&d.cwd, &d.xdg, &[], &["-j", "0", "config"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn redaction_off_in_the_file_and_back_on_by_the_variable() {
    let d = dirs();
    let log = d.other.join("secret.log");
    std::fs::write(
        &log,
        "#1 [1/2] FROM docker.io/library/alpine\n#1 DONE 0.0s\n\n\
         #2 [2/2] RUN echo NPM_TOKEN=abc123secret\n#2 DONE 1.5s\n",
    )
    .unwrap();
    let shown = |env: &[(&str, &str)]| {
        let o = run(
            &d.cwd,
            &d.xdg,
            env,
            &["steps", "--format", "ndjson", log.to_str().unwrap()],
        );
        assert!(o.status.success());
        stdout(&o).contains("abc123secret")
    };
    assert!(!shown(&[]), "redacted by default");
    std::fs::write(d.cwd.join("cachelens.toml"), "redact = false\n").unwrap();
    assert!(shown(&[]), "redact = false in the file");
    assert!(
        !shown(&[("CACHELENS_NO_REDACT", "0")]),
        "the variable overrides the file"
    );
}

#[test]
fn a_broken_file_is_an_error_naming_it() {
    let d = dirs();
    std::fs::write(d.cwd.join("cachelens.toml"), "log_groups = [\"a\"]\n").unwrap();
    let o = run(&d.cwd, &d.xdg, &[], &["config"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cachelens.toml") && err.contains("log_groups"),
        "{err}"
    );
    let missing = d.other.join("absent.toml");
    let o = run(
        &d.cwd,
        &d.xdg,
        &[],
        &["config", "--config", missing.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("absent.toml"));
}

#[test]
fn generate_gives_all_five_outputs() {
    let d = dirs();
    for kind in [
        "complete-bash",
        "complete-zsh",
        "complete-fish",
        "complete-powershell",
        "man",
    ] {
        let o = run(&d.cwd, &d.xdg, &[], &["--generate", kind]);
        assert!(o.status.success(), "{kind}");
        let text = stdout(&o);
        assert!(
            text.contains("summary") && text.contains("min-hit-rate"),
            "{kind}"
        );
    }
    // the bash script is valid bash, and completes the subcommands
    let script = d.other.join("cachelens.bash");
    std::fs::write(
        &script,
        run(&d.cwd, &d.xdg, &[], &["--generate", "complete-bash"]).stdout,
    )
    .unwrap();
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && COMP_WORDS=(cachelens su); COMP_CWORD=1; _cachelens cachelens su cachelens \
             && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        stdout(&check).lines().any(|l| l == "summary"),
        "{}",
        stdout(&check)
    );
    // the man page starts as roff and has each subcommand's section
    let man = stdout(&run(&d.cwd, &d.xdg, &[], &["--generate", "man"]));
    assert!(man.contains(".TH cachelens 1"));
    for sub in [
        "SUMMARY", "STEPS", "FETCH", "REPORT", "DIAGNOSE", "BUILDS", "CONFIG",
    ] {
        assert!(man.contains(&format!(".SH \"CACHELENS {sub}\"")), "{sub}");
    }
    // alone only
    let o = run(&d.cwd, &d.xdg, &[], &["--generate", "man", "summary"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_subcommand_help_has_an_example() {
    let d = dirs();
    for sub in [
        "summary", "steps", "fetch", "report", "diagnose", "builds", "config",
    ] {
        let text = stdout(&run(&d.cwd, &d.xdg, &[], &[sub, "--help"]));
        let examples = text
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{sub} --help has no examples"));
        assert!(
            examples.contains(&format!("cachelens {sub}")) || sub == "config",
            "{sub}"
        );
    }
}
