//! CI framing peeled off each line before a format grammar sees it:
//! `grammars/ci-framing.ebnf`, rule by rule (GitHub Actions / Gitea / Render
//! timestamps, Jenkins Timestamper and `[Pipeline]` lines, nektos/act
//! prefixes, indentation), detected per line and per region (rules F1, F2).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_till, take_while, take_while_m_n};
use nom::character::complete::char;
use nom::combinator::{map, map_res, opt, rest, verify};
use nom::sequence::{delimited, preceded, terminated};
use nom::{IResult, Parser};
use serde::Serialize;

type PResult<'a, O> = IResult<&'a [u8], O, ()>;

/// A CI framing (which rule of `framed-line` a line matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// `github-line`: GitHub Actions, Gitea/Forgejo Actions, Render.
    Timestamp,
    /// `jenkins-line` with a bracketed stamp, or a bare `pipeline-step`.
    Jenkins,
    /// `jenkins-line` with the `HH:MM:SS` clock (weak).
    JenkinsClock,
    /// `act-line`: nektos/act.
    Act,
    /// `indented-line` (weak).
    Indent,
}

impl Framing {
    /// The name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Timestamp => "timestamp",
            Framing::Jenkins => "jenkins",
            Framing::JenkinsClock => "jenkins-clock",
            Framing::Act => "act",
            Framing::Indent => "indent",
        }
    }
}

/// Rule F4: the wall-clock time of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum WallClock {
    /// An `iso-stamp` (UTC).
    DateTime(NaiveDateTime),
    /// A `clock`: a time of day without a date.
    Time(NaiveTime),
}

/// One line with its framing taken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    /// What the format grammars parse.
    pub content: &'a [u8],
    /// The framing matched, if any.
    pub framing: Option<Framing>,
    /// The line's wall-clock time, if the framing carries one.
    pub time: Option<WallClock>,
    /// The line is the CI's own (rule F3): no content.
    pub own: bool,
}

impl<'a> Framed<'a> {
    fn bare(content: &'a [u8]) -> Self {
        Framed {
            content,
            framing: None,
            time: None,
            own: false,
        }
    }
}

/// Strips framing line after line, remembering the region's framing (rule F1).
#[derive(Debug, Default)]
pub struct Framer {
    region: Option<Framing>,
    indent: usize,
}

impl Framer {
    /// A framer at the start of a log.
    pub fn new() -> Self {
        Framer::default()
    }

    /// The line without its framing.
    #[inline]
    pub fn strip<'a>(&mut self, line: &'a [u8]) -> Framed<'a> {
        // the hot path: a bare log's BuildKit lines
        if self.region.is_none() && matches!(line.first(), Some(b'#' | b'{') | None) {
            return Framed::bare(line);
        }
        self.strip_framed(line)
    }

    fn strip_framed<'a>(&mut self, line: &'a [u8]) -> Framed<'a> {
        if line.is_empty() {
            return Framed::bare(line);
        }
        let framed = self
            .region
            .and_then(|region| self.in_region(region, line))
            .or_else(|| self.detect(line));
        match framed {
            Some(f) => {
                self.region = f.framing;
                f
            }
            None => {
                self.region = None;
                Framed::bare(line)
            }
        }
    }

    /// The line framed as the line before it was (weak framings included, rule F2).
    fn in_region<'a>(&mut self, region: Framing, line: &'a [u8]) -> Option<Framed<'a>> {
        match region {
            Framing::JenkinsClock => clock_line(line, false),
            Framing::Indent => {
                let width = indent_width(line);
                (width >= self.indent).then(|| Framed {
                    content: &line[self.indent..],
                    framing: Some(Framing::Indent),
                    time: None,
                    own: false,
                })
            }
            Framing::Timestamp | Framing::Jenkins | Framing::Act => strong_line(line),
        }
    }

    /// The line framed by any framing (rule F1), the weak ones as rule F2 allows.
    fn detect<'a>(&mut self, line: &'a [u8]) -> Option<Framed<'a>> {
        strong_line(line)
            .or_else(|| clock_line(line, true))
            .or_else(|| {
                let width = indent_width(line);
                let content = &line[width..];
                (width > 0 && starts_buildkit_line(content)).then(|| {
                    self.indent = width;
                    Framed {
                        content,
                        framing: Some(Framing::Indent),
                        time: None,
                        own: false,
                    }
                })
            })
    }
}

/// `github-line`, the bracketed `jenkins-line`, `pipeline-step` or `act-line`.
fn strong_line(line: &[u8]) -> Option<Framed<'_>> {
    match line.first()? {
        b'0'..=b'9' => github_line(line),
        b'[' => jenkins_line(line).or_else(|| act_line(line)),
        b'F' => jenkins_line(line),
        _ => None,
    }
}

