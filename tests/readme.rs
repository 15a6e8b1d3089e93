//! Every example of the README runs as shown (angle-grinder's way): each
//! `cachelens …` command in its `sh`, `yaml` and `text` blocks is run on the
//! shipped logs and must succeed; each `text` transcript (`$ command` and the
//! lines after it) must print exactly those lines. A command that needs what a
//! test machine has not (AWS, docker, a CodeBuild build) carries a marker in
//! its comment, `[AWS]`, `[docker]`, `[CodeBuild]` or `[install]` (writes outside
//! the work folder), and is skipped by name;
//! a command neither runnable nor marked fails.
//!
//! The commands run in a fresh folder holding `sample-logs` (the shipped logs)
//! and the README's placeholder names, each a copy of a shipped log
//! ([`PLACEHOLDERS`]); `~/.cache/cachelens` is the demo archive. Output is
//! compared line by line, trailing spaces aside, the fresh folder's path
//! written `.`: no other difference is allowed (the examples print no times
//! that vary).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

/// The markers of examples that cannot run here, and why.
const MARKERS: &[(&str, &str)] = &[
    ("[AWS]", "needs an AWS account"),
    ("[docker]", "needs docker"),
    ("[CodeBuild]", "runs inside a CodeBuild build"),
    ("[install]", "installs into the machine's system folders"),
];

/// The README's placeholder logs and folders, and the shipped logs they stand for.
const PLACEHOLDERS: &[(&str, &[&str])] = &[
    ("build.log", &["nodeapp-warm.log"]),
    ("old.log", &["nodeapp-cold.log"]),
    ("new.log", &["nodeapp-partial-src-change.log"]),
    ("good.log", &["nodeapp-warm.log"]),
    ("slow.log", &["nodeapp-partial-src-change.log"]),
    (
        "logs",
        &[
            "nodeapp-cold.log",
            "nodeapp-warm.log",
            "multistage-warm.log",
        ],
    ),
    ("old-logs", &["nodeapp-cold.log", "multistage-cold.log"]),
];

/// What a block is, from its info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// `sh`: every line naming cachelens is a command.
    Shell,
    /// `yaml`: CI steps; the lines naming cachelens are commands.
    Yaml,
    /// `text`: a transcript, `$ command` then what it prints.
    Transcript,
}

/// One command of the README.
#[derive(Debug, Clone, PartialEq)]
struct Example {
    /// 1-based line in the README.
    line: usize,
    /// The command as the README writes it (`cargo run --` as `cachelens`).
    command: String,
    /// The marker that skips it, when it has one.
    marker: Option<&'static str>,
    /// The folder it runs in, relative to the work folder (a transcript's `$ cd`).
    cwd: String,
    /// The lines a transcript shows after it.
    shown: Option<Vec<String>>,
}

/// Every command in the README's `sh`, `yaml` and `text` blocks.
fn examples(readme: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut block: Option<Option<Block>> = None;
    let mut cwd = String::from(".");
    for (n, line) in readme.lines().enumerate() {
        if let Some(info) = line.trim_start().strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => {
                    cwd = ".".into();
                    Some(match info.trim() {
                        "sh" => Some(Block::Shell),
                        "yaml" | "yml" => Some(Block::Yaml),
                        "text" => Some(Block::Transcript),
                        _ => None,
                    })
                }
            };
            continue;
        }
        let Some(Some(kind)) = block else { continue };
        if kind == Block::Transcript {
            if let Some(dir) = line.strip_prefix("$ cd ") {
                cwd = dir.trim().to_owned();
            } else if let Some(command) = line.strip_prefix("$ ") {
                out.push(example(n + 1, command, &cwd, Some(Vec::new())));
            } else if let Some(shown) = out.last_mut().and_then(|e| e.shown.as_mut()) {
                shown.push(line.trim_end().to_owned());
            }
            continue;
        }
        let text = line.trim_start();
        let text = text.strip_prefix("# ").unwrap_or(text);
        let text = text.strip_prefix("- ").unwrap_or(text);
        let text = text.strip_prefix("run: ").unwrap_or(text);
        let text = text.replace("cargo run -- ", "cachelens ");
        if text.contains("cachelens ") && !text.starts_with('#') {
            out.push(example(n + 1, &text, ".", None));
        }
    }
    out
}

