//! The tty progress display as a log keeps it: `grammars/buildkit-tty.ebnf`,
//! rule by rule, one cleaned line into a [`TtyLine`], and the frames of a
//! build ([`Frames`], rules T1 and T3). Less precise than plain: see the grammar.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{map, map_res, opt, recognize, rest, value, verify};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::fetch::Layers;
use super::plain::{FetchStatus, MAX_SECONDS, fetch_status};
use crate::model::Status;

type PResult<'a, O> = IResult<&'a [u8], O, ()>;

/// Rule `tty-line`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TtyLine<'a> {
    /// `frame-header`: the frame's time and whether it says FINISHED.
    Header {
        /// Seconds since the build started.
        seconds: f64,
        /// The final frame of a build that completed.
        finished: bool,
    },
    /// `step-line`.
    Step(TtyStep<'a>),
    /// `sub-line`: a layer's fetch (`fetch-sub`), or another status or output line.
    Sub(Option<FetchStatus<'a>>),
    /// `warn-line`: the message.
    Warn(&'a [u8]),
}

/// One `step-line`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TtyStep<'a> {
    /// From the `CACHED` and `state` words.
    pub status: Status,
    /// The (maybe cut) vertex name.
    pub name: &'a [u8],
    /// The timer.
    pub seconds: f64,
}

/// Parses a cleaned line; `None` when it is no `tty-line`.
pub fn parse_tty_line(line: &[u8]) -> Option<TtyLine<'_>> {
    match line.first()? {
        b'[' => frame_header(line).ok().map(|(_, l)| l),
        b' ' => alt((
            map(preceded(tag(" => => "), rest), |t| {
                TtyLine::Sub(fetch_sub(t))
            }),
            map(warn_line, TtyLine::Warn),
            map(step_line, TtyLine::Step),
        ))
        .parse(line)
        .ok()
        .map(|(_, l)| l),
        _ => None,
    }
}

/// `frame-header = "[+]" SP phase SP seconds "s" SP "(" count "/" count ")" [ SP "FINISHED" ] …`.
fn frame_header(i: &[u8]) -> PResult<'_, TtyLine<'_>> {
    let (i, seconds) = preceded(
        (
            tag("[+] "),
            take_while1(|c: u8| c.is_ascii_alphabetic()),
            char(' '),
        ),
        terminated(seconds, char('s')),
    )
    .parse(i)?;
    let (i, _) = (tag(" ("), digit1, char('/'), digit1, char(')')).parse(i)?;
    let (i, finished) = opt(tag(" FINISHED")).parse(i)?;
    let (i, _) = rest(i)?;
    Ok((
        i,
        TtyLine::Header {
            seconds,
            finished: finished.is_some(),
        },
    ))
}

/// `step-line = " => " [ "CACHED" SP ] [ state SP ] name { SP } SP timer`.
fn step_line(i: &[u8]) -> PResult<'_, TtyStep<'_>> {
    let (i, (cached, state)) = preceded(
        tag(" => "),
        (
            opt(tag("CACHED ")),
            opt(alt((
                value(Status::Error, tag("ERROR ")),
                value(Status::Canceled, tag("CANCELED ")),
            ))),
        ),
    )
    .parse(i)?;
    let (name, seconds) = timer_at_end(i)?;
    let status = state.unwrap_or(if cached.is_some() {
        Status::Cached
    } else {
        Status::Done
    });
    Ok((
        &i[i.len()..],
        TtyStep {
            status,
            name,
            seconds,
        },
    ))
}

/// `fetch-sub = fetch-status-head , { SP } , SP , timer`: a layer's download
/// or extraction (the head is `fetch-status` of `buildkit-plain.ebnf` without
/// its seconds and `done`; a digest cut at the terminal width is no fetch).
fn fetch_sub(text: &[u8]) -> Option<FetchStatus<'_>> {
    if !matches!(text.first(), Some(b's' | b'e')) {
        return None;
    }
    let (head, seconds) = timer_at_end(text).ok()?;
    let status = fetch_status(head)?;
    (status.seconds.is_none() && !status.done).then_some(FetchStatus {
        seconds: Some(seconds),
        ..status
    })
}