/// `github-line = iso-stamp , SP , ( runner-command | content )`.
fn github_line(line: &[u8]) -> Option<Framed<'_>> {
    let (content, time) = terminated(iso_stamp, char(' ')).parse(line).ok()?;
    Some(Framed {
        content,
        framing: Some(Framing::Timestamp),
        time: Some(WallClock::DateTime(time)),
        own: content.starts_with(b"##["),
    })
}

/// The bracketed forms of `jenkins-line`, and a bare `pipeline-step`.
fn jenkins_line(line: &[u8]) -> Option<Framed<'_>> {
    let (content, time) = opt(terminated(
        delimited(char('['), iso_stamp, char(']')),
        char(' '),
    ))
    .parse(line)
    .ok()?;
    let own = pipeline_step(content);
    (time.is_some() || own).then_some(Framed {
        content,
        framing: Some(Framing::Jenkins),
        time: time.map(WallClock::DateTime),
        own,
    })
}

/// `clock , SP , ( pipeline-step | content )`: when `weak`, only before a
/// BuildKit line or a pipeline step (rule F2).
fn clock_line(line: &[u8], weak: bool) -> Option<Framed<'_>> {
    let (content, time) = terminated(clock, char(' ')).parse(line).ok()?;
    let own = pipeline_step(content);
    (!weak || own || starts_buildkit_line(content)).then_some(Framed {
        content,
        framing: Some(Framing::JenkinsClock),
        time: Some(WallClock::Time(time)),
        own,
    })
}

/// `act-line = "[" , job-name , "]" , SP , { SP } , ( "|" , [ SP , content ] | act-message )`.
fn act_line(line: &[u8]) -> Option<Framed<'_>> {
    let prefix: PResult<'_, _> = (
        char('['),
        verify(take_till(|c| c == b']'), |name: &[u8]| name.contains(&b'/')),
        tag("] "),
        take_while(|c| c == b' '),
    )
        .parse(line);
    let (after, _) = prefix.ok()?;
    let output: PResult<'_, &[u8]> =
        preceded(char('|'), alt((preceded(char(' '), rest), rest))).parse(after);
    Some(match output {
        Ok((_, content)) => Framed {
            content,
            framing: Some(Framing::Act),
            time: None,
            own: false,
        },
        Err(_) => Framed {
            content: &after[after.len()..],
            framing: Some(Framing::Act),
            time: None,
            own: true,
        },
    })
}

/// `pipeline-step = "[Pipeline]" , [ SP , text ] | "Finished: " , result`.
fn pipeline_step(content: &[u8]) -> bool {
    const RESULTS: [&[u8]; 5] = [
        b"SUCCESS",
        b"FAILURE",
        b"UNSTABLE",
        b"ABORTED",
        b"NOT_BUILT",
    ];
    content == b"[Pipeline]"
        || content.starts_with(b"[Pipeline] ")
        || content
            .strip_prefix(b"Finished: ")
            .is_some_and(|r| RESULTS.contains(&r))
}

/// A BuildKit line starts here (rule F2): a plain vertex line (`"#" , digit`),
/// a rawjson object (`{`) or a tty frame header (`[+] `).
fn starts_buildkit_line(content: &[u8]) -> bool {
    matches!(content, [b'#', d, ..] if d.is_ascii_digit())
        || content.first() == Some(&b'{')
        || content.starts_with(b"[+] ")
}

/// The width of `indent` (0 when the line does not start with one).
fn indent_width(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count()
}

/// `iso-stamp = date , "T" , clock , [ "." , fraction ] , "Z"`.
fn iso_stamp(i: &[u8]) -> PResult<'_, NaiveDateTime> {
    let (i, (date, time)) = (
        terminated(date, char('T')),
        terminated(
            (
                clock,
                opt(preceded(
                    char('.'),
                    take_while_m_n(1, 9, |c: u8| c.is_ascii_digit()),
                )),
            ),
            char('Z'),
        ),
    )
        .parse(i)?;
    let (time, fraction) = time;
    let nanos = fraction.map_or(0, |f: &[u8]| {
        // scale to nanoseconds: ".1234567" is 123456700
        f.iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    });
    let time = time.with_nanosecond(nanos).ok_or(nom::Err::Error(()))?;
    Ok((i, NaiveDateTime::new(date, time)))
}

/// `date = 4 * digit , "-" , 2 * digit , "-" , 2 * digit`.
fn date(i: &[u8]) -> PResult<'_, NaiveDate> {
    map_res(
        (
            number(4),
            preceded(char('-'), number(2)),
            preceded(char('-'), number(2)),
        ),
        |(y, m, d)| NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(()),
    )
    .parse(i)
}

/// `clock = 2 * digit , ":" , 2 * digit , ":" , 2 * digit`.
fn clock(i: &[u8]) -> PResult<'_, NaiveTime> {
    map_res(
        (
            number(2),
            preceded(char(':'), number(2)),
            preceded(char(':'), number(2)),
        ),
        |(h, m, s)| NaiveTime::from_hms_opt(h, m, s).ok_or(()),
    )
    .parse(i)
}

