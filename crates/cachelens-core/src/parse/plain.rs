//! One cleaned line of BuildKit plain progress output into a [`Line`]:
//! the rules `plain-line` to `client-line` of `grammars/buildkit-plain.ebnf`,
//! one nom parser per rule, in the grammar's order.
//!
//! Nothing here allocates: every value borrows the line.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{digit1, space0};
use nom::combinator::{all_consuming, eof, map, map_res, opt, recognize, rest, value, verify};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

type PResult<'a, O> = IResult<&'a [u8], O, ()>;

/// Vertex numbers above this are not accepted (junk, not BuildKit).
pub const MAX_VERTEX: u32 = 1_000_000;

/// The longest plausible step, in seconds (7 days): a `DONE` time above it is no duration.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// A classified line (rule `plain-line`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Line<'a> {
    /// `blank-line`.
    Blank,
    /// `vertex-line`: `#N <body>`.
    Vertex(u32, Body<'a>),
    /// `recap-line`.
    Recap(Recap<'a>),
    /// `client-line` recognised by its own text.
    Client(Client<'a>),
    /// Anything else: unparsed, unless the assembler places it (rule A6).
    Text(&'a [u8]),
}

/// Rule `vertex-body`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body<'a> {
    /// `interruption`: `...`.
    Interruption,
    /// `terminal`.
    Terminal(Terminal<'a>),
    /// `digest-line`: the digest text (`sha256:…`).
    Digest(&'a [u8]),
    /// `warning`: the message.
    Warning(&'a [u8]),
    /// `log-output`: one output line of the vertex.
    Log,
    /// `header-or-status`: the text after `#N `.
    Named(&'a [u8]),
}

/// Rule `terminal`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Terminal<'a> {
    /// `CACHED`.
    Cached,
    /// `DONE [secs s]`.
    Done(Option<f64>),
    /// `ERROR: message`.
    Error(&'a [u8]),
    /// `CANCELED`.
    Canceled,
}

/// Rule `recap-line`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Recap<'a> {
    /// `recap-rule`: `------`.
    Rule,
    /// `recap-title`: ` > name:`, the name.
    Title(&'a [u8]),
    /// `snippet-title`, `snippet-rule` or `snippet-line`: the Dockerfile excerpt.
    Snippet,
}

/// Rule `client-line`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Client<'a> {
    /// `client-error`: the message.
    Error(&'a [u8]),
    /// `client-warning`: the text.
    Warning(&'a [u8]),
    /// `client-info`.
    Info,
}

/// Classifies one cleaned line. Never fails: what no rule accepts is [`Line::Text`].
pub fn parse_line(line: &[u8]) -> Line<'_> {
    vertex_fast(line).unwrap_or_else(|| by_rules(line))
}

/// Fast path of `vertex-line`: the prefix `"#" , vertex-number , SP` of a
/// number of at most 7 digits read without the combinators, and the commonest
/// `terminal` bodies too ([`terminal_fast`]); other bodies go to the rule
/// `vertex-body`. `None` for any other line (the nom rules read it); where it
/// answers, it answers as they do (a property test compares the two).
fn vertex_fast(line: &[u8]) -> Option<Line<'_>> {
    let [b'#', rest @ ..] = line else {
        return None;
    };
    let (n, rest) = small_number(rest, 7)?;
    let n = u32::try_from(n).ok().filter(|n| *n <= MAX_VERTEX)?;
    let body = rest.strip_prefix(b" ")?;
    if let Some(t) = terminal_fast(body) {
        return Some(Line::Vertex(n, Body::Terminal(t)));
    }
    let (_, body) = vertex_body(body).ok()?;
    Some(vertex_event(line, n, body))
}

/// The `terminal` bodies `CACHED`, `DONE` and `DONE <secs>s` with at most 6
/// digits each side of the dot, read without the combinators.
fn terminal_fast(body: &[u8]) -> Option<Terminal<'static>> {
    Some(match body {
        b"CACHED" => Terminal::Cached,
        b"DONE" => Terminal::Done(None),
        [b'D', b'O', b'N', b'E', b' ', time @ .., b's'] => {
            let (whole, rest) = small_number(time, 6)?;
            let (fraction, digits) = match rest {
                [] => (0, 0),
                [b'.', digits @ ..] => match small_number(digits, 6)? {
                    (f, []) => (f, digits.len()),
                    _ => return None,
                },
                _ => return None,
            };
            // both integers and the power of ten are exact in an f64, so the
            // division rounds once: the correctly rounded value `str::parse` gives
            const POWERS: [f64; 7] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];
            let scale = POWERS[digits];
            let secs = (whole as f64 * scale + fraction as f64) / scale;
            // a time over the bound is a `broken-terminal`: the rules tell it
            if secs > MAX_SECONDS {
                return None;
            }
            Terminal::Done(Some(secs))
        }
        _ => return None,
    })
}

/// A `vertex-line`'s event from its number and body: a `broken-terminal` is
/// unparsed, not a status.
fn vertex_event<'a>(line: &'a [u8], n: u32, body: Body<'a>) -> Line<'a> {
    match body {
        Body::Named(text) if broken_terminal(text) => Line::Text(line),
        body => Line::Vertex(n, body),
    }
}

/// A run of 1 to `max` ASCII digits at the start of `text` as a number, and
/// what follows it; `None` when there is none or it is longer.
fn small_number(text: &[u8], max: usize) -> Option<(u64, &[u8])> {
    let len = text
        .iter()
        .take(max + 1)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if len == 0 || len > max {
        return None;
    }
    let n = text[..len]
        .iter()
        .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    Some((n, &text[len..]))
}

/// [`parse_line`] by the nom rules alone.
fn by_rules(line: &[u8]) -> Line<'_> {
    match line.first() {
        Some(b'#') => {
            if let Ok((_, (n, body))) = vertex_line(line) {
                return vertex_event(line, n, body);
            }
        }
        None => return Line::Blank,
        _ => {
            if let Ok((_, l)) = alt((
                value(
                    Line::Blank,
                    all_consuming(take_while(|c| c == b' ' || c == b'\t')),
                ),
                map(recap_line, Line::Recap),
                map(client_line, Line::Client),
            ))
            .parse(line)
            {
                return l;
            }
        }
    }
    Line::Text(line)
}

/// `status-text`: the text of a `#N` line that reports progress and names no
/// vertex: not a bracketed name, and either ending in `done` or a duration, or a
/// digest's progress, or one of the exporters' status ids (a fragment's first
/// line may be one: it is no header).
pub fn is_status(text: &[u8]) -> bool {
    const IDS: [&[u8]; 17] = [
        b"exporting layers",
        b"exporting manifest",
        b"exporting config",
        b"exporting attestation",
        b"writing image ",
        b"writing layer ",
        b"writing config ",
        b"writing manifest",
        b"writing cache",
        b"naming to ",
        b"unpacking to ",
        b"pushing layers",
        b"pushing manifest",
        b"preparing build cache",
        b"transferring ",
        b"extracting ",
        b"pulling ",
    ];
    if text.first() == Some(&b'[') {
        return false;
    }
    text.ends_with(b" done")
        || ends_with_duration(text)
        || text.starts_with(b"sha256:")
        || IDS.iter().any(|id| text.starts_with(id))
}

/// `SP , seconds , "s"` at the end of the text.
fn ends_with_duration(text: &[u8]) -> bool {
    let Some(head) = text.strip_suffix(b"s") else {
        return false;
    };
    let digits = head
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit() || **c == b'.')
        .count();
    digits > 0 && head[..head.len() - digits].ends_with(b" ")
}

/// `vertex-line = "#" , vertex-number , SP , vertex-body`.
fn vertex_line(i: &[u8]) -> PResult<'_, (u32, Body<'_>)> {
    (
        preceded(tag("#"), vertex_number),
        preceded(tag(" "), vertex_body),
    )
        .parse(i)
}

