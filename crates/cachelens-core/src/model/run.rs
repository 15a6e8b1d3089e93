//! CodeBuild runs: the phases and buildspec commands its agent lines tell.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::BuildId;

/// A CodeBuild run as its agent lines tell it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Run {
    /// The build id (`project:uuid`), when the source knows it.
    pub build_id: Option<BuildId>,
    /// Phases in the order they were entered.
    pub phases: Vec<Phase>,
    /// Buildspec commands in the order they ran.
    pub commands: Vec<RunCommand>,
}

/// One phase of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    /// `BUILD`, `POST_BUILD`, …
    pub name: String,
    /// `SUCCEEDED`, `FAILED`, …; `None` while no `Phase complete` line was seen.
    pub state: Option<String>,
    /// When it was entered (or, without an `Entering phase` line, completed).
    pub started: NaiveDateTime,
    /// When it completed.
    pub ended: Option<NaiveDateTime>,
    /// `ended - started` in seconds.
    pub seconds: Option<f64>,
    /// The `Phase context` status code, when not empty.
    pub status_code: Option<String>,
    /// The `Phase context` message, when not empty.
    pub message: Option<String>,
    /// 1-based line of the phase's first agent line.
    pub line: u64,
}

/// One buildspec command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunCommand {
    /// The command line.
    pub command: String,
    /// The phase it ran in.
    pub phase: Option<String>,
    /// When it started.
    pub started: NaiveDateTime,
    /// Its exit status when the agent reported a failure.
    pub exit_status: Option<i32>,
    /// 1-based line of its `Running command` line.
    pub line: u64,
}

impl Run {
    /// Starts a command in the phase in progress.
    pub fn start_command(&mut self, command: String, started: NaiveDateTime, line: u64) {
        self.commands.push(RunCommand {
            command,
            phase: self.current_phase().map(str::to_owned),
            started,
            exit_status: None,
            line,
        });
    }

    /// The phase in progress, if any.
    pub fn current_phase(&self) -> Option<&str> {
        self.phases
            .last()
            .filter(|p| p.ended.is_none())
            .map(|p| p.name.as_str())
    }

    /// The last command started, if any.
    pub fn current_command(&self) -> Option<&str> {
        self.commands.last().map(|c| c.command.as_str())
    }

    /// Ends the phase in progress, if any, at `at`.
    pub fn close_open_phase(&mut self, at: NaiveDateTime) {
        if let Some(p) = self.phases.last_mut().filter(|p| p.ended.is_none()) {
            p.end(at);
        }
    }
}

impl Phase {
    /// A phase entered at `started`, on line `line`.
    pub fn new(name: String, started: NaiveDateTime, line: u64) -> Self {
        Phase {
            name,
            state: None,
            started,
            ended: None,
            seconds: None,
            status_code: None,
            message: None,
            line,
        }
    }

    /// Why the phase ended as it did: `CODE: message`, empty when the agent said nothing.
    pub fn reason(&self) -> String {
        [self.status_code.as_deref(), self.message.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ")
    }

    /// Ends the phase at `at`.
    pub fn end(&mut self, at: NaiveDateTime) {
        self.ended = Some(at);
        self.seconds = Some((at - self.started).num_microseconds().unwrap_or(0) as f64 / 1e6);
    }
}