/// Exactly `n` ASCII digits as a number.
fn number<'a>(n: usize) -> impl Parser<&'a [u8], Output = u32, Error = ()> {
    map(
        take_while_m_n(n, n, |c: u8| c.is_ascii_digit()),
        |d: &[u8]| d.iter().fold(0u32, |n, c| n * 10 + u32::from(c - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_all(lines: &[&str]) -> Vec<(String, Option<Framing>, bool)> {
        let mut framer = Framer::new();
        lines
            .iter()
            .map(|l| {
                let f = framer.strip(l.as_bytes());
                (
                    String::from_utf8(f.content.to_vec()).unwrap(),
                    f.framing,
                    f.own,
                )
            })
            .collect()
    }

    #[test]
    fn github_actions_gitea_render() {
        let mut framer = Framer::new();
        let f = framer.strip(b"2024-01-01T12:00:00.1234567Z #5 DONE 0.1s");
        assert_eq!(f.content, b"#5 DONE 0.1s");
        assert_eq!(f.framing, Some(Framing::Timestamp));
        assert_eq!(
            f.time,
            Some(WallClock::DateTime(
                NaiveDate::from_ymd_opt(2024, 1, 1)
                    .unwrap()
                    .and_hms_nano_opt(12, 0, 0, 123_456_700)
                    .unwrap()
            ))
        );
        let f = framer.strip(b"2024-01-01T12:00:01.123456789Z ");
        assert_eq!((f.content, f.own), (&b""[..], false));
        let f = framer.strip(b"2024-01-01T12:00:01Z ##[group]Run docker build .");
        assert!(f.own);
        assert!(framer.strip(b"2024-13-01T12:00:00Z x").framing.is_none());
    }

    #[test]
    fn jenkins() {
        let got = strip_all(&[
            "[Pipeline] sh",
            "[2024-01-01T12:00:00.123Z] + docker build .",
            "[2024-01-01T12:00:00.456Z] #1 [internal] load build definition from Dockerfile",
            "[2024-01-01T12:00:01.000Z] [Pipeline] }",
        ]);
        assert_eq!(
            got[0],
            (
                String::new() + "[Pipeline] sh",
                Some(Framing::Jenkins),
                true
            )
        );
        assert_eq!(got[1].0, "+ docker build .");
        assert_eq!(
            got[2].0,
            "#1 [internal] load build definition from Dockerfile"
        );
        assert!(got[3].2);
        assert_eq!(
            strip_all(&["Finished: SUCCESS"])[0].1,
            Some(Framing::Jenkins)
        );

        let got = strip_all(&[
            "12:00:00 #1 [1/2] FROM x",
            "12:00:01 plain output",
            "12:00:02 text",
        ]);
        assert_eq!(
            got[1],
            ("plain output".into(), Some(Framing::JenkinsClock), false)
        );
        // weak: a bare line starting with a time of day stays whole
        let got = strip_all(&["12:00:01 plain output"]);
        assert_eq!(got[0], ("12:00:01 plain output".into(), None, false));
    }

    #[test]
    fn act() {
        let got = strip_all(&[
            "[CI/build] ⭐ Run Main docker build",
            "[CI/build]   | #5 DONE 0.1s",
            "[CI/build]   |",
            "[Container] 2024/01/15 10:23:45.123456 Entering phase BUILD",
        ]);
        assert_eq!(got[0], (String::new(), Some(Framing::Act), true));
        assert_eq!(got[1], ("#5 DONE 0.1s".into(), Some(Framing::Act), false));
        assert_eq!(got[2], (String::new(), Some(Framing::Act), false));
        assert_eq!(got[3].1, None, "a CodeBuild agent line is no act prefix");
    }

    #[test]
    fn indentation_by_region() {
        let got = strip_all(&[
            "    #1 [1/2] FROM x",
            "    #1 DONE 0.0s",
            "",
            "     > [2/2] RUN false:",
            "  less",
            "  #2 CACHED",
        ]);
        assert_eq!(
            got[1],
            ("#1 DONE 0.0s".into(), Some(Framing::Indent), false)
        );
        assert_eq!(got[3].0, " > [2/2] RUN false:");
        assert_eq!(got[4], ("  less".into(), None, false));
        assert_eq!(got[5], ("#2 CACHED".into(), Some(Framing::Indent), false));
        // a bare tty line is not indentation
        assert_eq!(strip_all(&[" => CACHED [2/5] RUN x  0.0s"])[0].1, None);
    }

    #[test]
    fn framing_changes_mid_file() {
        let got = strip_all(&[
            "2024-01-01T12:00:00.1234567Z #1 CACHED",
            "#2 CACHED",
            "[CI/build]   | #3 CACHED",
        ]);
        let framings: Vec<_> = got.iter().map(|g| g.1).collect();
        assert_eq!(
            framings,
            [Some(Framing::Timestamp), None, Some(Framing::Act)]
        );
        assert!(got.iter().all(|g| g.0.ends_with("CACHED")));
    }
}
