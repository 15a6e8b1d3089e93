//! AWS CodeBuild agent lines (`[Container] 2024/01/15 10:23:45.123456 …`):
//! `grammars/codebuild.ebnf`, rule by rule, and the run they describe.

use crate::model::{Phase, Run, WallClock};
use chrono::NaiveDateTime;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{map, map_res, opt, recognize, rest, verify};
use nom::sequence::{preceded, separated_pair, terminated};
use nom::{IResult, Parser};

type PResult<'a, O> = IResult<&'a [u8], O, ()>;

/// One agent line: when, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLine<'a> {
    /// `timestamp` (UTC).
    pub time: NaiveDateTime,
    /// `agent-event`.
    pub event: AgentEvent<'a>,
}

/// Rule `agent-event`.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent<'a> {
    /// `entering-phase`: the phase name.
    EnteringPhase(&'a [u8]),
    /// `phase-complete`: the phase and its state (`SUCCEEDED`, or `SUCCEEDED`/`FAILED`
    /// from the legacy `Success: true|false`).
    PhaseComplete(&'a [u8], &'a [u8]),
    /// `phase-context`: status code and message.
    PhaseContext(&'a [u8], &'a [u8]),
    /// `running-command`: the command.
    RunningCommand(&'a [u8]),
    /// `command-failed`: the command and its exit status.
    CommandFailed(&'a [u8], i32),
    /// `run-start`: the agent's first lines of a run.
    RunStart,
    /// `other-agent-text`.
    Other,
}

/// Parses an agent line; `None` when the line is not one.
pub fn parse_agent_line(line: &[u8]) -> Option<AgentLine<'_>> {
    let (_, (time, event)) = (
        preceded(tag("[Container] "), timestamp),
        preceded(char(' '), agent_event),
    )
        .parse(line)
        .ok()?;
    Some(AgentLine { time, event })
}

/// `timestamp = year "/" month "/" day SP hour ":" minute ":" second [ "." digits ]`:
/// the date-time `stamp` of `ci-framing.ebnf`, which reads this form among others.
fn timestamp(i: &[u8]) -> PResult<'_, NaiveDateTime> {
    match super::framing::stamp(i) {
        Ok((rest, WallClock::DateTime(t))) => Ok((rest, t)),
        _ => Err(nom::Err::Error(())),
    }
}

/// `agent-event`.
fn agent_event(i: &[u8]) -> PResult<'_, AgentEvent<'_>> {
    alt((
        map(
            preceded(tag("Entering phase "), word),
            AgentEvent::EnteringPhase,
        ),
        map(phase_complete, |(p, s)| AgentEvent::PhaseComplete(p, s)),
        map(phase_context, |(c, m)| AgentEvent::PhaseContext(c, m)),
        map(
            preceded(tag("Running command "), rest),
            AgentEvent::RunningCommand,
        ),
        map(command_failed, |(c, n)| AgentEvent::CommandFailed(c, n)),
        map(
            alt((tag("Running on CodeBuild "), tag("Waiting for agent ping"))),
            |_| AgentEvent::RunStart,
        ),
        // rule C4: `[Container] <stamp> #N …` is command output under the agent's prefix
        map(verify(rest, |t: &[u8]| !is_vertex_line(t)), |_| {
            AgentEvent::Other
        }),
    ))
    .parse(i)
}

/// `"#" , digit`: a BuildKit vertex line starts here.
fn is_vertex_line(text: &[u8]) -> bool {
    matches!(text, [b'#', d, ..] if d.is_ascii_digit())
}

/// `phase-complete`.
fn phase_complete(i: &[u8]) -> PResult<'_, (&[u8], &[u8])> {
    preceded(
        tag("Phase complete: "),
        separated_pair(
            word,
            char(' '),
            alt((
                preceded(tag("State: "), word),
                map(preceded(tag("Success: "), word), |ok: &[u8]| {
                    if ok == b"true" {
                        &b"SUCCEEDED"[..]
                    } else {
                        &b"FAILED"[..]
                    }
                }),
            )),
        ),
    )
    .parse(i)
}

