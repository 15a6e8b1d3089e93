//! Log text made harmless for the medium it is written to; every writer uses
//! these, none has its own rule.
//!
//! - [`terminal`]: for a terminal, a CI log or stderr. C0 controls (but tab),
//!   DEL, C1 controls (U+0080–U+009F: 8-bit CSI, OSC, …) and the bidirectional
//!   overrides and isolates (U+202A–U+202E, U+2066–U+2069) are shown escaped
//!   (`\u{1b}`), so log text can neither drive the terminal nor reorder what
//!   is shown.
//! - [`json_str`] (one string, for [`super::compact`]'s one-line JSON) and
//!   [`to_json_writer_pretty`]: JSON whose strings hold those characters as
//!   `\uXXXX` escapes (serde_json escapes only C0): the same values for any
//!   JSON reader, plain text on a terminal.
//! - [`markdown`]: for a line or a table cell of GitHub-flavoured Markdown
//!   (the summary, the report page): one line, [`terminal`]-safe, no HTML,
//!   nothing that opens emphasis, code, a link, an image, a heading or a cell.
//! - [`csv_cell`]: for a spreadsheet. A text cell that begins with `=`, `+`,
//!   `-`, `@`, tab or CR and has more after it is prefixed with `'` (OWASP's
//!   rule against formula injection; a lone `-`, the tables' "none", is no
//!   formula). Numbers are never passed here.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

/// Whether `c` must not reach a terminal as it is.
fn unsafe_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\t')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every character that could drive or reorder a terminal escaped.
pub fn terminal(text: &str) -> Cow<'_, str> {
    // printable ASCII, the common case, without decoding characters
    if printable(text) || !text.chars().any(unsafe_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_on_terminal(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A JSON formatter that writes what [`terminal`] escapes as `\uXXXX`.
struct Json<F>(F);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
                self.0.$name(w $(, $arg)*)
            }
        )*
    };
}

impl<F: Formatter> Formatter for Json<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // every character to escape is DEL or starts with 0xc2 (C1) or 0xe2 (the bidi ones)
        if !fragment.bytes().any(|b| b >= 0x7f) {
            return self.0.write_string_fragment(w, fragment);
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if unsafe_on_terminal(c) {
                self.0.write_string_fragment(w, &fragment[start..i])?;
                write!(w, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        self.0.write_string_fragment(w, &fragment[start..])
    }

    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        end_object_key();
        begin_object_value();
        end_object_value();
    }
}

/// Eight bytes at a time.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes of `w` is below 0x20, `"`, `\\` or at least
/// 0x7f: the bytes JSON or the terminal rule may escape (exact as a whole; no
/// byte is told apart).
fn any_special(w: u64) -> bool {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    (below_space
        | zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | zero(w ^ (ONES * 0x7f))
        | w)
        & HIGHS
        != 0
}

/// Whether any of the eight bytes of `w` is below 0x20 or at least 0x7f
/// (exact as a whole; no byte is told apart).
fn any_unprintable(w: u64) -> bool {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    (below_space | zero(w ^ (ONES * 0x7f)) | w) & HIGHS != 0
}

/// Whether `text` is printable ASCII only (no tab, no control), eight bytes
/// at a time: text a terminal shows as it is, one column a byte.
pub fn printable(text: &str) -> bool {
    let (words, rest) = text.as_bytes().as_chunks::<8>();
    words
        .iter()
        .all(|w| !any_unprintable(u64::from_le_bytes(*w)))
        && rest.iter().all(|b| (0x20..0x7f).contains(b))
}

/// Appends `text` as a JSON string to `out`: what `serde_json` writes (`\"`,
/// `\\`, `\n`, `\u001b`, …), and what a terminal obeys (DEL, C1 controls, the
/// bidirectional overrides and isolates) as `\uXXXX`, like [`terminal`]. Plain
/// text is skipped eight bytes at a time, its last bytes padded to a word.
pub fn json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = text.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let (mut plain, mut at) = (0, 0);
    while at < b.len() {
        if let Some(w) = b.get(at..at + 8) {
            let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
            if !any_special(w) {
                at += 8;
                continue;
            }
        } else {
            // the last bytes, padded with spaces (plain) to a word
            let mut w = [b' '; 8];
            w[..b.len() - at].copy_from_slice(&b[at..]);
            if !any_special(u64::from_le_bytes(w)) {
                break;
            }
        }
        // a code point to escape, and the bytes it takes
        let (code, len) = match b[at] {
            c @ (0..0x20 | b'"' | b'\\' | 0x7f) => (u32::from(c), 1),
            0xc2 if (0x80..=0x9f).contains(&b[at + 1]) => (u32::from(b[at + 1]), 2),
            0xe2 if matches!(
                (b[at + 1], b[at + 2]),
                (0x80, 0xaa..=0xae) | (0x81, 0xa6..=0xa9)
            ) =>
            {
                let code =
                    0x2000 | (u32::from(b[at + 1] & 0x3f) << 6) | u32::from(b[at + 2] & 0x3f);
                (code, 3)
            }
            _ => {
                at += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[plain..at]);
        match code {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x09 => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u");
                out.extend([12, 8, 4, 0].map(|shift| HEX[(code >> shift) as usize & 0xf]));
            }
        }
        at += len;
        plain = at;
    }
    out.extend_from_slice(&b[plain..]);
    out.push(b'"');
}