fn example(line: usize, text: &str, cwd: &str, shown: Option<Vec<String>>) -> Example {
    let command = text.replace("cargo run -- ", "cachelens ");
    Example {
        line,
        marker: MARKERS
            .iter()
            .map(|(m, _)| *m)
            .find(|m| command.contains(m)),
        command,
        cwd: cwd.to_owned(),
        shown,
    }
}

/// The work folder: the shipped logs, the placeholders, a home whose
/// `~/.cache/cachelens` is the demo archive.
fn work_folder() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let real = root.join("sample-logs/real");
    std::os::unix::fs::symlink(root.join("sample-logs"), dir.path().join("sample-logs")).unwrap();
    for (name, logs) in PLACEHOLDERS {
        if name.ends_with(".log") {
            fs::copy(real.join(logs[0]), dir.path().join(name)).unwrap();
        } else {
            fs::create_dir(dir.path().join(name)).unwrap();
            for log in *logs {
                fs::copy(real.join(log), dir.path().join(name).join(log)).unwrap();
            }
        }
    }
    fs::create_dir_all(dir.path().join("home/.cache")).unwrap();
    std::os::unix::fs::symlink(
        root.join("sample-logs/demo"),
        dir.path().join("home/.cache/cachelens"),
    )
    .unwrap();
    dir
}

/// Runs one example in `work` (through `sh`, for its globs and pipes; every
/// redirection goes to a file of `work`, never where the README points):
/// its exit code and what it printed (stdout then stderr).
fn run(e: &Example, work: &Path) -> (Option<i32>, String) {
    let bin = Path::new(BIN).parent().unwrap();
    let mut command = String::new();
    let mut words = e.command.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word == "#" {
            break; // the comment
        }
        if word == ">" || word == ">>" {
            words.next();
            write!(command, "{word} redirected.out ").unwrap();
            continue;
        }
        write!(command, "{word} ").unwrap();
    }
    let out = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(work.join(&e.cwd))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", work.join("home"))
        .env_remove("XDG_CACHE_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("CACHELENS_CONFIG")
        .env_remove("CACHELENS_NO_REDACT")
        .env("NO_COLOR", "1")
        .env("GITHUB_STEP_SUMMARY", work.join("step-summary.md"))
        // an unmarked AWS example fails at once (no credentials), never reaches AWS
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", work.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            work.join("no-aws-credentials"),
        )
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    let work = work.display().to_string();
    (out.status.code(), text.replace(&work, "."))
}

/// What is wrong with the README's examples, run in `work`: one line each.
fn check(readme: &str, work: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    let all = examples(readme);
    if all.is_empty() {
        wrong.push("README.md: no cachelens example found".to_owned());
    }
    for e in &all {
        if e.marker.is_some() {
            continue;
        }
        let (code, printed) = run(e, work);
        let at = format!("README.md:{}: `{}`", e.line, e.command);
        if code != Some(0) {
            wrong.push(format!(
                "{at}: exit {code:?} (mark it [AWS], [docker], [CodeBuild] or [install] if it cannot run offline, or writes outside its folder):\n{printed}"
            ));
            continue;
        }
        if let Some(shown) = &e.shown {
            let mut shown = shown.clone();
            while shown.last().is_some_and(String::is_empty) {
                shown.pop();
            }
            let got: Vec<String> = printed.lines().map(|l| l.trim_end().to_owned()).collect();
            if got != shown {
                let diff = first_difference(&shown, &got);
                wrong.push(format!("{at}: prints other than shown: {diff}"));
            }
        }
    }
    wrong
}

/// Where two transcripts first differ.
fn first_difference(shown: &[String], got: &[String]) -> String {
    let none = String::from("(nothing)");
    let i = (0..shown.len().max(got.len()))
        .find(|&i| shown.get(i) != got.get(i))
        .unwrap_or(0);
    format!(
        "line {}: shown {:?}, printed {:?}",
        i + 1,
        shown.get(i).unwrap_or(&none),
        got.get(i).unwrap_or(&none)
    )
}

fn readme() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn every_readme_example_runs_as_shown() {
    let work = work_folder();
    let readme = readme();
    let wrong = check(&readme, work.path());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let all = examples(&readme);
    let run = all.iter().filter(|e| e.marker.is_none()).count();
    let transcripts = all.iter().filter(|e| e.shown.is_some()).count();
    assert!(
        run >= 23 && transcripts >= 2,
        "{run} run, {transcripts} transcripts"
    );
    // what is skipped is skipped by name, each marker explained in the README
    for (marker, _) in MARKERS {
        assert!(
            readme.contains(&format!("`{marker}`")),
            "the README explains {marker}"
        );
    }
}