/// `warn-line = " => WARN: " message { SP } [ SP timer ]`.
fn warn_line(i: &[u8]) -> PResult<'_, &[u8]> {
    let (i, text) = preceded(tag(" => WARN: "), rest).parse(i)?;
    let message = timer_at_end(text).map_or(text.trim_ascii_end(), |(m, _)| m);
    Ok((i, message))
}

/// Splits `text { SP } SP timer`: the text (without the padding) and the seconds.
fn timer_at_end(i: &[u8]) -> Result<(&[u8], f64), nom::Err<()>> {
    let i = i.trim_ascii_end();
    let at = i
        .iter()
        .rposition(|&c| c == b' ')
        .ok_or(nom::Err::Error(()))?;
    let (_, secs) = terminated(seconds, (char('s'), nom::combinator::eof)).parse(&i[at + 1..])?;
    let text = i[..at].trim_ascii_end();
    if text.is_empty() {
        return Err(nom::Err::Error(()));
    }
    Ok((text, secs))
}

/// `seconds = digit , { digit } , "." , digit`, at most [`MAX_SECONDS`] (as plain `DONE` times).
fn seconds(i: &[u8]) -> PResult<'_, f64> {
    verify(
        map_res(recognize((digit1, char('.'), digit1)), |d: &[u8]| {
            std::str::from_utf8(d).map_err(drop)?.parse().map_err(drop)
        }),
        |s: &f64| s.is_finite() && *s <= MAX_SECONDS,
    )
    .parse(i)
}

/// The frames of one build (rules T1–T3).
#[derive(Debug, Default)]
pub struct Frames {
    /// Steps of the frame being read, with the line of each and the layers
    /// of the fetch sub-lines under it.
    steps: Vec<(u64, Status, String, f64, Layers)>,
    last_seconds: Option<f64>,
    finished: bool,
}

impl Frames {
    /// Rule T2: whether a header at `seconds` starts another build.
    pub fn starts_new_build(&self, seconds: f64) -> bool {
        self.finished || self.last_seconds.is_some_and(|last| seconds < last)
    }

    /// Rule T1: a new frame replaces the one before.
    pub fn header(&mut self, seconds: f64, finished: bool) {
        self.steps.clear();
        self.last_seconds = Some(seconds);
        self.finished = finished;
    }

    /// A step of the current frame, read at `line`.
    pub fn step(&mut self, step: &TtyStep<'_>, line: u64) {
        self.steps.push((
            line,
            step.status,
            String::from_utf8_lossy(step.name).into_owned(),
            step.seconds,
            Layers::default(),
        ));
    }

    /// Rule T4: a fetch sub-line belongs to the step-line above it.
    pub fn fetch(&mut self, status: &FetchStatus<'_>) {
        if let Some(step) = self.steps.last_mut() {
            step.4.record(status);
        }
    }

    /// Rules T3 and T4: the last frame's steps, numbered in display order.
    pub fn finish(self) -> impl Iterator<Item = FrameStep> {
        self.steps
            .into_iter()
            .zip(1u32..)
            .map(|((line, status, name, secs, layers), number)| FrameStep {
                number,
                line,
                status,
                name,
                seconds: (status == Status::Done).then_some(secs),
                layers,
            })
    }
}

