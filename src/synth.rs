//! CodeBuild runs made from real BuildKit logs: the `[Container]` agent lines
//! CodeBuild writes around a buildspec's commands, with realistic timestamps,
//! as the CloudWatch Logs events CodeBuild would have sent. Deterministic: the
//! same input gives the same events. Used by the tests against moto and to make
//! demo data.

use chrono::{DateTime, Utc};

use crate::source::archive::Event;

/// One `docker build` of a run: the command and its real output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DockerBuild<'a> {
    /// The buildspec command, as `Running command` names it.
    pub command: &'a str,
    /// Its output (a real BuildKit log).
    pub output: &'a [u8],
    /// Whether the command exits non-zero (the run's BUILD phase then fails).
    pub fails: bool,
}

/// A CodeBuild run: its first event's time and the builds its BUILD phase runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec<'a> {
    /// Epoch milliseconds of the first event.
    pub start_ms: i64,
    /// The `docker build` commands of the BUILD phase, in order.
    pub builds: Vec<DockerBuild<'a>>,
}

/// Events sent together share one timestamp, as the CodeBuild agent batches them.
const BATCH: usize = 50;

/// The CloudWatch Logs events of a run: agent lines and command output, each
/// message ending in `\n` as CodeBuild's do.
pub fn codebuild_events(spec: &RunSpec<'_>) -> Vec<Event> {
    let mut run = Writer {
        events: Vec::new(),
        now_ms: spec.start_ms,
        in_batch: 0,
    };
    for line in [
        "Running on CodeBuild On-demand",
        "Waiting for agent ping",
        "Waiting for DOWNLOAD_SOURCE",
        "Phase is DOWNLOAD_SOURCE",
        "CODEBUILD_SRC_DIR=/codebuild/output/src1234567890/src",
        "YAML location is /codebuild/output/src1234567890/src/buildspec.yml",
        "Processing environment variables",
        "Moving to directory /codebuild/output/src1234567890/src",
    ] {
        run.agent(line);
    }
    run.advance(2_300);
    run.phase_done("DOWNLOAD_SOURCE", None);
    run.phase("INSTALL");
    run.advance(400);
    run.phase_done("INSTALL", None);
    run.phase("PRE_BUILD");
    run.agent("Running command aws ecr get-login-password | docker login --username AWS --password-stdin $ECR_REGISTRY");
    run.advance(1_800);
    run.output("Login Succeeded");
    run.phase_done("PRE_BUILD", None);
    run.phase("BUILD");
    let mut failed = None;
    for b in &spec.builds {
        run.agent(&format!("Running command {}", b.command));
        for line in b.output.split(|&c| c == b'\n') {
            if let Some(secs) = done_seconds(line) {
                run.advance((secs * 1000.0) as i64);
            }
            run.output(&String::from_utf8_lossy(line));
        }
        if b.fails {
            run.agent(&format!(
                "Command did not exit successfully {} exit status 1",
                b.command
            ));
            failed = Some(b.command);
            break;
        }
    }
    run.phase_done("BUILD", failed);
    run.phase("POST_BUILD");
    run.advance(300);
    run.phase_done("POST_BUILD", None);
    run.phase("UPLOAD_ARTIFACTS");
    run.phase_done("UPLOAD_ARTIFACTS", None);
    run.phase("FINALIZING");
    run.phase_done("FINALIZING", None);
    run.phase("COMPLETED");
    run.events
}

/// The log text of events, as a file would hold it.
pub fn text(events: &[Event]) -> Vec<u8> {
    events.iter().flat_map(|e| e.message.bytes()).collect()
}

struct Writer {
    events: Vec<Event>,
    now_ms: i64,
    in_batch: usize,
}

impl Writer {
    fn push(&mut self, message: String) {
        if self.in_batch == BATCH {
            self.in_batch = 0;
            self.now_ms += 1;
        }
        self.in_batch += 1;
        self.events.push(Event {
            timestamp: self.now_ms,
            message,
        });
    }

    fn advance(&mut self, ms: i64) {
        self.now_ms += ms.max(0);
        self.in_batch = 0;
    }

    fn agent(&mut self, text: &str) {
        let at = DateTime::<Utc>::from_timestamp_millis(self.now_ms).unwrap_or_default();
        self.push(format!(
            "[Container] {} {text}\n",
            at.format("%Y/%m/%d %H:%M:%S%.6f")
        ));
    }

    fn output(&mut self, line: &str) {
        self.push(format!("{line}\n"));
    }

    fn phase(&mut self, name: &str) {
        self.agent(&format!("Entering phase {name}"));
    }

    fn phase_done(&mut self, name: &str, failed_command: Option<&str>) {
        match failed_command {
            None => {
                self.agent(&format!("Phase complete: {name} State: SUCCEEDED"));
                self.agent("Phase context status code:  Message: ");
            }
            Some(cmd) => {
                self.agent(&format!("Phase complete: {name} State: FAILED"));
                self.agent(&format!(
                    "Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: {cmd}. Reason: exit status 1"
                ));
            }
        }
    }
}

/// The seconds of a `#N DONE 1.2s` line.
fn done_seconds(line: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text.strip_prefix('#')?;
    let (_, after) = rest.split_once(" DONE ")?;
    after.strip_suffix('s')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_log;

    #[test]
    fn a_run_parses_to_its_builds_and_phases() {
        let log = b"#1 [1/2] FROM x\n#1 DONE 0.0s\n\n#2 [2/2] RUN make\n#2 0.1 ok\n#2 DONE 61.5s\n";
        let spec = RunSpec {
            start_ms: 1_705_312_800_000,
            builds: vec![
                DockerBuild {
                    command: "docker build -t a .",
                    output: log,
                    fails: false,
                },
                DockerBuild {
                    command: "docker build -t b .",
                    output: log,
                    fails: true,
                },
            ],
        };
        let events = codebuild_events(&spec);
        assert_eq!(events, codebuild_events(&spec), "deterministic");
        assert!(events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert!(events.iter().all(|e| e.message.ends_with('\n')));
        assert!(
            events[0]
                .message
                .starts_with("[Container] 2024/01/15 10:00:00.000000 ")
        );

        let parsed = parse_log(&text(&events), "run");
        assert_eq!(parsed.builds.len(), 2);
        assert_eq!(
            parsed.builds[1].command.as_deref(),
            Some("docker build -t b .")
        );
        assert_eq!(parsed.builds[0].phase.as_deref(), Some("BUILD"));
        let run = parsed.run.unwrap();
        let build = run.phases.iter().find(|p| p.name == "BUILD").unwrap();
        assert_eq!(build.state.as_deref(), Some("FAILED"));
        assert!(build.seconds.unwrap() >= 123.0, "{:?}", build.seconds);
        assert_eq!(run.commands.last().unwrap().exit_status, Some(1));
        assert_eq!(parsed.unparsed_outside, 1, "Login Succeeded");
    }
}
