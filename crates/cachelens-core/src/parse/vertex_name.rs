//! A vertex name into its parts: `grammars/vertex-name.ebnf`, rule by rule.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_till1, take_while1};
use nom::character::complete::{char, digit1, space0};
use nom::combinator::{map, map_res, opt, recognize, rest, verify};
use nom::multi::many0_count;
use nom::sequence::{delimited, preceded, terminated};
use nom::{IResult, Parser};

use crate::model::Kind;

type PResult<'a, O> = IResult<&'a str, O, ()>;

/// What a vertex name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VertexName<'a> {
    /// What the vertex is.
    pub kind: Kind,
    /// `platform` of an `instruction-vertex`.
    pub platform: Option<&'a str>,
    /// `stage` of an `instruction-vertex`.
    pub stage: Option<&'a str>,
    /// `position` of an `instruction-vertex`: `[i, n]`.
    pub position: Option<[u32; 2]>,
    /// `keyword`, upper case, of an `instruction-vertex` or `bare-from`.
    pub instruction: Option<String>,
    /// `args` of an instruction, or the `cache-ref` of a `cache-import`.
    pub args: Option<&'a str>,
}

const OSES: [&str; 11] = [
    "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix",
    "wasip1", "js",
];

impl VertexName<'_> {
    /// A vertex whose name the input does not hold (a fragment without its header).
    pub fn unknown() -> Self {
        VertexName {
            kind: Kind::Unknown,
            platform: None,
            stage: None,
            position: None,
            instruction: None,
            args: None,
        }
    }
}

/// Parses a vertex name; every name parses (rule `other-vertex` takes the rest).
pub fn parse_vertex_name(name: &str) -> VertexName<'_> {
    fast_path(name).unwrap_or_else(|| by_rules(name))
}

/// The rules of `vertex-name`, in order, each a nom parser.
fn by_rules(name: &str) -> VertexName<'_> {
    let plain = |kind| VertexName {
        kind,
        platform: None,
        stage: None,
        position: None,
        instruction: None,
        args: None,
    };
    if let Ok((_, v)) = instruction_vertex(name) {
        return v;
    }
    if let Ok((_, args)) = bare_from(name) {
        return VertexName {
            instruction: Some("FROM".to_owned()),
            args: Some(args),
            ..plain(Kind::From)
        };
    }
    if let Ok((_, kind)) = alt((internal_vertex, auth_vertex)).parse(name) {
        return plain(kind);
    }
    if let Ok((_, reference)) = cache_import(name) {
        return VertexName {
            args: Some(reference),
            ..plain(Kind::CacheImport)
        };
    }
    if cache_export(name).is_ok() {
        return plain(Kind::CacheExport);
    }
    if image_export(name).is_ok() {
        return plain(Kind::Export);
    }
    plain(Kind::Other)
}

/// `instruction-vertex = "[" , [ platform SP ] , [ stage SP ] , position , "]" , SP , instruction`.
fn instruction_vertex(i: &str) -> PResult<'_, VertexName<'_>> {
    let (i, (prefix, position)) = delimited(
        char('['),
        (
            recognize(many0_count(terminated(word, char(' ')))),
            position,
        ),
        char(']'),
    )
    .parse(i)?;
    let (i, (keyword, args)) = preceded(char(' '), instruction).parse(i)?;
    Ok((
        i,
        instruction_name(prefix.trim_end(), position, keyword, args),
    ))
}

/// The record of an `instruction-vertex` from its parts (`prefix`: the
/// platform and stage words, trimmed).
fn instruction_name<'a>(
    prefix: &'a str,
    position: [u32; 2],
    keyword: &str,
    args: Option<&'a str>,
) -> VertexName<'a> {
    let (platform, stage) = match prefix.split_once(' ') {
        Some((first, others)) if is_platform(first) => (Some(first), Some(others)),
        None if is_platform(prefix) => (Some(prefix), None),
        _ => (None, Some(prefix).filter(|p| !p.is_empty())),
    };
    let instruction = keyword.to_ascii_uppercase();
    let kind = if instruction == "FROM" {
        Kind::From
    } else {
        Kind::Instruction
    };
    VertexName {
        kind,
        platform,
        stage,
        position: Some(position),
        instruction: Some(instruction),
        args,
    }
}