/// `vertex-number = digit , { digit }`, at most [`MAX_VERTEX`].
fn vertex_number(i: &[u8]) -> PResult<'_, u32> {
    verify(map_res(digit1, ascii_u32), |n| *n <= MAX_VERTEX).parse(i)
}

/// `vertex-body`. The first byte picks the one rule that can match, so the
/// common `log-output` line costs a digit scan; what fails is `header-or-status`.
fn vertex_body(i: &[u8]) -> PResult<'_, Body<'_>> {
    let special = match i.first() {
        Some(b'0'..=b'9') => value(Body::Log, log_output).parse(i),
        Some(b'C' | b'D' | b'E') => map(terminal, Body::Terminal).parse(i),
        Some(b'.') => value(Body::Interruption, (tag("..."), eof)).parse(i),
        Some(b's') => map(digest_line, Body::Digest).parse(i),
        Some(b'W') => map(warning, Body::Warning).parse(i),
        _ => Err(nom::Err::Error(())),
    };
    special.or_else(|_| map(rest, Body::Named).parse(i))
}

/// `log-output = seconds-since-start , [ SP , text ]`: only the prefix is read.
fn log_output(i: &[u8]) -> PResult<'_, ()> {
    value((), terminated(decimal, alt((tag(" "), eof)))).parse(i)
}