/// `phase-context = "Phase context status code: " [ status-code ] " Message: " [ text ]`.
fn phase_context(i: &[u8]) -> PResult<'_, (&[u8], &[u8])> {
    let (i, body) = preceded(tag("Phase context status code: "), rest).parse(i)?;
    let marker = b" Message:";
    let at = find(body, marker).ok_or(nom::Err::Error(()))?;
    let message = &body[at + marker.len()..];
    Ok((
        i,
        (
            body[..at].trim_ascii(),
            message.strip_prefix(b" ").unwrap_or(message),
        ),
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `command-failed = "Command did not exit successfully " text " exit status " integer`.
fn command_failed(i: &[u8]) -> PResult<'_, (&[u8], i32)> {
    let (i, body) = preceded(tag("Command did not exit successfully "), rest).parse(i)?;
    let marker = b" exit status ";
    let at = body
        .windows(marker.len())
        .rposition(|w| w == marker)
        .ok_or(nom::Err::Error(()))?;
    let (_, status) = terminated(
        map_res(recognize((opt(char('-')), digit1)), |d: &[u8]| {
            std::str::from_utf8(d)
                .map_err(drop)?
                .parse::<i32>()
                .map_err(drop)
        }),
        nom::combinator::eof,
    )
    .parse(&body[at + marker.len()..])?;
    Ok((i, (&body[..at], status)))
}

/// `word = ( letter | digit | "_" ) { … }`.
fn word(i: &[u8]) -> PResult<'_, &[u8]> {
    take_while1(|c: u8| c.is_ascii_alphanumeric() || c == b'_').parse(i)
}

/// The phases of a run in the order CodeBuild runs them.
const PHASE_ORDER: [&[u8]; 11] = [
    b"SUBMITTED",
    b"QUEUED",
    b"PROVISIONING",
    b"DOWNLOAD_SOURCE",
    b"INSTALL",
    b"PRE_BUILD",
    b"BUILD",
    b"POST_BUILD",
    b"UPLOAD_ARTIFACTS",
    b"FINALIZING",
    b"COMPLETED",
];

fn phase_rank(name: &[u8]) -> Option<usize> {
    PHASE_ORDER.iter().position(|p| *p == name)
}

/// Whether `line` starts another run than `run` (rule C5): the agent's
/// `run-start` text once `run` has phases or commands, or a phase that comes
/// before the last phase of `run` in CodeBuild's order.
pub fn starts_run(run: &Run, line: &AgentLine<'_>) -> bool {
    let phase = match line.event {
        AgentEvent::RunStart => return !run.phases.is_empty() || !run.commands.is_empty(),
        AgentEvent::EnteringPhase(name) | AgentEvent::PhaseComplete(name, _) => name,
        _ => return false,
    };
    let last = run
        .phases
        .last()
        .and_then(|p| phase_rank(p.name.as_bytes()));
    matches!((phase_rank(phase), last), (Some(new), Some(last)) if new < last)
}

