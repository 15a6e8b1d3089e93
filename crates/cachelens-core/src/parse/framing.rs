//! CI framing peeled off each line before a format grammar sees it:
//! `grammars/ci-framing.ebnf`, rule by rule. The framing is learned, not
//! listed: a region's prefix is whatever stands before BuildKit's own line
//! shapes (rule F1), taken only where the next line carries the same shape
//! (rule F2), then peeled from every line of the region (rule F3).

use crate::model::{Framing, WallClock};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use nom::branch::alt;
use nom::bytes::complete::take_while_m_n;
use nom::character::complete::{char, one_of};
use nom::combinator::{map, map_res, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};

type PResult<'a, O> = IResult<&'a [u8], O, ()>;

/// A prefix longer than this is no framing (rule F1).
const MAX_PREFIX: usize = 128;

/// Blank lines a candidate waits over for the line that confirms it (rule F2).
const MAX_BLANKS: u32 = 16;

/// One line with its framing taken off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    /// The line as read, framing included.
    pub line: &'a [u8],
    /// What the format grammars parse.
    pub content: &'a [u8],
    /// The region's framing, if any.
    pub framing: Option<Framing>,
    /// The line's wall-clock time, if its prefix carries one.
    pub time: Option<WallClock>,
    /// The line is the CI's own (rule F5): no content.
    pub own: bool,
    /// The line continues the line before it (rule F6: GitLab's `+`).
    pub continuation: bool,
}

impl<'a> Framed<'a> {
    /// A line without framing (its content may still be the CI's own line).
    fn bare(line: &'a [u8]) -> Self {
        Framed {
            line,
            content: line,
            framing: None,
            time: None,
            own: ci_own_line(line),
            continuation: false,
        }
    }
}

/// The prefix of a region (rule F3): a template whose digit runs stand for any number.
#[derive(Debug)]
struct Region {
    template: Vec<u8>,
    framing: Framing,
    /// Where a stamp starts in the template.
    time_at: Option<usize>,
    /// Where GitLab's stream number (two hex digits) and letter (`O` or `E`) stand.
    stream_at: Option<usize>,
}

/// What a line matched of a template.
struct Match {
    /// Bytes of the line the prefix takes.
    len: usize,
    /// Where the stamp starts in the line.
    time_at: Option<usize>,
    continuation: bool,
}

impl Region {
    fn new(template: &[u8]) -> Self {
        let (framing, time_at) = classify(template);
        // `gitlab-stream` ends the template
        let stream_at = (framing == Framing::GitLab).then(|| template.len() - 4);
        Region {
            template: template.to_vec(),
            framing,
            time_at,
            stream_at,
        }
    }

    /// What `line` matches of this region's prefix.
    #[inline]
    fn matches(&self, line: &[u8]) -> Option<Match> {
        // the common case first: the same bytes, digits aside, at the same places
        // (fixed-width stamps); numbers of other widths, GitLab's streams and
        // continuations take the rule's whole walk
        let t = &self.template[..];
        if line.len() >= t.len()
            && t.iter()
                .zip(line)
                .all(|(&a, &b)| a == b || (a.is_ascii_digit() && b.is_ascii_digit()))
            && line.get(t.len()).is_none_or(|c| !c.is_ascii_digit())
        {
            return Some(Match {
                len: t.len(),
                time_at: self.time_at,
                continuation: false,
            });
        }
        match_template(t, self.time_at, self.stream_at, line)
    }

    /// The line without this region's prefix, when it carries it.
    fn peel<'a>(&self, line: &'a [u8]) -> Option<Framed<'a>> {
        let m = self.matches(line)?;
        Some(self.framed(line, &m))
    }

    fn framed<'a>(&self, line: &'a [u8], m: &Match) -> Framed<'a> {
        let mut content = &line[m.len..];
        // rule F3: a stray space before `#N` is no new shape
        if let [b' ', b'#', d, ..] = content
            && d.is_ascii_digit()
        {
            content = &content[1..];
        }
        Framed {
            line,
            content,
            framing: Some(self.framing),
            time: m
                .time_at
                .and_then(|at| stamp(&line[at..]).ok().map(|(_, t)| t)),
            own: !m.continuation && ci_own_line(content),
            continuation: m.continuation,
        }
    }
}

/// A line held until it is known whether a region starts around it (rule F2).
#[derive(Debug)]
struct Held {
    number: u64,
    /// Its bytes in [`Framer::buf`].
    start: usize,
    end: usize,
    blank: bool,
}

