//! Log text made harmless for the medium it is written to; every writer uses
//! these, none has its own rule.
//!
//! - [`terminal`]: for a terminal, a CI log or stderr. C0 controls (but tab),
//!   DEL, C1 controls (U+0080–U+009F: 8-bit CSI, OSC, …) and the bidirectional
//!   overrides and isolates (U+202A–U+202E, U+2066–U+2069) are shown escaped
//!   (`\u{1b}`), so log text can neither drive the terminal nor reorder what
//!   is shown.
//! - [`csv_cell`]: for a spreadsheet. A text cell that begins with `=`, `+`,
//!   `-`, `@`, tab or CR and has more after it is prefixed with `'` (OWASP's
//!   rule against formula injection; a lone `-`, the tables' "none", is no
//!   formula). Numbers are never passed here.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is.
fn unsafe_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\t')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every character that could drive or reorder a terminal escaped.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_on_terminal) {
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
    use super::*;

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
    fn formula_cells_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_cell(bad), format!("'{bad}"));
        }
        for good in ["[1/2] RUN x", "", "1=1", "a-b", "-"] {
            assert!(matches!(csv_cell(good), Cow::Borrowed(_)), "{good}");
        }
    }
}