/// Applies one agent line to `run` (rules C2, C3 of the grammar).
pub fn apply(run: &mut Run, line: &AgentLine<'_>, number: u64) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match line.event {
        AgentEvent::EnteringPhase(name) => {
            run.close_open_phase(line.time);
            run.phases.push(Phase::new(text(name), line.time, number));
        }
        AgentEvent::PhaseComplete(name, state) => {
            let name = text(name);
            if run
                .phases
                .last()
                .is_none_or(|p| p.name != name || p.ended.is_some())
            {
                // no "Entering phase" line (DOWNLOAD_SOURCE, or a log cut at the start)
                run.phases.push(Phase {
                    name,
                    state: None,
                    started: line.time,
                    ended: None,
                    seconds: None,
                    status_code: None,
                    message: None,
                    line: number,
                });
            }
            if let Some(p) = run.phases.last_mut() {
                p.state = Some(text(state));
                p.end(line.time);
            }
        }
        AgentEvent::PhaseContext(code, message) => {
            if let Some(p) = run.phases.last_mut() {
                p.status_code = Some(text(code)).filter(|c| !c.is_empty());
                p.message = Some(text(message)).filter(|m| !m.is_empty());
            }
        }
        AgentEvent::RunningCommand(command) => {
            run.start_command(text(command), line.time, number);
        }
        AgentEvent::CommandFailed(command, status) => {
            let command = text(command);
            if !run.commands.iter().any(|c| c.command == command) {
                // its "Running command" line is not in the log
                run.start_command(command.clone(), line.time, number);
            }
            if let Some(c) = run.commands.iter_mut().rev().find(|c| c.command == command) {
                c.exit_status = Some(status);
            }
        }
        AgentEvent::RunStart | AgentEvent::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(line: &str) -> AgentEvent<'_> {
        parse_agent_line(line.as_bytes()).expect(line).event
    }

    #[test]
    fn agent_lines() {
        let l = parse_agent_line(b"[Container] 2024/01/15 10:23:45.123456 Entering phase BUILD")
            .unwrap();
        assert_eq!(l.time.to_string(), "2024-01-15 10:23:45.123456");
        assert_eq!(l.event, AgentEvent::EnteringPhase(b"BUILD"));
        let l = parse_agent_line(
            b"[Container] 2018/05/30 10:00:00 Phase complete: BUILD Success: false",
        )
        .unwrap();
        assert_eq!(l.time.to_string(), "2018-05-30 10:00:00");
        assert_eq!(l.event, AgentEvent::PhaseComplete(b"BUILD", b"FAILED"));
        assert_eq!(
            event("[Container] 2024/01/15 10:23:45.5 Phase complete: POST_BUILD State: SUCCEEDED"),
            AgentEvent::PhaseComplete(b"POST_BUILD", b"SUCCEEDED")
        );
        assert_eq!(
            event("[Container] 2024/01/15 10:23:45.123456 Phase context status code:  Message: "),
            AgentEvent::PhaseContext(b"", b"")
        );
        assert_eq!(
            event(
                "[Container] 2024/01/15 10:23:45.123456 Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: make. Reason: exit status 2"
            ),
            AgentEvent::PhaseContext(
                b"COMMAND_EXECUTION_ERROR",
                b"Error while executing command: make. Reason: exit status 2"
            )
        );
        assert_eq!(
            event("[Container] 2024/01/15 10:23:45.123456 Running command docker build -t app ."),
            AgentEvent::RunningCommand(b"docker build -t app .")
        );
        assert_eq!(
            event(
                "[Container] 2024/01/15 10:23:45.123456 Command did not exit successfully docker build -t app . exit status 1"
            ),
            AgentEvent::CommandFailed(b"docker build -t app .", 1)
        );
        assert_eq!(
            event("[Container] 2024/01/15 10:23:45.123456 Waiting for agent ping"),
            AgentEvent::RunStart
        );
        assert_eq!(
            event("[Container] 2024/01/15 10:23:45.123456 Running on CodeBuild On-demand"),
            AgentEvent::RunStart
        );
        assert_eq!(
            event("[Container] 2024/01/15 10:23:45.123456 Phase is DOWNLOAD_SOURCE"),
            AgentEvent::Other
        );
        for not in [
            "[Container] 2024/13/15 10:23:45 x",
            "[Container] 2024/01/15 x",
            "Container 2024/01/15 10:23:45 x",
            "",
        ] {
            assert!(parse_agent_line(not.as_bytes()).is_none(), "{not}");
        }
    }

    #[test]
    fn a_run_from_its_agent_lines() {
        let lines = [
            "[Container] 2024/01/15 10:00:00.000000 Phase complete: DOWNLOAD_SOURCE State: SUCCEEDED",
            "[Container] 2024/01/15 10:00:00.500000 Entering phase BUILD",
            "[Container] 2024/01/15 10:00:01.000000 Running command docker build .",
            "[Container] 2024/01/15 10:01:31.250000 Command did not exit successfully docker build . exit status 1",
            "[Container] 2024/01/15 10:01:31.500000 Phase complete: BUILD State: FAILED",
            "[Container] 2024/01/15 10:01:31.500000 Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: docker build .. Reason: exit status 1",
            "[Container] 2024/01/15 10:01:32.000000 Entering phase POST_BUILD",
        ];
        let mut run = Run::default();
        for (n, l) in lines.iter().enumerate() {
            apply(
                &mut run,
                &parse_agent_line(l.as_bytes()).unwrap(),
                n as u64 + 1,
            );
        }
        assert_eq!(run.phases.len(), 3);
        assert_eq!(run.phases[0].seconds, Some(0.0));
        let build = &run.phases[1];
        assert_eq!(
            (build.name.as_str(), build.state.as_deref()),
            ("BUILD", Some("FAILED"))
        );
        assert_eq!(build.seconds, Some(91.0));
        assert_eq!(
            build.status_code.as_deref(),
            Some("COMMAND_EXECUTION_ERROR")
        );
        assert_eq!(run.current_phase(), Some("POST_BUILD"));
        assert_eq!(run.commands.len(), 1);
        assert_eq!(run.commands[0].exit_status, Some(1));
        assert_eq!(run.commands[0].phase.as_deref(), Some("BUILD"));
    }
}