/// A step of a build's last frame (rule T3).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameStep {
    /// Its place in the frame, from 1.
    pub number: u32,
    /// The line of its step-line.
    pub line: u64,
    /// Its status.
    pub status: Status,
    /// Its (maybe cut) name.
    pub name: String,
    /// The timer of a done step.
    pub seconds: Option<f64>,
    /// The layers its fetch sub-lines show (rule T4).
    pub layers: Layers,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(line: &str) -> TtyStep<'_> {
        match parse_tty_line(line.as_bytes()) {
            Some(TtyLine::Step(s)) => s,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    #[test]
    fn headers() {
        assert_eq!(
            parse_tty_line(b"[+] Building 16.5s (16/16) FINISHED                 docker:default"),
            Some(TtyLine::Header {
                seconds: 16.5,
                finished: true
            })
        );
        assert_eq!(
            parse_tty_line(b"[+] Building 2.1s (7/9)"),
            Some(TtyLine::Header {
                seconds: 2.1,
                finished: false
            })
        );
        assert_eq!(parse_tty_line(b"[+] Building"), None);
        assert_eq!(parse_tty_line(b"[internal] x"), None);
    }

    #[test]
    fn steps_and_others() {
        let s = step(" => CACHED [2/5] RUN apk add --no-cache git                    0.0s");
        assert_eq!(
            (s.status, s.name, s.seconds),
            (
                Status::Cached,
                &b"[2/5] RUN apk add --no-cache git"[..],
                0.0
            )
        );
        let s = step(" => [3/5] COPY . .                                    0.1s");
        assert_eq!((s.status, s.name), (Status::Done, &b"[3/5] COPY . ."[..]));
        let s = step(" => ERROR [4/5] RUN npm test                        12.3s");
        assert_eq!((s.status, s.seconds), (Status::Error, 12.3));
        let s = step(" => CANCELED [lint 3/3] RUN make lint  120.5s");
        assert_eq!(s.status, Status::Canceled);
        let s = step(" => [internal] load build definition from Dockerfile     0.0s");
        assert_eq!(s.name, b"[internal] load build definition from Dockerfile");
        assert_eq!(
            parse_tty_line(b" => => transferring dockerfile: 412B              0.0s"),
            Some(TtyLine::Sub(None))
        );
        assert_eq!(
            parse_tty_line(b" => => # npm WARN deprecated x"),
            Some(TtyLine::Sub(None))
        );
        // a layer's download and extraction (display.go: the status id, its
        // "%.2f / %.2f" bytes, the timer)
        let digest = format!("sha256:{}", "3".repeat(64));
        let fetch = |line: String| match parse_tty_line(line.as_bytes()) {
            Some(TtyLine::Sub(Some(f))) => Some((f.bytes, f.seconds)),
            _ => None,
        };
        assert_eq!(
            fetch(format!(
                " => => {digest} 33.55MB / 132.54MB              4.7s"
            )),
            Some((Some(132_540_000), Some(4.7)))
        );
        assert_eq!(
            fetch(format!(
                " => => extracting {digest}                     1.2s"
            )),
            Some((None, Some(1.2)))
        );
        // a digest cut at the terminal width is no fetch
        assert_eq!(fetch(format!(" => => {}   0.3s", &digest[..40])), None);
        assert_eq!(
            parse_tty_line(b" => WARN: FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)   0.0s"),
            Some(TtyLine::Warn(
                b"FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)"
            ))
        );
        for not in [
            " => ",
            " => [2/5] RUN x",
            " > [2/5] RUN x:",
            "  => x 0.1s",
            " =>  0.1s",
        ] {
            assert_eq!(parse_tty_line(not.as_bytes()), None, "{not}");
        }
    }

    #[test]
    fn implausible_timers_are_no_steps() {
        let huge = format!(" => [2/5] RUN x  {}.0s", "9".repeat(400));
        assert_eq!(parse_tty_line(huge.as_bytes()), None);
        assert_eq!(parse_tty_line(b"[+] Building 700000.0s (1/2)"), None);
    }

    #[test]
    fn the_last_frame_wins() {
        let mut f = Frames::default();
        f.header(0.5, false);
        f.step(&step(" => [1/2] FROM x  0.1s"), 2);
        f.header(1.5, true);
        f.step(&step(" => CACHED [1/2] FROM x  0.0s"), 4);
        f.step(&step(" => [2/2] RUN a  1.2s"), 5);
        assert!(f.starts_new_build(0.1));
        let steps: Vec<_> = f.finish().collect();
        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps[0],
            FrameStep {
                number: 1,
                line: 4,
                status: Status::Cached,
                name: "[1/2] FROM x".into(),
                seconds: None,
                layers: Layers::default(),
            }
        );
        assert_eq!(steps[1].seconds, Some(1.2));
    }
}