#[test]
fn the_demo_commands_print_no_warning() {
    let work = work_folder();
    for command in [
        "cachelens report --archive sample-logs/demo --cache-size-gb 12 --out reports/example",
        "cachelens steps --archive sample-logs/demo --offline > steps.json",
    ] {
        let e = example(1, command, ".", None);
        let (code, printed) = run(&e, work.path());
        assert_eq!(code, Some(0), "{command}: {printed}");
        assert!(!printed.contains("cachelens:"), "{command}: {printed}");
    }
}

/// The README with `from` replaced by `to` once.
fn mutated(readme: &str, from: &str, to: &str) -> String {
    assert!(readme.contains(from), "{from}");
    readme.replacen(from, to, 1)
}

#[test]
fn the_checker_fails_when_an_example_or_its_output_drifts() {
    let work = work_folder();
    let readme = readme();
    // the checker over the diagnose transcript alone, to stay quick
    let start = readme.find("```text\n$ cd sample-logs/real").unwrap();
    let end = start + 3 + readme[start + 3..].find("```\n").unwrap() + 4;
    let base = readme[start..end].to_owned();
    assert_eq!(check(&base, work.path()), Vec::<String>::new());
    // a shown line that drifted
    let drifted = mutated(&base, "(hit rate 100%)", "(hit rate 99%)");
    let wrong = check(&drifted, work.path());
    assert!(
        wrong
            .iter()
            .any(|w| w.contains("prints other than shown") && w.contains("(hit rate 99%)")),
        "{wrong:?}"
    );
    // a line missing from the transcript
    let cut = mutated(
        &base,
        "    #14 [final 3/3] COPY --from=frontend /out/www /www\n",
        "",
    );
    assert!(!check(&cut, work.path()).is_empty());
    // an example that no longer runs: a renamed flag
    let renamed = format!("```sh\ncachelens summary --min-hit 80 build.log\n```\n{base}");
    let wrong = check(&renamed, work.path());
    assert!(
        wrong.iter().any(|w| w.contains("exit Some(2)")),
        "{wrong:?}"
    );
    // an AWS example not marked fails; marked, it is skipped
    let aws = "```sh\ncachelens fetch --log-group /aws/codebuild/my-app --since 7d\n```\n";
    let wrong = check(aws, work.path());
    assert!(
        wrong.iter().any(|w| w.contains("mark it [AWS]")),
        "{wrong:?}"
    );
    let marked = aws.replace("7d\n", "7d   # [AWS]\n");
    assert_eq!(check(&marked, work.path()), Vec::<String>::new());
    // no example at all is no pass
    assert!(!check("no blocks", work.path()).is_empty());
}

#[test]
fn examples_are_read_from_every_kind_of_block() {
    let text = "\
```sh
cargo run -- summary sample-logs/real/*.log
docker build . | cachelens summary -   # [docker] piped
cargo install --path .
```
```yaml
      - cachelens summary build.log
      # - cachelens summary --codebuild   # [CodeBuild]
- run: cachelens summary --format markdown build.log >> \"$GITHUB_STEP_SUMMARY\"
```
```text
$ cd sample-logs/real
$ cachelens builds a.log
a line
```
";
    let got: Vec<(usize, String, Option<&str>, String)> = examples(text)
        .into_iter()
        .map(|e| (e.line, e.command, e.marker, e.cwd))
        .collect();
    let want = [
        (2, "cachelens summary sample-logs/real/*.log", None, "."),
        (
            3,
            "docker build . | cachelens summary -   # [docker] piped",
            Some("[docker]"),
            ".",
        ),
        (7, "cachelens summary build.log", None, "."),
        (
            8,
            "cachelens summary --codebuild   # [CodeBuild]",
            Some("[CodeBuild]"),
            ".",
        ),
        (
            9,
            "cachelens summary --format markdown build.log >> \"$GITHUB_STEP_SUMMARY\"",
            None,
            ".",
        ),
        (13, "cachelens builds a.log", None, "sample-logs/real"),
    ];
    let want: Vec<(usize, String, Option<&str>, String)> = want
        .into_iter()
        .map(|(l, c, m, d)| (l, c.to_owned(), m, d.to_owned()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(examples(text)[5].shown, Some(vec!["a line".to_owned()]));
}
