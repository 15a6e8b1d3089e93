//! The line layer of `grammars/buildkit-plain.ebnf` (rules `log`, `line`, and
//! the cleaning applied before a line is parsed): LF-split with memchr (CR-split
//! when the input has CRs and no LF at all: old Mac line ends, some terminals), one
//! trailing CR removed, leading CRs removed, ANSI escape sequences removed.
//!
//! Lines are borrowed from the input; a line is copied (into one reused
//! buffer) only when it holds an escape sequence.

use memchr::memchr;

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// Iterates over the cleaned lines of a log, with 1-based line numbers.
pub struct Lines<'a> {
    rest: &'a [u8],
    /// The line end: LF, or CR in an input without LF.
    end: u8,
    number: u64,
    has_escapes: bool,
    scratch: Vec<u8>,
}

impl<'a> Lines<'a> {
    /// Lines of `input` (a leading UTF-8 byte order mark skipped); escape
    /// sequences are looked for only when the input has one.
    pub fn new(input: &'a [u8]) -> Self {
        let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
        let end = if memchr(b'\n', input).is_none() && memchr(b'\r', input).is_some() {
            b'\r'
        } else {
            b'\n'
        };
        Lines {
            rest: input,
            end,
            number: 0,
            has_escapes: memchr(ESC, input).is_some(),
            scratch: Vec::new(),
        }
    }

    /// The byte that ends a line in this input (`\n`, or `\r` when it has no LF).
    pub fn separator(&self) -> u8 {
        self.end
    }

    /// The next line and its number, or `None` at the end.
    ///
    /// Not an `Iterator`: a cleaned line borrows the iterator's buffer.
    pub fn next_line(&mut self) -> Option<(u64, &[u8])> {
        if self.rest.is_empty() {
            return None;
        }
        let (raw, rest) = match memchr(self.end, self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        self.number += 1;
        let line = trim_cr(raw);
        if self.has_escapes && memchr(ESC, line).is_some() {
            strip_escapes(line, &mut self.scratch);
            let cleaned = trim_cr(&self.scratch);
            return Some((self.number, cleaned));
        }
        Some((self.number, line))
    }
}

/// Removes one trailing CR (CRLF) and any leading CRs (a carriage return
/// before the line's text, as a terminal capture leaves it).
fn trim_cr(mut line: &[u8]) -> &[u8] {
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    while let [b'\r', tail @ ..] = line {
        line = tail;
    }
    line
}

/// Copies `line` into `out` without ANSI CSI (`ESC [ … final`) sequences and
/// the string sequences OSC, APC, DCS, PM and SOS (`ESC ]`, `ESC _` — Buildkite's
/// `ESC _bk;t=… BEL` stamps —, `ESC P`, `ESC ^`, `ESC X`, each ended by BEL or
/// `ESC \\`); other `ESC x` pairs are dropped too.
fn strip_escapes(line: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < line.len() {
        let Some(at) = memchr(ESC, &line[i..]) else {
            out.extend_from_slice(&line[i..]);
            break;
        };
        out.extend_from_slice(&line[i..i + at]);
        i += at + 1;
        match line.get(i) {
            Some(b'[') => {
                i += 1;
                // parameter and intermediate bytes, then one final byte in 0x40..=0x7e
                while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']' | b'_' | b'P' | b'^' | b'X') => {
                i += 1;
                while i < line.len() {
                    if line[i] == BEL {
                        i += 1;
                        break;
                    }
                    if line[i] == ESC && line.get(i + 1) == Some(&b'\\') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            Some(_) => i += 1,
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut lines = Lines::new(input);
        let mut out = Vec::new();
        while let Some((n, l)) = lines.next_line() {
            out.push((n, l.to_vec()));
        }
        out
    }

    #[test]
    fn splits_on_lf_and_trims_cr() {
        let got = all(b"#1 a\r\n\r\n#1 DONE 0.0s\n\rlast");
        assert_eq!(
            got,
            vec![
                (1, b"#1 a".to_vec()),
                (2, b"".to_vec()),
                (3, b"#1 DONE 0.0s".to_vec()),
                (4, b"last".to_vec()),
            ]
        );
    }

    #[test]
    fn lone_carriage_returns_end_lines_when_there_is_no_lf() {
        let got = all(b"#1 [1/1] RUN a\r#1 DONE 1.0s\r\r#2 x");
        assert_eq!(got.len(), 4);
        assert_eq!(got[1], (2, b"#1 DONE 1.0s".to_vec()));
        assert_eq!(got[3], (4, b"#2 x".to_vec()));
        // with one LF anywhere, CRs are no line ends
        assert_eq!(all(b"#1 a\r#1 b\n").len(), 1);
    }

    #[test]
    fn keeps_inner_carriage_returns() {
        let got = all(b"#7 0.191 progress: 10%\rprogress: 50%\n");
        assert_eq!(got[0].1, b"#7 0.191 progress: 10%\rprogress: 50%".to_vec());
    }

    #[test]
    fn strips_csi_and_osc_sequences() {
        let got = all(b"\x1b[32m#5 CACHED\x1b[0m\n\x1b]0;title\x07#6 DONE 1.0s\x1b[K\r\n\x1b[\n\x1b_bk;t=1700000000000\x07#7 CACHED\n\x1bPq#0;x\x1b\\#8 CACHED");
        assert_eq!(got[0].1, b"#5 CACHED".to_vec());
        assert_eq!(got[1].1, b"#6 DONE 1.0s".to_vec());
        assert_eq!(got[2].1, b"".to_vec());
        assert_eq!(got[3].1, b"#7 CACHED".to_vec(), "Buildkite's APC stamp");
        assert_eq!(got[4].1, b"#8 CACHED".to_vec());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(all(b"\xef\xbb\xbf#1 a\n")[0].1, b"#1 a".to_vec());
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(all(b"").is_empty());
        assert_eq!(all(b"\n").len(), 1);
    }
}