/// The common shapes without the combinators: `[internal] text`, `[auth] text`
/// and an `instruction-vertex` whose bracket holds printable ASCII words, each
/// followed by one space, then spaces and a position. `None` for any other
/// name (the nom rules read it); where it answers, it answers as they do.
fn fast_path(name: &str) -> Option<VertexName<'_>> {
    let b = name.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let plain = |kind| VertexName {
        kind,
        ..VertexName::unknown()
    };
    if b.starts_with(b"[internal] ") {
        return Some(plain(Kind::Internal));
    }
    if b.starts_with(b"[auth] ") {
        return Some(plain(Kind::Auth));
    }
    let close = memchr::memchr(b']', b)?;
    let inner = &b[1..close];
    if !inner
        .iter()
        .all(|&c| c == b' ' || (c.is_ascii_graphic() && c != b'['))
    {
        return None;
    }
    let at = inner.iter().rposition(|&c| c == b' ').map_or(0, |s| s + 1);
    let position = fast_position(&inner[at..])?;
    let words = inner[..at].trim_ascii_end();
    // one space between words, none a position (the rule `word` refuses those)
    if !words.is_empty()
        && words
            .split(|&c| c == b' ')
            .any(|w| w.is_empty() || is_position_shaped(w))
    {
        return None;
    }
    let after = b.get(close + 1..)?.strip_prefix(b" ")?;
    let len = after.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if len == 0 {
        return None;
    }
    let start = close + 2;
    let keyword = &name[start..start + len];
    let args = (after.get(len) == Some(&b' ')).then(|| &name[start + len + 1..]);
    Some(instruction_name(
        &name[1..1 + words.len()],
        position,
        keyword,
        args,
    ))
}

/// `index , "/" , count`, each fitting a `u32`.
fn fast_position(p: &[u8]) -> Option<[u32; 2]> {
    let slash = memchr::memchr(b'/', p)?;
    Some([fast_number(&p[..slash])?, fast_number(&p[slash + 1..])?])
}

/// `digit , { digit }`, fitting a `u32`.
fn fast_number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    super::plain::ascii_u32(digits).ok()
}

/// `digits , "/" , digits` (however large): a word the fast path leaves to the rules.
fn is_position_shaped(w: &[u8]) -> bool {
    w.iter().all(|&c| c.is_ascii_digit() || c == b'/')
        && w.iter().filter(|&&c| c == b'/').count() == 1
        && !w.starts_with(b"/")
        && !w.ends_with(b"/")
}

/// `platform = os , "/" , arch , [ "/" , variant ]`.
fn is_platform(w: &str) -> bool {
    let mut parts = w.split('/');
    matches!(parts.next(), Some(os) if OSES.contains(&os))
        && parts.next().is_some_and(|arch| !arch.is_empty())
        && parts.clone().count() <= 1
}

/// `position = { SP } , index , "/" , count`.
fn position(i: &str) -> PResult<'_, [u32; 2]> {
    map(
        (preceded(space0, number), preceded(char('/'), number)),
        |(a, b)| [a, b],
    )
    .parse(i)
}

/// `instruction = keyword , [ SP , args ]`: any word of letters after a position.
fn instruction(i: &str) -> PResult<'_, (&str, Option<&str>)> {
    let (i, keyword) = take_while1(|c: char| c.is_ascii_alphabetic()).parse(i)?;
    let (i, args) = opt(preceded(char(' '), rest)).parse(i)?;
    Ok((i, (keyword, args)))
}

/// `bare-from = "FROM" , SP , text`.
fn bare_from(i: &str) -> PResult<'_, &str> {
    preceded(tag("FROM "), rest).parse(i)
}

/// `internal-vertex = "[" , [ word , SP ] , "internal]" , SP , text`.
fn internal_vertex(i: &str) -> PResult<'_, Kind> {
    map(bracketed_tag("internal"), |_| Kind::Internal).parse(i)
}

/// `auth-vertex = "[" , [ word , SP ] , "auth]" , SP , text`.
fn auth_vertex(i: &str) -> PResult<'_, Kind> {
    map(bracketed_tag("auth"), |_| Kind::Auth).parse(i)
}

fn bracketed_tag<'a>(name: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = ()> {
    preceded(
        (
            char('['),
            opt(terminated(word, char(' '))),
            tag(name),
            tag("] "),
        ),
        rest,
    )
}

/// `cache-import = "importing cache manifest from " , cache-ref`.
fn cache_import(i: &str) -> PResult<'_, &str> {
    preceded(tag("importing cache manifest from "), rest).parse(i)
}

/// `cache-export`.
fn cache_export(i: &str) -> PResult<'_, &str> {
    alt((
        verify(preceded(tag("exporting cache"), rest), |r: &str| {
            r.is_empty() || r.starts_with(' ')
        }),
        tag("preparing layers for inline cache"),
        preceded(tag("writing cache manifest"), rest),
    ))
    .parse(i)
}

/// `image-export`.
fn image_export(i: &str) -> PResult<'_, &str> {
    alt((
        preceded(tag("exporting to "), rest),
        preceded(
            (
                tag("exporting "),
                alt((tag("manifest"), tag("attestation"), tag("config"))),
            ),
            rest,
        ),
    ))
    .parse(i)
}

/// `word`: no spaces, no brackets; not a position (`i/n`).
fn word(i: &str) -> PResult<'_, &str> {
    verify(
        take_till1(|c: char| c == ' ' || c == ']' || c == '['),
        |w: &str| position(w).map_or(true, |(rest, _)| !rest.is_empty()),
    )
    .parse(i)
}