/// `terminal`.
fn terminal(i: &[u8]) -> PResult<'_, Terminal<'_>> {
    all_consuming(alt((
        value(Terminal::Cached, tag("CACHED")),
        map(
            preceded(
                tag("DONE"),
                opt(preceded(tag(" "), terminated(seconds, tag("s")))),
            ),
            Terminal::Done,
        ),
        map(preceded(tag("ERROR: "), rest), Terminal::Error),
        value(Terminal::Canceled, tag("CANCELED")),
    )))
    .parse(i)
}

/// `broken-terminal`: a status that starts like a terminal line and is none: a
/// `DONE` time that is no plausible duration (`DONE 1e308s`, `DONE -1s`, `DONE NaNs`,
/// `DONE inf`, over [`MAX_SECONDS`]), or a terminal word followed by more than a
/// space (`DONE 1.0s\0`, `#5 DONE 1.0s#1 [internal] …`: two lines glued).
fn broken_terminal(text: &[u8]) -> bool {
    for word in [&b"DONE"[..], b"CACHED", b"CANCELED"] {
        if let Some(rest) = text.strip_prefix(word) {
            return match rest {
                [] => false,
                [b' ', time @ ..] => word == b"DONE" && looks_numeric(time),
                _ => true,
            };
        }
    }
    false
}

/// Whether a `DONE` time was meant: it starts with a digit, a sign, a dot, `nan` or `inf`.
fn looks_numeric(text: &[u8]) -> bool {
    let word = |w: &[u8]| text.len() >= w.len() && text[..w.len()].eq_ignore_ascii_case(w);
    matches!(text.first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.')) || word(b"nan") || word(b"inf")
}

/// `digest-line = "sha256:" , 64 * hex-digit`.
fn digest_line(i: &[u8]) -> PResult<'_, &[u8]> {
    // the rule's fixed length checked first, then every digit without a branch
    // (a fold the compiler turns into a few vector instructions)
    match i.strip_prefix(b"sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex.iter().fold(true, |ok, &c| {
                    ok & ((c.wrapping_sub(b'0') < 10) | (c.wrapping_sub(b'a') < 6))
                }) =>
        {
            Ok((&i[i.len()..], i))
        }
        _ => Err(nom::Err::Error(())),
    }
}

/// `warning = "WARN: " , message`.
fn warning(i: &[u8]) -> PResult<'_, &[u8]> {
    preceded(tag("WARN: "), rest).parse(i)
}

/// `recap-line = recap-rule | recap-title | snippet-title | snippet-rule | snippet-line`.
fn recap_line(i: &[u8]) -> PResult<'_, Recap<'_>> {
    alt((
        value(Recap::Snippet, all_consuming(tag("--------------------"))),
        value(Recap::Rule, all_consuming(tag("------"))),
        map(recap_title, Recap::Title),
        value(Recap::Snippet, alt((snippet_title, snippet_line))),
    ))
    .parse(i)
}