/// Strips framing line after line, learning each region's prefix (rules F1–F3).
///
/// Outside a region, lines that are not bare BuildKit lines are held (a few at
/// most) until a line with BuildKit's shape after a prefix (the candidate) and
/// the line after it or before it say whether that prefix repeats; lines come
/// out in input order.
#[derive(Debug, Default)]
pub struct Framer {
    region: Option<Region>,
    held: Vec<Held>,
    buf: Vec<u8>,
    /// Index in `held` of the candidate line and where its BuildKit shape starts.
    candidate: Option<(usize, usize)>,
    /// A line of a region whose lines may continue (rule F6), waiting for the next.
    open: Option<Open>,
}

/// The line read last in a region where a line may continue on the next.
#[derive(Debug)]
struct Open {
    number: u64,
    line: Vec<u8>,
    content: Vec<u8>,
    framing: Option<Framing>,
    time: Option<WallClock>,
}

/// Lines held at most before the oldest is let go bare.
const MAX_HELD: usize = 64;

/// A longer line without BuildKit's shape is not held (it is let go bare).
const MAX_HELD_LINE: usize = 4096;

impl Framer {
    /// A framer at the start of a log.
    pub fn new() -> Self {
        Framer::default()
    }

    /// Reads one line; `emit` gets it (and the lines held before it) without framing.
    #[inline]
    pub fn push(&mut self, number: u64, line: &[u8], emit: &mut impl FnMut(u64, Framed<'_>)) {
        // the hot path: a bare log's vertex lines
        if self.region.is_none()
            && self.held.is_empty()
            && matches!(line, [b'#', d, ..] if d.is_ascii_digit())
        {
            return emit(
                number,
                Framed {
                    line,
                    content: line,
                    framing: None,
                    time: None,
                    own: false,
                    continuation: false,
                },
            );
        }
        if let Some((at, prefix)) = self.candidate {
            if is_blank(line) && self.held.len() - at <= MAX_BLANKS as usize {
                return self.hold(number, line);
            }
            // the line after the candidate repeats its prefix, or is only indented
            let template = &self.buf[self.held[at].start..][..prefix];
            let region = Some(Region::new(template))
                .filter(|r| r.matches(line).is_some())
                .or_else(|| label_region(template, line));
            match region {
                Some(region) => self.confirm(region, emit),
                None => self.release(emit),
            }
        }
        self.read(number, line, emit);
    }

    /// Ends the log: the lines still held are bare.
    pub fn finish(&mut self, emit: &mut impl FnMut(u64, Framed<'_>)) {
        self.close(emit);
        self.release(emit);
    }

    /// Rule F6: a line of a region whose prefix marks continuations waits for
    /// the next, which may be its rest.
    fn join(&mut self, number: u64, framed: Framed<'_>, emit: &mut impl FnMut(u64, Framed<'_>)) {
        match (&mut self.open, framed.continuation) {
            (Some(open), true) => open.content.extend_from_slice(framed.content),
            // the rest of a line read before the region was known: the reader skips it
            (None, true) => emit(number, framed),
            (_, false) => {
                self.close(emit);
                self.open = Some(Open {
                    number,
                    line: framed.line.to_vec(),
                    content: framed.content.to_vec(),
                    framing: framed.framing,
                    time: framed.time,
                });
            }
        }
    }

    /// Lets the line that waited for its continuation go.
    fn close(&mut self, emit: &mut impl FnMut(u64, Framed<'_>)) {
        if let Some(open) = self.open.take() {
            emit(
                open.number,
                Framed {
                    line: &open.line,
                    content: &open.content,
                    framing: open.framing,
                    time: open.time,
                    own: ci_own_line(&open.content),
                    continuation: false,
                },
            );
        }
    }

    /// A line read with the region as it stands.
    fn read(&mut self, number: u64, line: &[u8], emit: &mut impl FnMut(u64, Framed<'_>)) {
        if let Some(region) = &self.region {
            if let Some(framed) = region.peel(line) {
                if region.stream_at.is_some() {
                    return self.join(number, framed, emit);
                }
                return emit(number, framed);
            }
            self.close(emit);
            if is_blank(line) {
                return emit(number, Framed::bare(line));
            }
            self.region = None;
        }
        match anchor(line) {
            Some(0) => {
                self.release(emit);
                emit(number, Framed::bare(line));
            }
            // rule F3: a stray space before `#N` is no new shape
            Some(1) if line[0] == b' ' && line[1] == b'#' => {
                self.release(emit);
                emit(
                    number,
                    Framed {
                        content: &line[1..],
                        ..Framed::bare(line)
                    },
                );
            }
            Some(prefix) => {
                self.hold(number, line);
                self.candidate = Some((self.held.len() - 1, prefix));
                // the line before the candidate may repeat its prefix already
                let before = self.held.iter().rev().skip(1).find(|h| !h.blank);
                let region = Region::new(&line[..prefix]);
                if before.is_some_and(|h| region.matches(&self.buf[h.start..h.end]).is_some()) {
                    self.confirm(region, emit);
                }
            }
            None if self.held.is_empty() && (is_blank(line) || line.len() > MAX_HELD_LINE) => {
                emit(number, Framed::bare(line))
            }
            None if line.len() > MAX_HELD_LINE => {
                self.release(emit);
                emit(number, Framed::bare(line));
            }
            None => {
                if self.held.len() == MAX_HELD {
                    self.release(emit);
                }
                self.hold(number, line);
            }
        }
    }

    fn hold(&mut self, number: u64, line: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(line);
        self.held.push(Held {
            number,
            start,
            end: self.buf.len(),
            blank: is_blank(line),
        });
    }

    /// Lets every held line go without framing.
    fn release(&mut self, emit: &mut impl FnMut(u64, Framed<'_>)) {
        for h in &self.held {
            emit(h.number, Framed::bare(&self.buf[h.start..h.end]));
        }
        self.held.clear();
        self.buf.clear();
        self.candidate = None;
    }

    /// The candidate starts `region`: it and the held lines just before it that
    /// carry the region's prefix are peeled, the older ones let go bare.
    fn confirm(&mut self, region: Region, emit: &mut impl FnMut(u64, Framed<'_>)) {
        let Some((at, prefix)) = self.candidate.take() else {
            return self.release(emit);
        };
        let lines = |h: &Held| &self.buf[h.start..h.end];
        let joined = self.held[..at]
            .iter()
            .rev()
            .take_while(|h| h.blank || region.matches(lines(h)).is_some())
            .count();
        let last = self.held.len() - 1;
        for (i, h) in self.held.iter().enumerate() {
            let line = lines(h);
            let framed = if i == at {
                let m = Match {
                    len: prefix,
                    time_at: classify(&line[..prefix]).1,
                    continuation: false,
                };
                let framed = region.framed(line, &m);
                // rule F6: the candidate may continue on the next line
                if region.stream_at.is_some() && i == last {
                    self.open = Some(Open {
                        number: h.number,
                        line: line.to_vec(),
                        content: framed.content.to_vec(),
                        framing: framed.framing,
                        time: framed.time,
                    });
                    continue;
                }
                framed
            } else if i + joined >= at && !h.blank {
                region.peel(line).unwrap_or_else(|| Framed::bare(line))
            } else {
                Framed::bare(line)
            };
            emit(h.number, framed);
        }
        self.held.clear();
        self.buf.clear();
        self.region = Some(region);
    }
}

/// Rule F2's second form: a first line labelled (`word:` and spaces), the next
/// ones only indented: by the label's own indentation (`    warning: #1 …` then
/// `    #1 …`), or, for a label at the start of the line, by its width
/// (`Stderr:   #1 …` then `          #1 …`).
fn label_region(template: &[u8], next: &[u8]) -> Option<Region> {
    let lead = indent_width(template);
    let label = template[lead..].trim_ascii_end().strip_suffix(b":")?;
    let word = label.first().is_some_and(u8::is_ascii_alphabetic)
        && label
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'));
    let width = if lead > 0 { lead } else { template.len() };
    (word && indent_width(next) >= width && !is_blank(next)).then(|| Region::new(&next[..width]))
}

/// Rule F1: where BuildKit's own line shapes start (`#N `, `[+] Building`,
/// ` => `, a rawjson object, the client's `ERROR: failed to …` and the recap's `------`),
/// within [`MAX_PREFIX`] bytes and after a separator.
///
/// Every shape starts with one of six bytes, so only their places are tried, found
/// with memchr's vector search (the CI's own lines hold none, or few): `#`, `{`,
/// `[` in one pass, and `E`, `-` and the `=` of ` => ` in another.
fn anchor(line: &[u8]) -> Option<usize> {
    let limit = line.len().min(MAX_PREFIX + 1);
    let after_separator = |at: usize| at == 0 || is_separator(line[at - 1]);
    let opening = memchr::memchr3_iter(b'#', b'{', b'[', &line[..limit]).find(|&at| {
        let rest = &line[at..];
        after_separator(at)
            && match rest[0] {
                b'#' => vertex_start(rest),
                b'{' => object_start(rest),
                _ => rest.starts_with(b"[+] Building"),
            }
    });
    // the `=` of ` => ` stands one byte after the anchor
    let reach = line.len().min(limit + 1);
    let other = memchr::memchr3_iter(b'E', b'-', b'=', &line[..reach])
        .filter_map(|at| match line[at] {
            b'=' => at.checked_sub(1),
            _ => Some(at),
        })
        .take_while(|&at| at < limit && opening.is_none_or(|first| at < first))
        .find(|&at| {
            let rest = &line[at..];
            match rest[0] {
                b' ' => rest.starts_with(b" => "),
                b'E' => {
                    after_separator(at)
                        && (rest.starts_with(b"ERROR: failed to ")
                            || rest.starts_with(b"ERROR: BuildKit "))
                }
                b'-' => after_separator(at) && rest == b"------",
                _ => false,
            }
        });
    other.or(opening)
}

/// `separator`: what may stand between a prefix and the content.
fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b']' | b'|' | b':' | b'>' | b')' | 0x07)
}

/// `"#" , digit , { digit } , ( end | SP , [ body-start ] )`: what follows is
/// how a vertex body starts (a letter or digit, `[`, `.`), so that a step
/// number in a prefix (`Step #1 - "build": #1 …`) is no anchor.
fn vertex_start(rest: &[u8]) -> bool {
    let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && match rest.get(1 + digits) {
            None => true,
            Some(b' ') => rest
                .get(2 + digits)
                .is_none_or(|&c| c.is_ascii_alphanumeric() || c == b'[' || c == b'.'),
            Some(_) => false,
        }
}

/// A rawjson object: `{` alone, or `{"` and a SolveStatus field.
fn object_start(rest: &[u8]) -> bool {
    rest == b"{"
        || [
            &b"{\"vertexes\""[..],
            b"{\"statuses\"",
            b"{\"logs\"",
            b"{\"warnings\"",
        ]
        .iter()
        .any(|p| rest.starts_with(p))
}

/// Rule F3: `line` starts with `template`'s shape (a digit run stands for any
/// number, with or without a fraction; at `stream_at` a GitLab stream: two hex
/// digits and `O` or `E`); trailing white space of the template may be missing at the end of
/// the line, and a `+` in place of its last space marks a continuation (rule F6).
fn match_template(
    template: &[u8],
    time_at: Option<usize>,
    stream_at: Option<usize>,
    line: &[u8],
) -> Option<Match> {
    let (mut i, mut j) = (0, 0);
    let mut m = Match {
        len: 0,
        time_at: None,
        continuation: false,
    };
    while i < template.len() {
        if time_at == Some(i) {
            m.time_at = Some(j);
        }
        if stream_at == Some(i) {
            match line.get(j..j + 3) {
                Some([a, b, b'O' | b'E']) if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {}
                _ => return None,
            }
            i += 3;
            j += 3;
            continue;
        }
        let t = template[i];
        if t.is_ascii_digit() {
            let n = number_len(&line[j..]);
            if n == 0 {
                return None;
            }
            i += number_len(&template[i..]);
            j += n;
            continue;
        }
        match line.get(j) {
            Some(&c) if c == t => {}
            Some(b'+') if t == b' ' && i + 1 == template.len() => m.continuation = true,
            None if template[i..].iter().all(|&c| c == b' ' || c == b'\t') => break,
            _ => return None,
        }
        i += 1;
        j += 1;
    }
    m.len = j;
    Some(m)
}

/// `number = digit , { digit } , [ "." , digit , { digit } ]`.
fn number_len(s: &[u8]) -> usize {
    let mut n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return 0;
    }
    if s.get(n) == Some(&b'.') {
        let fraction = s[n + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction > 0 {
            n += 1 + fraction;
        }
    }
    n
}

/// Rule F4: the class of a prefix, and where its stamp starts.
fn classify(template: &[u8]) -> (Framing, Option<usize>) {
    if template.iter().all(|&c| c == b' ' || c == b'\t') {
        return (Framing::Indent, None);
    }
    if template.starts_with(b"[Container] ") && stamp(&template[12..]).is_ok() {
        return (Framing::CodeBuild, Some(12));
    }
    let bracketed = template.first() == Some(&b'[');
    let at = usize::from(bracketed);
    if let Ok((after, time)) = stamp(&template[at..]) {
        let framing = match (bracketed, time) {
            (true, _) => Framing::Jenkins,
            (false, WallClock::Time(_)) => Framing::JenkinsClock,
            (false, WallClock::DateTime(_)) if gitlab_stream(after) => Framing::GitLab,
            (false, WallClock::DateTime(_)) => Framing::Timestamp,
        };
        return (framing, Some(at));
    }
    if act_job(template) {
        return (Framing::Act, None);
    }
    // a stamp after a tag or a label: the time is kept, the class is generic
    let time_at = (1..template.len())
        .filter(|&i| template[i].is_ascii_digit() && !template[i - 1].is_ascii_digit())
        .find(|&i| stamp(&template[i..]).is_ok_and(|(_, t)| matches!(t, WallClock::DateTime(_))));
    (Framing::Prefix, time_at)
}

/// `gitlab-stream = SP , 2 * hex-digit , ( "O" | "E" ) , ( SP | "+" )`.
fn gitlab_stream(after: &[u8]) -> bool {
    matches!(after, [b' ', a, b, b'O' | b'E', b' ' | b'+']
        if a.is_ascii_hexdigit() && b.is_ascii_hexdigit())
}

/// `act-job = "[" , name , "/" , name , "]" , SP , { SP } , "|" , [ SP ]`.
fn act_job(template: &[u8]) -> bool {
    let Some(close) = template.iter().position(|&c| c == b']') else {
        return false;
    };
    let rest = template[close + 1..].trim_ascii();
    template[0] == b'[' && template[..close].contains(&b'/') && rest == b"|"
}

/// `act-message = "[" , name , "/" , name , "]" , SP , text - "|"`: act's own
/// lines (`[CI/build] ⭐ Run Main …`), beside its `| ` output lines.
fn act_message(content: &[u8]) -> bool {
    let Some(close) = content.iter().position(|&c| c == b']') else {
        return false;
    };
    let (job, rest) = content.split_at(close + 1);
    job.contains(&b'/')
        && !job[1..].contains(&b'[')
        && rest.first() == Some(&b' ')
        && rest.trim_ascii_start().first().is_some_and(|&c| c != b'|')
}

/// Rule F5: the CI's own lines, which carry no BuildKit content: GitHub/Azure
/// workflow commands, Jenkins Pipeline steps and result, act's messages,
/// GitLab sections, Buildkite groups.
fn ci_own_line(content: &[u8]) -> bool {
    const RESULTS: [&[u8]; 5] = [
        b"SUCCESS",
        b"FAILURE",
        b"UNSTABLE",
        b"ABORTED",
        b"NOT_BUILT",
    ];
    match content.first() {
        Some(b'#') => content.starts_with(b"##[") || content.starts_with(b"##vso["),
        Some(b'[') => {
            content == b"[Pipeline]" || content.starts_with(b"[Pipeline] ") || act_message(content)
        }
        Some(b'F') => content
            .strip_prefix(b"Finished: ")
            .is_some_and(|r| RESULTS.contains(&r)),
        Some(b's') => {
            content.starts_with(b"section_start:") || content.starts_with(b"section_end:")
        }
        Some(b'-' | b'+' | b'~') => [&b"--- "[..], b"+++ ", b"~~~ "]
            .iter()
            .any(|g| content.starts_with(g)),
        _ => false,
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&c| c == b' ' || c == b'\t')
}

/// The width of the leading white space.
fn indent_width(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count()
}

/// `stamp = date , ( "T" | SP ) , clock , [ "Z" ] | clock`.
pub(crate) fn stamp(i: &[u8]) -> PResult<'_, WallClock> {
    if let Some(parsed) = date_time_fast(i) {
        return Ok(parsed);
    }
    alt((
        map(
            (date, one_of("T "), clock, opt(char('Z'))),
            |(d, _, t, _)| WallClock::DateTime(NaiveDateTime::new(d, t)),
        ),
        map(clock, WallClock::Time),
    ))
    .parse(i)
}

/// The common `stamp` (`2024-01-01T12:00:00.1234567Z`, `2024/01/01 12:00:00`,
/// `10:02:37`) read by position; anything else goes to the parsers below.
fn date_time_fast(i: &[u8]) -> Option<(&[u8], WallClock)> {
    let digits = |at: usize, n: usize| -> Option<u32> {
        i.get(at..at + n)?.iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    if i.get(2) == Some(&b':') && i.get(5) == Some(&b':') {
        let time = NaiveTime::from_hms_opt(digits(0, 2)?, digits(3, 2)?, digits(6, 2)?)?;
        return (i.get(8) != Some(&b'.')).then(|| (&i[8..], WallClock::Time(time)));
    }
    let sep = *i.get(4)?;
    if !(matches!(sep, b'-' | b'/')
        && i.get(7) == Some(&sep)
        && matches!(i.get(10), Some(b'T' | b' '))
        && i.get(13) == Some(&b':')
        && i.get(16) == Some(&b':'))
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(digits(0, 4)? as i32, digits(5, 2)?, digits(8, 2)?)?;
    let mut at = 19;
    let mut nanos = 0u32;
    if i.get(at) == Some(&b'.') {
        let fraction = i[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if fraction == 0 || fraction > 9 {
            return None;
        }
        nanos = digits(at + 1, fraction)? * 10u32.pow(9 - fraction as u32);
        at += 1 + fraction;
    }
    let time = NaiveTime::from_hms_nano_opt(digits(11, 2)?, digits(14, 2)?, digits(17, 2)?, nanos)?;
    if i.get(at) == Some(&b'Z') {
        at += 1;
    }
    Some((
        &i[at..],
        WallClock::DateTime(NaiveDateTime::new(date, time)),
    ))
}

/// `date = 4 * digit , ( "-" | "/" ) , 2 * digit , same separator , 2 * digit`.
fn date(i: &[u8]) -> PResult<'_, NaiveDate> {
    let (i, y) = number(4).parse(i)?;
    let (i, sep) = one_of("-/").parse(i)?;
    map_res((number(2), preceded(char(sep), number(2))), |(m, d)| {
        NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(())
    })
    .parse(i)
}

/// `clock = 2 * digit , ":" , 2 * digit , ":" , 2 * digit , [ "." , fraction ]`.
fn clock(i: &[u8]) -> PResult<'_, NaiveTime> {
    let (i, (h, m, s, fraction)) = (
        number(2),
        preceded(char(':'), number(2)),
        preceded(char(':'), number(2)),
        opt(preceded(
            char('.'),
            take_while_m_n(1, 9, |c: u8| c.is_ascii_digit()),
        )),
    )
        .parse(i)?;
    let nanos = fraction.map_or(0, |f: &[u8]| {
        // scale to nanoseconds: ".1234567" is 123456700
        f.iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    });
    let time = NaiveTime::from_hms_opt(h, m, s)
        .and_then(|t| t.with_nanosecond(nanos))
        .ok_or(nom::Err::Error(()))?;
    Ok((i, time))
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

    type Got = (String, Option<Framing>, bool);

    /// What `pick` takes of each line that comes out of a framer fed `lines`.
    fn frame_all<T>(lines: &[&str], pick: impl Fn(&Framed<'_>) -> T) -> Vec<T> {
        let mut framer = Framer::new();
        let mut got = Vec::new();
        let mut emit = |_: u64, f: Framed<'_>| got.push(pick(&f));
        for (i, l) in lines.iter().enumerate() {
            framer.push(i as u64 + 1, l.as_bytes(), &mut emit);
        }
        framer.finish(&mut emit);
        got
    }

    fn text(f: &Framed<'_>) -> String {
        String::from_utf8(f.content.to_vec()).unwrap()
    }

    fn strip_all(lines: &[&str]) -> Vec<Got> {
        let got = frame_all(lines, |f| (text(f), f.framing, f.own));
        assert_eq!(got.len(), lines.len(), "every line comes out once");
        got
    }

    fn times(lines: &[&str]) -> Vec<Option<WallClock>> {
        frame_all(lines, |f| f.time)
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> Option<WallClock> {
        Some(WallClock::DateTime(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_nano_opt(h, mi, s, nanos)
                .unwrap(),
        ))
    }

    #[test]
    fn github_actions_stamps_are_learned_with_their_times() {
        let lines = [
            "2024-01-01T12:00:00.1234567Z ##[group]Run docker build .",
            "2024-01-01T12:00:00.2234567Z #5 [2/2] RUN x",
            "2024-01-01T12:00:01.5Z #5 DONE 0.1s",
            "2024-01-01T12:00:01.123456789Z ",
        ];
        let got = strip_all(&lines);
        assert_eq!(
            got[0].0, "##[group]Run docker build .",
            "it carries the next line's prefix"
        );
        assert!(got[0].2, "a workflow command is the CI's own");
        assert_eq!(
            got[1],
            ("#5 [2/2] RUN x".into(), Some(Framing::Timestamp), false)
        );
        assert_eq!(got[2].0, "#5 DONE 0.1s", "fraction widths vary");
        assert_eq!(got[3].0, "");
        let t = times(&lines);
        assert_eq!(t[1], at(2024, 1, 1, 12, 0, 0, 223_456_700));
        assert_eq!(t[2], at(2024, 1, 1, 12, 0, 1, 500_000_000));
    }

    #[test]
    fn jenkins_timestamper_forms() {
        let got = strip_all(&[
            "10:02:37  + docker build .",
            "10:02:37  #7 importing cache manifest from r/app:cache",
            "10:02:38  #7 DONE 0.4s",
            "10:02:38  ",
            "10:02:38  ------",
        ]);
        assert_eq!(
            got[0].0, "+ docker build .",
            "it carries the next line's prefix"
        );
        assert_eq!(got[1].0, "#7 importing cache manifest from r/app:cache");
        let got = strip_all(&[
            "Started by user admin",
            "10:02:31  + docker build .",
            "10:02:37  #7 importing cache manifest from r/app:cache",
            "10:02:38  #7 DONE 0.4s",
            "10:02:38  ",
            "10:02:38  ------",
        ]);
        assert_eq!(got[0].1, None, "a line of another shape joins no region");
        assert_eq!(got[1].0, "+ docker build .");
        let got = got[1..].to_vec();
        assert_eq!(got[1].0, "#7 importing cache manifest from r/app:cache");
        assert_eq!(
            got[2],
            ("#7 DONE 0.4s".into(), Some(Framing::JenkinsClock), false)
        );
        assert_eq!(got[3].0, "");
        assert_eq!(
            got[4].0, "------",
            "a region peels lines that are no vertex line too"
        );

        let got = strip_all(&[
            "[2024-01-01T12:00:00.456Z] #1 [internal] load build definition from Dockerfile",
            "[2024-01-01T12:00:00.457Z] #1 DONE 0.0s",
            "[2024-01-01T12:00:01.000Z] [Pipeline] }",
        ]);
        assert_eq!(got[0].1, Some(Framing::Jenkins));
        assert_eq!(got[1].0, "#1 DONE 0.0s");
        assert!(got[2].2);

        let got = strip_all(&[
            "[2023-09-06 17:12:48.593]  #20 exporting to image",
            "[2023-09-06 17:12:48.601]  #20 exporting layers 0.1s done",
        ]);
        assert_eq!(
            got[1],
            (
                "#20 exporting layers 0.1s done".into(),
                Some(Framing::Jenkins),
                false
            )
        );
    }

    #[test]
    fn a_stamp_and_a_tag() {
        let lines = [
            "2025-07-27T11:45:12.628Z [builder] #28 pushing layers",
            "2025-07-27T11:45:13.001Z [builder] #28 pushing layers 0.4s done",
        ];
        let got = strip_all(&lines);
        assert_eq!(
            got[0],
            ("#28 pushing layers".into(), Some(Framing::Timestamp), false)
        );
        assert_eq!(times(&lines)[1], at(2025, 7, 27, 11, 45, 13, 1_000_000));
    }

    #[test]
    fn codebuild_agent_prefix_on_command_output() {
        let got = strip_all(&[
            "[Container] 2024/03/27 12:58:52 #3 [2/2] RUN make",
            "[Container] 2024/03/27 12:58:52.123456 #3 ERROR: process did not complete",
            "[Container] 2024/03/27 12:58:53 Command did not exit successfully docker build . exit status 1",
        ]);
        assert_eq!(
            got[0],
            ("#3 [2/2] RUN make".into(), Some(Framing::CodeBuild), false)
        );
        assert_eq!(
            got[1].0, "#3 ERROR: process did not complete",
            "with or without microseconds"
        );
        assert_eq!(got[2].1, Some(Framing::CodeBuild));
    }

    #[test]
    fn gitlab_stream_markers_and_continuations() {
        let got = frame_all(
            &[
                "2024-05-21T08:22:47.417284Z 01O #1 [internal] load build definition from Dockerfile",
                "2024-05-21T08:22:47.417290Z 01O #1 0.011 a long output line that the runner cut",
                "2024-05-21T08:22:47.417291Z 01O+ and continued",
                "2024-05-21T08:22:47.417299Z 0aE #1 DONE 0.0s",
            ],
            |f| (text(f), f.framing, f.continuation),
        );
        assert_eq!(got[0].1, Some(Framing::GitLab));
        assert_eq!(got.len(), 3, "a continuation is read with its line");
        assert_eq!(
            got[1],
            (
                "#1 0.011 a long output line that the runner cut and continued".into(),
                Some(Framing::GitLab),
                false
            )
        );
        assert_eq!(got[2].0, "#1 DONE 0.0s", "stream numbers are hex");
        // a header cut in two is whole again
        let got = frame_all(
            &[
                "2024-05-21T08:22:47.417284Z 01E #1 [internal] load build defin",
                "2024-05-21T08:22:47.417284Z 01E+ition from Dockerfile",
                "2024-05-21T08:22:47.417290Z 01E #1 DONE 0.0s",
            ],
            text,
        );
        assert_eq!(
            got,
            [
                "#1 [internal] load build definition from Dockerfile",
                "#1 DONE 0.0s"
            ]
        );
    }

    #[test]
    fn labels_on_the_first_line_only() {
        let got = strip_all(&[
            "    warning: #1 [internal] load build definition from Dockerfile",
            "    #1 transferring dockerfile: 32B done",
            "    #1 DONE 0.0s",
            "",
            "     > [2/2] RUN false:",
        ]);
        assert_eq!(
            got[0].0,
            "#1 [internal] load build definition from Dockerfile"
        );
        assert_eq!(
            got[1],
            (
                "#1 transferring dockerfile: 32B done".into(),
                Some(Framing::Indent),
                false
            )
        );
        assert_eq!(
            got[4].0, " > [2/2] RUN false:",
            "only the region's prefix is peeled"
        );

        let got = strip_all(&["Stderr:   #1 [1/2] FROM x", "          #1 DONE 0.0s"]);
        assert_eq!(got[0].0, "#1 [1/2] FROM x");
        assert_eq!(got[1].0, "#1 DONE 0.0s");
    }

    #[test]
    fn a_prefix_is_taken_only_where_it_repeats() {
        // a bare log's lines that start with a clock, a date or spaces stay whole
        for lines in [
            &["12:00:01 #1 is the best", "#2 [1/1] RUN x"][..],
            &["2024-01-01 12:00:00 #3 one line", "", "next"],
            &["    #1 alone"],
            &["   2 | >>> RUN echo #1 and more", "   3 |     COPY . ."],
        ] {
            let got = strip_all(lines);
            for (g, l) in got.iter().zip(lines) {
                assert_eq!((g.0.as_str(), g.1), (*l, None), "{lines:?}");
            }
        }
        // a bare tty line is not indentation, a stray space is no new shape
        assert_eq!(strip_all(&[" => CACHED [2/5] RUN x  0.0s"])[0].1, None);
        assert_eq!(strip_all(&[" #5 DONE 1.0s"])[0].0, "#5 DONE 1.0s");
    }

    #[test]
    fn framing_changes_mid_file_and_blank_lines_keep_a_region() {
        let got = strip_all(&[
            "2024-01-01T12:00:00.1234567Z #1 CACHED",
            "2024-01-01T12:00:00.1234567Z #1 CACHED",
            "",
            "2024-01-01T12:00:00.1234567Z #1 CACHED",
            "#2 CACHED",
            "[CI/build]   | #3 CACHED",
            "[CI/build]   |",
            "[CI/build]   | #3 CACHED",
            "        #4 CACHED",
            "        #4 CACHED",
        ]);
        let framings: Vec<_> = got.iter().map(|g| g.1).collect();
        assert_eq!(
            framings,
            [
                Some(Framing::Timestamp),
                Some(Framing::Timestamp),
                None,
                Some(Framing::Timestamp),
                None,
                Some(Framing::Act),
                Some(Framing::Act),
                Some(Framing::Act),
                Some(Framing::Indent),
                Some(Framing::Indent),
            ]
        );
        assert!(
            got.iter()
                .all(|g| g.0.ends_with("CACHED") || g.0.is_empty())
        );
    }

    #[test]
    fn a_held_line_waits_over_blank_lines() {
        let got = strip_all(&["  #1 [1/1] FROM x", "", "", "  #1 DONE 0.0s"]);
        assert_eq!(
            got[0],
            ("#1 [1/1] FROM x".into(), Some(Framing::Indent), false)
        );
        assert_eq!(got[3].0, "#1 DONE 0.0s");
    }

    /// Rule F1 byte by byte: every place of the prefix tried in turn.
    fn anchor_by_rule(line: &[u8]) -> Option<usize> {
        (0..line.len().min(MAX_PREFIX + 1)).find(|&at| {
            let after_separator = at == 0 || is_separator(line[at - 1]);
            let rest = &line[at..];
            match rest[0] {
                b'#' => after_separator && vertex_start(rest),
                b'{' => after_separator && object_start(rest),
                b'[' => after_separator && rest.starts_with(b"[+] Building"),
                b'E' => {
                    after_separator
                        && (rest.starts_with(b"ERROR: failed to ")
                            || rest.starts_with(b"ERROR: BuildKit "))
                }
                b'-' => after_separator && rest == b"------",
                b' ' => rest.starts_with(b" => "),
                _ => false,
            }
        })
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_anchor_search_finds_what_the_rule_does(
            parts in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        "#", "#5", "#5 ", "#5 [1/2] RUN x", "#12 .", "Step #1 - ", "{", "{\"logs\"",
                        "{\"vertexes\"", "[", "[+] Building", "[+] Buildin", "[Container] ", " => ",
                        " =>", "=> ", "=", "==> ", "E", "ERROR: failed to ", "ERROR: BuildKit ",
                        "ERROR: ", "-", "------", "-----", " ", "\t", "]", "|", ":", ">", ")", "\x07",
                        "2026/09/28 00:00:00.000000 ", "é", "\0", "\r",
                    ]).prop_map(str::to_owned),
                    "[ -~]{0,6}",
                    "[a-z ]{60,140}",
                    // around the prefix's bound
                    "x{120,132}:",
                ],
                0..10,
            ).prop_map(|parts| parts.concat()),
        ) {
            let line = parts.as_bytes();
            prop_assert_eq!(anchor(line), anchor_by_rule(line), "{:?}", parts);
        }
    }

    #[test]
    fn anchors_at_the_edge_of_the_prefix() {
        for shape in [
            "#1 x",
            " => x",
            "------",
            "ERROR: failed to x",
            "[+] Building 1.0s",
        ] {
            for width in [MAX_PREFIX - 1, MAX_PREFIX, MAX_PREFIX + 1] {
                let line = format!("{}:{shape}", "x".repeat(width - 1));
                let expected = (width <= MAX_PREFIX).then_some(width);
                assert_eq!(anchor(line.as_bytes()), expected, "{line:?}");
            }
        }
        assert_eq!(anchor(b"a: => b"), Some(2));
        assert_eq!(anchor(b"x|#3 DONE 0.1s"), Some(2));
        assert_eq!(anchor(b"ab#3 DONE"), None);
        assert_eq!(anchor(b"E=> #3 x"), Some(4));
    }
}