fn number(i: &str) -> PResult<'_, u32> {
    map_res(digit1, str::parse::<u32>).parse(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str) -> VertexName<'_> {
        parse_vertex_name(name)
    }

    #[test]
    fn instructions() {
        let n = v("[4/6] RUN npm ci");
        assert_eq!(n.kind, Kind::Instruction);
        assert_eq!(n.position, Some([4, 6]));
        assert_eq!(n.instruction.as_deref(), Some("RUN"));
        assert_eq!(n.args, Some("npm ci"));
        assert_eq!((n.stage, n.platform), (None, None));

        let n = v("[base 1/3] FROM docker.io/local/busybox:1");
        assert_eq!(
            (n.kind, n.stage, n.position),
            (Kind::From, Some("base"), Some([1, 3]))
        );

        let n = v("[linux/arm64/v8 builder  2/12] copy . .");
        assert_eq!(n.platform, Some("linux/arm64/v8"));
        assert_eq!(n.stage, Some("builder"));
        assert_eq!(n.position, Some([2, 12]));
        assert_eq!(n.instruction.as_deref(), Some("COPY"));

        let n = v("[linux/amd64 3/4] WORKDIR /app");
        assert_eq!((n.platform, n.stage), (Some("linux/amd64"), None));

        let n = v("[web build 2/4] RUN make");
        assert_eq!(n.stage, Some("web build"));

        let n = v("[ 2/12] COPY . .");
        assert_eq!(n.position, Some([2, 12]));
        assert_eq!(n.stage, None);

        let n = v("[stage-1 5/5] COPY --from=backend /out/bin/server /server");
        assert_eq!((n.stage, n.kind), (Some("stage-1"), Kind::Instruction));
    }

    #[test]
    fn other_kinds() {
        assert_eq!(v("FROM docker.io/local/busybox:1").kind, Kind::From);
        assert_eq!(v("[internal] load build context").kind, Kind::Internal);
        assert_eq!(v("[web internal] load .dockerignore").kind, Kind::Internal);
        assert_eq!(
            v("[auth] library/node:pull token for registry-1.docker.io").kind,
            Kind::Auth
        );
        let n = v("importing cache manifest from 127.0.0.1:5000/app:latest");
        assert_eq!(
            (n.kind, n.args),
            (Kind::CacheImport, Some("127.0.0.1:5000/app:latest"))
        );
        assert_eq!(v("exporting cache").kind, Kind::CacheExport);
        assert_eq!(v("exporting cache to registry").kind, Kind::CacheExport);
        assert_eq!(
            v("preparing layers for inline cache").kind,
            Kind::CacheExport
        );
        assert_eq!(v("exporting to image").kind, Kind::Export);
        assert_eq!(v("exporting manifest list sha256:abc").kind, Kind::Export);
        assert_eq!(v("exporting cachefoo").kind, Kind::Other);
        assert_eq!(
            v("resolve image config for docker.io/docker/dockerfile:1").kind,
            Kind::Other
        );
        assert_eq!(v("[4/6]").kind, Kind::Other);
        assert_eq!(v("[x] RUN a").kind, Kind::Other);
        assert_eq!(v("").kind, Kind::Other);
    }

    #[test]
    fn the_fast_path_takes_the_common_shapes() {
        for name in [
            "[4/6] RUN npm ci",
            "[base 1/3] FROM docker.io/local/busybox:1",
            "[linux/arm64/v8 builder  2/12] copy . .",
            "[ 2/12] COPY . .",
            "[internal] load build context",
            "[auth] library/node:pull token",
            "[2/2] RUN",
        ] {
            assert_eq!(fast_path(name), Some(by_rules(name)), "{name}");
        }
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_fast_path_reads_as_the_rules_do(
            name in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec![
                        "[", "]", " ", "  ", "\t", "/", "1", "12", "0", "4294967295",
                        "4294967296", "1/2", " 3/4", "01/3", "99999999999/1", "1//2",
                        "linux/amd64", "linux/arm64/v8", "windows", "js/", "base", "web",
                        "stage-1", "internal", "auth", "] ", "RUN", "from", "FROM ",
                        "copy", "é", "x", "-", ":", "...", "[internal] ", "[auth] ",
                    ]).prop_map(str::to_owned),
                    "[ -~]{0,6}".prop_map(|s: String| s),
                ],
                0..12,
            ).prop_map(|parts: Vec<String>| parts.concat())
        ) {
            if let Some(fast) = fast_path(&name) {
                prop_assert_eq!(fast, by_rules(&name), "{:?}", name);
            }
        }

        #[test]
        fn the_fast_path_reads_instruction_shapes_as_the_rules_do(
            words in proptest::collection::vec("[!-~]{1,6}|linux/[a-z0-9]{0,5}(/v[0-9])?", 0..3),
            pad in " {0,2}",
            index in "[0-9]{1,11}",
            count in "[0-9]{1,11}",
            after in "[ -~é]{0,12}",
        ) {
            let name = format!("[{}{}{index}/{count}]{after}", words.iter().map(|w| format!("{w} ")).collect::<String>(), pad);
            if let Some(fast) = fast_path(&name) {
                prop_assert_eq!(fast, by_rules(&name), "{:?}", name);
            }
        }
    }
}