/// `recap-title = SP , ">" , SP , vertex-name , ":"`.
fn recap_title(i: &[u8]) -> PResult<'_, &[u8]> {
    let (_, body) = preceded(tag(" > "), rest).parse(i)?;
    match body.strip_suffix(b":") {
        Some(name) if !name.is_empty() => Ok((&i[i.len()..], name)),
        _ => Err(nom::Err::Error(())),
    }
}

/// `snippet-title = dockerfile-path , ":" , digit , { digit }`: a path without spaces.
fn snippet_title(i: &[u8]) -> PResult<'_, ()> {
    let (_, ()) = value((), all_consuming(take_while1(|c: u8| c != b' '))).parse(i)?;
    let colon = i
        .iter()
        .rposition(|&c| c == b':')
        .ok_or(nom::Err::Error(()))?;
    let (path, line) = (&i[..colon], &i[colon + 1..]);
    if !path.is_empty() && !line.is_empty() && line.iter().all(u8::is_ascii_digit) {
        Ok((&i[i.len()..], ()))
    } else {
        Err(nom::Err::Error(()))
    }
}

/// `snippet-line = { SP } , digits , SP , "|" , [ text ] | ">>>" , [ text ]`.
fn snippet_line(i: &[u8]) -> PResult<'_, ()> {
    alt((
        value((), (space0, digit1, tag(" |"), rest)),
        value((), (tag(">>>"), rest)),
    ))
    .parse(i)
}

/// `client-line = client-error | client-warning | client-info`.
fn client_line(i: &[u8]) -> PResult<'_, Client<'_>> {
    alt((
        map(
            alt((
                preceded(alt((tag("ERROR: "), tag("error: "))), rest),
                recognize((tag("failed to solve"), rest)),
            )),
            Client::Error,
        ),
        map(
            alt((preceded(tag("WARNING: "), rest), preceded(tag(" - "), rest))),
            Client::Warning,
        ),
        value(
            Client::Info,
            alt((
                recognize((
                    opt(tag(" ")),
                    digit1,
                    tag(" warning"),
                    opt(tag("s")),
                    tag(" found"),
                )),
                tag("View build details: "),
                tag("What's next:"),
                tag("Successfully built "),
                tag("Successfully tagged "),
            )),
        ),
    ))
    .parse(i)
}

/// `seconds = digit , { digit } , [ "." , digit , { digit } ]`, at most [`MAX_SECONDS`].
fn seconds(i: &[u8]) -> PResult<'_, f64> {
    verify(
        map_res(recognize((digit1, opt((tag("."), digit1)))), ascii_f64),
        |s: &f64| s.is_finite() && *s <= MAX_SECONDS,
    )
    .parse(i)
}

/// Which part of a layer's fetch a `fetch-status` line reports (`fetch-verb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchPart {
    /// `pulling ` (BuildKit ≤ v0.8) or the bare digest (the download's progress).
    Download,
    /// `extracting `.
    Extract,
}

/// Rule `fetch-status`: one figure of a layer's fetch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FetchStatus<'a> {
    /// Download or extraction.
    pub part: FetchPart,
    /// `layer-digest`: `sha256:` and 64 hex digits.
    pub digest: &'a [u8],
    /// The total when printed (`cur / total`), else the current figure, in bytes.
    pub bytes: Option<u64>,
    /// The seconds since the status started.
    pub seconds: Option<f64>,
    /// `done`: the status completed.
    pub done: bool,
}