/// `value` as one line of JSON, safe on a terminal, by `serde_json`: the
/// reference [`super::compact`] is checked against.
#[cfg(test)]
pub fn to_json_writer<W: Write + ?Sized, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(out, Json(serde_json::ser::CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// `value` as indented JSON, safe on a terminal.
pub fn to_json_writer_pretty<W: Write + ?Sized, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Json(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// `text` for a Markdown line or table cell: line breaks become spaces,
/// [`terminal`] controls are shown escaped, `&`, `<` and `>` become entities
/// (no HTML), and `\`, `` ` ``, `*`, `_`, `[`, `]`, `|` and `~` are
/// backslash-escaped (no code, emphasis, link, cell break or strikethrough);
/// so are a `#` that begins the text (a heading, were it put at a line's
/// start) and a `!` before `[` (an image).
pub fn markdown(text: &str) -> String {
    let text = terminal(&text.replace(['\r', '\n'], " ")).into_owned();
    let starts_at = text.len() - text.trim_start_matches([' ', '\t']).len();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let opens = match c {
            '#' => at == starts_at,
            '!' => matches!(chars.peek(), Some((_, '['))),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => true,
            _ => false,
        };
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => {
                if opens {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

/// A text cell for CSV that a spreadsheet will not run as a formula.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    if text.len() > 1 && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn printable_is_printable_ascii_byte_by_byte(
            text in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\t]|[ -~]{8,20})*"
        ) {
            prop_assert_eq!(
                printable(&text),
                text.bytes().all(|b| (0x20..0x7f).contains(&b))
            );
        }
    }

    #[test]
    fn controls_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(
            terminal("a\u{1b}[2Jb\rc\u{8}d\u{7f}"),
            "a\\u{1b}[2Jb\\u{d}c\\u{8}d\\u{7f}"
        );
        assert_eq!(
            terminal("x\u{9b}31m\u{9d}0;t\u{7}"),
            "x\\u{9b}31m\\u{9d}0;t\\u{7}"
        );
        assert_eq!(
            terminal("evil\u{202e}gol.exe \u{2066}x\u{2069}"),
            "evil\\u{202e}gol.exe \\u{2066}x\\u{2069}"
        );
        assert_eq!(terminal("new\nline\0"), "new\\u{a}line\\u{0}");
        assert!(matches!(
            terminal("[2/3] RUN a\tb — ok ✅"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn json_keeps_the_values_and_escapes_what_a_terminal_obeys() {
        let value = serde_json::json!({"name": "a\u{9b}31m\u{202e}b\u{7f}\u{1b}c ✅", "n": [1, 2]});
        for pretty in [false, true] {
            let mut out = Vec::new();
            if pretty {
                to_json_writer_pretty(&mut out, &value).unwrap();
            } else {
                to_json_writer(&mut out, &value).unwrap();
            }
            let text = String::from_utf8(out).unwrap();
            assert!(
                text.contains(r"a\u009b31m\u202eb\u007f\u001bc ✅"),
                "{text}"
            );
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
                value
            );
            assert_eq!(text.contains('\n'), pretty);
            if pretty {
                assert_eq!(
                    text,
                    serde_json::to_string_pretty(&value)
                        .unwrap()
                        .replace('\u{9b}', r"\u009b")
                        .replace('\u{202e}', r"\u202e")
                        .replace('\u{7f}', r"\u007f")
                );
            }
        }
    }

    #[test]
    fn escapes_html_and_table_syntax() {
        assert_eq!(
            markdown("<script>alert(1)</script> a|b `x`"),
            "&lt;script&gt;alert(1)&lt;/script&gt; a\\|b \\`x\\`"
        );
    }

    #[test]
    fn markdown_opens_no_heading_image_or_control() {
        assert_eq!(markdown("# not a heading"), "\\# not a heading");
        assert_eq!(markdown("  #2"), "  \\#2");
        assert_eq!(markdown("build #12, line 4!"), "build #12, line 4!");
        assert_eq!(markdown("![x](y)"), "\\!\\[x\\](y)");
        assert_eq!(markdown("a\nb\u{1b}[2J"), "a b\\\\u{1b}\\[2J");
        assert_eq!(
            markdown("~~gone~~ *a* _b_"),
            "\\~\\~gone\\~\\~ \\*a\\* \\_b\\_"
        );
    }

    #[test]
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(bad), format!("'{bad}"));
        }
        for good in ["[1/2] RUN x", "", "1=1", "a-b", "-"] {
            assert!(matches!(csv_cell(good), Cow::Borrowed(_)), "{good}");
        }
    }
}