/// `fetch-status = fetch-verb , layer-digest , [ SP , bytes , [ SP , "/" , SP , bytes ] ]
/// , [ SP , seconds , "s" ] , [ SP , "done" ]` (rule A10). A first-byte check
/// first: a status that is no fetch costs one comparison.
pub fn fetch_status(status: &[u8]) -> Option<FetchStatus<'_>> {
    let (rest, part) = match status.first()? {
        b's' => (status, FetchPart::Download),
        b'p' => (status.strip_prefix(b"pulling ")?, FetchPart::Download),
        b'e' => (status.strip_prefix(b"extracting ")?, FetchPart::Extract),
        _ => return None,
    };
    let (_, (digest, sizes, seconds, done)) = all_consuming((
        layer_digest,
        opt(preceded(
            tag(" "),
            (bytes, opt(preceded(tag(" / "), bytes))),
        )),
        opt(preceded(tag(" "), terminated(seconds, tag("s")))),
        opt(tag(" done")),
    ))
    .parse(rest)
    .ok()?;
    Some(FetchStatus {
        part,
        digest,
        bytes: sizes.map(|(current, total)| total.unwrap_or(current)),
        seconds,
        done: done.is_some(),
    })
}

/// `layer-digest = "sha256:" , 64 * hex-digit`.
fn layer_digest(i: &[u8]) -> PResult<'_, &[u8]> {
    let end = b"sha256:".len() + 64;
    match i.get(..end) {
        Some(d) if digest_line(d).is_ok() => Ok((&i[end..], d)),
        _ => Err(nom::Err::Error(())),
    }
}

/// `context-transfer = "transferring context:" , SP , bytes , …` (rule A7): the
/// size as printed and in bytes. `None` for any other status.
pub fn context_transfer(status: &[u8]) -> Option<(&[u8], Option<u64>)> {
    let (rest, _) = (tag::<_, _, ()>(b"transferring context:".as_slice()), space0)
        .parse(status)
        .ok()?;
    let size = rest
        .split(|&c| c == b' ')
        .next()
        .filter(|s| !s.is_empty())?;
    Some((size, all_consuming(bytes).parse(size).ok().map(|(_, n)| n)))
}

/// `bytes = number , unit`: `354B`, `1.58kB`, `3.40MB`, `2.1MiB`, in bytes
/// (`kB` = 1000 B as go-units' `HumanSize` prints, `KiB` = 1024 B as its `BytesSize` does).
pub fn bytes(i: &[u8]) -> PResult<'_, u64> {
    map(
        verify(
            (
                map_res(recognize((digit1, opt((tag("."), digit1)))), ascii_f64),
                unit,
            ),
            |(n, scale): &(f64, f64)| (n * scale).is_finite() && n * scale < u64::MAX as f64,
        ),
        |(n, scale)| (n * scale).round() as u64,
    )
    .parse(i)
}

/// `unit = "B" | "kB" | "KB" | "MB" | … | "KiB" | "MiB" | …`: its scale.
fn unit(i: &[u8]) -> PResult<'_, f64> {
    const BINARY: [(&[u8], i32); 6] = [
        (b"KiB", 1),
        (b"MiB", 2),
        (b"GiB", 3),
        (b"TiB", 4),
        (b"PiB", 5),
        (b"EiB", 6),
    ];
    const DECIMAL: [(&[u8], i32); 8] = [
        (b"kB", 1),
        (b"KB", 1),
        (b"MB", 2),
        (b"GB", 3),
        (b"TB", 4),
        (b"PB", 5),
        (b"EB", 6),
        (b"B", 0),
    ];
    let scale = |table: &[(&[u8], i32)], base: f64| {
        table
            .iter()
            .find(|(unit, _)| i.starts_with(unit))
            .map(|&(unit, power)| (&i[unit.len()..], base.powi(power)))
    };
    scale(&BINARY, 1024.0)
        .or_else(|| scale(&DECIMAL, 1000.0))
        .ok_or(nom::Err::Error(()))
}

/// `seconds-since-start = digit , { digit } , "." , digit , { digit }`.
fn decimal(i: &[u8]) -> PResult<'_, &[u8]> {
    recognize((digit1, tag("."), digit1)).parse(i)
}

/// ASCII digits (already checked) as a `u32`; `Err` on overflow.
pub(super) fn ascii_u32(digits: &[u8]) -> Result<u32, ()> {
    digits.iter().try_fold(0u32, |n, &d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(d - b'0')))
            .ok_or(())
    })
}

fn ascii_f64(text: &[u8]) -> Result<f64, ()> {
    // the recognizer admits ASCII digits and one dot only
    std::str::from_utf8(text)
        .map_err(drop)?
        .parse()
        .map_err(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_every_unit() {
        let size = |s: &str| {
            all_consuming(bytes)
                .parse(s.as_bytes())
                .ok()
                .map(|(_, n)| n)
        };
        assert_eq!(size("354B"), Some(354));
        assert_eq!(size("1.58kB"), Some(1580));
        assert_eq!(size("2.1MB"), Some(2_100_000));
        assert_eq!(size("3GB"), Some(3_000_000_000));
        assert_eq!(size("1KiB"), Some(1024));
        assert_eq!(size("1.5MiB"), Some(1_572_864));
        assert_eq!(size("2GiB"), Some(2 << 30));
        assert_eq!(size("1TiB"), Some(1 << 40));
        assert_eq!(size("x"), None);
        assert_eq!(size("12"), None);
        assert_eq!(size("1.5XB"), None);
        assert_eq!(size("99999999999EB"), None);
        assert_eq!(
            context_transfer(b"transferring context: 1.2MiB 0.1s done"),
            Some((b"1.2MiB".as_slice(), Some(1_258_291)))
        );
        assert_eq!(
            context_transfer(b"transferring context: 7 things"),
            Some((b"7".as_slice(), None))
        );
        assert_eq!(context_transfer(b"transferring dockerfile: 2B"), None);
    }

    #[test]
    fn fetch_statuses_old_and_new_printers() {
        let hex = "1e919a8aad0477baa1d32d22382ebf66a1a1e1224981224f1f8a3fef7c9eaeb3";
        let digest = format!("sha256:{hex}");
        let fetch =
            |s: String| fetch_status(s.as_bytes()).map(|f| (f.part, f.bytes, f.seconds, f.done));
        use FetchPart::{Download, Extract};
        assert_eq!(
            fetch(format!("pulling {digest} 0.0s done")),
            Some((Download, None, Some(0.0), true))
        );
        assert_eq!(
            fetch(format!("pulling {digest}")),
            Some((Download, None, None, false))
        );
        assert_eq!(
            fetch(format!("{digest} 33.55MB / 132.54MB 4.7s")),
            Some((Download, Some(132_540_000), Some(4.7), false))
        );
        assert_eq!(
            fetch(format!("{digest} 132.54MB / 132.54MB 10.2s done")),
            Some((Download, Some(132_540_000), Some(10.2), true))
        );
        assert_eq!(
            fetch(format!("{digest} 2.10MiB 0.3s")),
            Some((Download, Some(2_202_010), Some(0.3), false))
        );
        assert_eq!(
            fetch(format!("{digest} 512B done")),
            Some((Download, Some(512), None, true))
        );
        assert_eq!(
            fetch(format!("{digest} 1.2kB / 1.2kB done")),
            Some((Download, Some(1200), None, true))
        );
        assert_eq!(
            fetch(format!("{digest} 1.5GB / 2GiB 60.0s")),
            Some((Download, Some(2 << 30), Some(60.0), false))
        );
        assert_eq!(
            fetch(format!("extracting {digest} 1.2s done")),
            Some((Extract, None, Some(1.2), true))
        );
        assert_eq!(
            fetch(format!("extracting {digest} done")),
            Some((Extract, None, None, true))
        );
        assert_eq!(
            fetch_status(format!("pulling {digest} 0.0s done").as_bytes())
                .unwrap()
                .digest,
            digest.as_bytes()
        );
        // not fetches: other statuses, short or uppercase digests, junk after the figures
        for s in [
            format!("writing image {digest} done"),
            format!("exporting manifest {digest} done"),
            "sha256:abc 1.2MB / 3MB".to_owned(),
            format!("pulling {}", digest.to_uppercase()),
            format!("{digest} 1.2MB soon"),
            format!("{digest} 1.2ZB"),
            format!("pulling  {digest}"),
            "transferring context: 2B done".to_owned(),
            String::new(),
        ] {
            assert_eq!(fetch_status(s.as_bytes()), None, "{s}");
        }
    }

    fn vertex(line: &str) -> (u32, Body<'_>) {
        match parse_line(line.as_bytes()) {
            Line::Vertex(n, b) => (n, b),
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn vertex_bodies() {
        assert_eq!(vertex("#8 3.159 found 0 vulnerabilities"), (8, Body::Log));
        assert_eq!(vertex("#8 0.345"), (8, Body::Log));
        assert_eq!(vertex("#8 12.34 "), (8, Body::Log));
        assert_eq!(vertex("#5 CACHED"), (5, Body::Terminal(Terminal::Cached)));
        assert_eq!(
            vertex("#5 DONE 3.3s"),
            (5, Body::Terminal(Terminal::Done(Some(3.3))))
        );
        assert_eq!(vertex("#5 DONE"), (5, Body::Terminal(Terminal::Done(None))));
        assert_eq!(
            vertex("#8 CANCELED"),
            (8, Body::Terminal(Terminal::Canceled))
        );
        assert_eq!(
            vertex("#4 ERROR: 127.0.0.1:5000/app:x: not found"),
            (
                4,
                Body::Terminal(Terminal::Error(b"127.0.0.1:5000/app:x: not found"))
            )
        );
        assert_eq!(vertex("#10 ..."), (10, Body::Interruption));
        let digest = "sha256:082798addb296dae48645bdd419a1755afe99488bc1b900981c60018c7fd5d45";
        assert_eq!(
            vertex(&format!("#3 {digest}")),
            (3, Body::Digest(digest.as_bytes()))
        );
        assert_eq!(vertex("#1 WARN: x"), (1, Body::Warning(b"x")));
        assert_eq!(
            vertex("#0 building with \"default\" instance using docker driver"),
            (
                0,
                Body::Named(b"building with \"default\" instance using docker driver")
            )
        );
    }

    #[test]
    fn near_misses_are_names() {
        // a status that merely starts like a terminal or a digest
        assert_eq!(vertex("#5 DONE soon"), (5, Body::Named(b"DONE soon")));
        assert_eq!(vertex("#5 CACHED x"), (5, Body::Named(b"CACHED x")));
        assert_eq!(
            vertex("#5 sha256:abc 1.2MB / 3MB"),
            (5, Body::Named(b"sha256:abc 1.2MB / 3MB"))
        );
        assert_eq!(vertex("#5 ...more"), (5, Body::Named(b"...more")));
        assert_eq!(vertex("#5 3 files"), (5, Body::Named(b"3 files")));
    }

    #[test]
    fn implausible_times_and_glued_lines_are_text() {
        let nines = format!("#5 DONE {}.5s", "9".repeat(54));
        for l in [
            "#5 DONE 1e308s",
            "#5 DONE -1s",
            "#5 DONE NaNs",
            "#5 DONE inf",
            "#5 DONE 604801s",
            nines.as_str(),
            "#5 DONE 1.0s\0",
            "#5 DONE 1.0s#1 [internal] load build definition from Dockerfile",
            "#5 CACHED#6 [2/2] RUN x",
            "#5 DONE 0.1s ",
        ] {
            assert_eq!(parse_line(l.as_bytes()), Line::Text(l.as_bytes()), "{l}");
        }
        assert_eq!(
            vertex("#5 DONE 604800s"),
            (5, Body::Terminal(Terminal::Done(Some(604_800.0))))
        );
        assert_eq!(
            vertex("#5 DONE in a while"),
            (5, Body::Named(b"DONE in a while"))
        );
    }

    #[test]
    fn malformed_vertex_lines_are_text() {
        for l in [
            "#",
            "#5",
            "#x CACHED",
            "#99999999999 CACHED",
            "#5CACHED",
            "#2000000 DONE",
        ] {
            assert_eq!(parse_line(l.as_bytes()), Line::Text(l.as_bytes()), "{l}");
        }
    }

    #[test]
    fn the_fast_path_answers_the_common_terminals() {
        for (line, n, t) in [
            ("#5 CACHED", 5, Terminal::Cached),
            ("#12 DONE", 12, Terminal::Done(None)),
            ("#3 DONE 0.3s", 3, Terminal::Done(Some(0.3))),
            (
                "#1000000 DONE 604800s",
                1_000_000,
                Terminal::Done(Some(604_800.0)),
            ),
            ("#05 DONE 12.000001s", 5, Terminal::Done(Some(12.000_001))),
        ] {
            assert_eq!(
                vertex_fast(line.as_bytes()),
                Some(Line::Vertex(n, Body::Terminal(t))),
                "{line}"
            );
        }
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_fast_path_reads_lines_as_the_rules_do(
            line in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        "#", "#5", "#05", "#0", "#1000000", "#1000001", "#0000005", "#00000005",
                        "#4294967296", " ", "  ", "CACHED", "DONE", "CANCELED", "ERROR: ", " DONE ",
                        "s", "0", "1", "12", ".", "0.3", "604800", "604800.000001", "604801",
                        "999999", "1234567", "99999999999999999999", "e5", "-", "+", "NaN", "inf",
                        "\r", "\0", "\n", "\t", "é", "\u{fffd}", "sha256:", "...", "[1/2] RUN x",
                    ]).prop_map(str::to_owned),
                    "[ -~]{0,4}",
                ],
                0..8,
            ).prop_map(|parts| parts.concat()),
            n in "[0-9]{1,8}",
            whole in "[0-9]{0,8}|60480[01]|0{1,2}60480[01]|99999[0-9]",
            fraction in "(\\.[0-9]{0,8})?",
            end in "s|s |ss|S|\r|",
        ) {
            let terminal = format!("#{n} DONE {whole}{fraction}{end}");
            for l in [line, terminal] {
                prop_assert_eq!(parse_line(l.as_bytes()), by_rules(l.as_bytes()), "{:?}", l);
            }
        }
    }

    #[test]
    fn recap_and_client_lines() {
        assert_eq!(parse_line(b"------"), Line::Recap(Recap::Rule));
        assert_eq!(
            parse_line(b"--------------------"),
            Line::Recap(Recap::Snippet)
        );
        assert_eq!(
            parse_line(b" > [test 4/4] RUN sh tests/run-tests.sh:"),
            Line::Recap(Recap::Title(b"[test 4/4] RUN sh tests/run-tests.sh"))
        );
        assert_eq!(parse_line(b"Dockerfile:12"), Line::Recap(Recap::Snippet));
        assert_eq!(
            parse_line(b"   2 | >>> RUN false"),
            Line::Recap(Recap::Snippet)
        );
        assert_eq!(parse_line(b">>>   && make"), Line::Recap(Recap::Snippet));
        assert_eq!(
            parse_line(b"ERROR: failed to solve: x"),
            Line::Client(Client::Error(b"failed to solve: x"))
        );
        assert_eq!(
            parse_line(b"failed to solve with frontend dockerfile.v0: x"),
            Line::Client(Client::Error(
                b"failed to solve with frontend dockerfile.v0: x"
            ))
        );
        assert_eq!(
            parse_line(b"WARNING: buildx: git was not found"),
            Line::Client(Client::Warning(b"buildx: git was not found"))
        );
        assert_eq!(
            parse_line(b"2 warnings found (use docker --debug to expand):"),
            Line::Client(Client::Info)
        );
        assert_eq!(
            parse_line(b" 1 warning found (use docker --debug to expand):"),
            Line::Client(Client::Info)
        );
        assert_eq!(
            parse_line(b"View build details: docker-desktop://x"),
            Line::Client(Client::Info)
        );
        assert_eq!(parse_line(b"  \t"), Line::Blank);
        assert_eq!(
            parse_line(b"executor failed running"),
            Line::Text(b"executor failed running")
        );
        assert_eq!(parse_line(b"key: 3"), Line::Text(b"key: 3"));
    }
}
