//! The line layer of `grammars/buildkit-plain.ebnf` (rules `log`, `line`, and
//! the cleaning applied before a line is parsed): LF-split with memchr (CR-split
//! when the first MiB of the input has CRs and no LF: old Mac line ends, some
//! terminals), one trailing CR removed, leading CRs removed, ANSI escape
//! sequences removed.
//!
//! The input comes in pieces of any size ([`LineReader::feed`]): a line is
//! borrowed from its piece, and copied only when it spans two pieces or holds
//! an escape sequence. A line is never held longer than the cap it is read
//! with: past it only its length is kept, so memory stays bounded on any input.

use memchr::memchr;

const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;
const BOM: &[u8] = b"\xef\xbb\xbf";

/// How many bytes at the start of an input decide its line end: CR when they
/// hold a CR and no LF, else LF.
pub const DECIDING: usize = 1 << 20;

/// One line of a log, cleaned, with where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// The cleaned text (empty when the raw line is longer than the cap).
    pub text: &'a [u8],
    /// The cleaned length; for a raw line longer than the cap, its raw length.
    pub bytes: usize,
    /// The input offset of the line's first NUL byte, if it holds one.
    pub nul: Option<usize>,
}

/// Splits a log, given in pieces, into cleaned lines with 1-based numbers.
#[derive(Debug)]
pub struct LineReader {
    /// The line end, once decided.
    end: Option<u8>,
    /// The start of the input while the line end is undecided.
    head: Vec<u8>,
    /// The line begun in an earlier piece (at most `cap` bytes of it).
    carry: Vec<u8>,
    /// Its raw length so far (`carry` stops growing past `cap`).
    carry_len: usize,
    /// Its first NUL byte's input offset.
    carry_nul: Option<usize>,
    /// Lines longer than this are not kept, only measured.
    cap: usize,
    number: u64,
    /// The input offset of the next line not yet read.
    offset: usize,
    scratch: Vec<u8>,
}

impl LineReader {
    /// A reader at the start of an input; a line longer than `cap` bytes is
    /// given with no text, only its length.
    pub fn new(cap: usize) -> Self {
        LineReader {
            end: None,
            head: Vec::new(),
            carry: Vec::new(),
            carry_len: 0,
            carry_nul: None,
            cap,
            number: 0,
            offset: 0,
            scratch: Vec::new(),
        }
    }

    /// The byte that ends a line in this input (`\n`, or `\r` in an input
    /// whose first MiB has CRs and no LF); LF until it is decided.
    pub fn separator(&self) -> u8 {
        self.end.unwrap_or(b'\n')
    }

    /// Reads the next piece of the input; `f` gets every line it completes.
    pub fn feed(&mut self, piece: &[u8], f: &mut impl FnMut(Line<'_>)) {
        if self.end.is_some() {
            return self.split(piece, f);
        }
        self.head.extend_from_slice(piece);
        let probe = &self.head[..self.head.len().min(DECIDING)];
        if memchr(b'\n', probe).is_none() && self.head.len() < DECIDING {
            return;
        }
        self.start(f);
    }

    /// The end of the input: `f` gets its last line, if it has no line end.
    pub fn finish(&mut self, f: &mut impl FnMut(Line<'_>)) {
        if self.end.is_none() {
            self.start(f);
        }
        if self.carry_len > 0 {
            self.emit_carry(f);
        }
    }

    /// Decides the line end from the head of the input, then reads it.
    fn start(&mut self, f: &mut impl FnMut(Line<'_>)) {
        let head = std::mem::take(&mut self.head);
        let probe = &head[..head.len().min(DECIDING)];
        self.end = Some(
            if memchr(b'\n', probe).is_none() && memchr(b'\r', probe).is_some() {
                b'\r'
            } else {
                b'\n'
            },
        );
        let body = match head.strip_prefix(BOM) {
            Some(body) => {
                self.offset = BOM.len();
                body
            }
            None => &head[..],
        };
        self.split(body, f);
    }

    fn split(&mut self, piece: &[u8], f: &mut impl FnMut(Line<'_>)) {
        let end = self.separator();
        let mut rest = piece;
        if self.carry_len > 0 {
            let Some(i) = memchr(end, rest) else {
                return self.append(rest);
            };
            self.append(&rest[..i]);
            rest = &rest[i + 1..];
            self.emit_carry(f);
        }
        let escapes = memchr(ESC, rest).is_some();
        let nuls = memchr(0, rest).is_some();
        while let Some(i) = memchr(end, rest) {
            let raw = &rest[..i];
            self.number += 1;
            let nul = if nuls {
                memchr(0, raw).map(|p| self.offset + p)
            } else {
                None
            };
            let (text, bytes) = if raw.len() > self.cap {
                (&[][..], raw.len())
            } else {
                let text = clean(raw, escapes, &mut self.scratch);
                (text, text.len())
            };
            f(Line {
                number: self.number,
                text,
                bytes,
                nul,
            });
            self.offset += i + 1;
            rest = &rest[i + 1..];
        }
        self.append(rest);
    }

    /// Adds bytes to the line begun in an earlier piece (kept up to the cap).
    fn append(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.carry_nul.is_none() {
            self.carry_nul = memchr(0, bytes).map(|p| self.offset + self.carry_len + p);
        }
        self.carry_len += bytes.len();
        if self.carry_len <= self.cap {
            self.carry.extend_from_slice(bytes);
        } else {
            self.carry = Vec::new();
        }
    }

    fn emit_carry(&mut self, f: &mut impl FnMut(Line<'_>)) {
        self.number += 1;
        let carry = std::mem::take(&mut self.carry);
        let (text, bytes) = if self.carry_len > self.cap {
            (&[][..], self.carry_len)
        } else {
            let text = clean(&carry, true, &mut self.scratch);
            (text, text.len())
        };
        f(Line {
            number: self.number,
            text,
            bytes,
            nul: self.carry_nul.take(),
        });
        self.offset += self.carry_len + 1;
        self.carry_len = 0;
        // the buffer is reused for the next line that spans pieces
        self.carry = carry;
        self.carry.clear();
    }
}

/// A raw line cleaned: CRs trimmed, escape sequences removed (looked for only
/// when `escapes` says the piece holds one).
fn clean<'a>(raw: &'a [u8], escapes: bool, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let line = trim_cr(raw);
    if escapes && memchr(ESC, line).is_some() {
        strip_escapes(line, scratch);
        return trim_cr(scratch);
    }
    line
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

    /// The lines of `input` given in pieces of `size` bytes.
    fn pieces(input: &[u8], size: usize, cap: usize) -> Vec<(u64, Vec<u8>, usize, Option<usize>)> {
        let mut reader = LineReader::new(cap);
        let mut out = Vec::new();
        let mut f = |l: Line<'_>| out.push((l.number, l.text.to_vec(), l.bytes, l.nul));
        for piece in input.chunks(size.max(1)) {
            reader.feed(piece, &mut f);
        }
        reader.finish(&mut f);
        out
    }

    fn all(input: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let whole = pieces(input, input.len(), usize::MAX);
        for size in [1, 2, 3, 7] {
            assert_eq!(pieces(input, size, usize::MAX), whole, "pieces of {size}");
        }
        whole.into_iter().map(|(n, t, _, _)| (n, t)).collect()
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

    #[test]
    fn a_line_past_the_cap_is_measured_not_kept() {
        let input = b"#1 a\n0123456789\n#2 b";
        for size in [1, 4, input.len()] {
            let got = pieces(input, size, 8);
            assert_eq!(got[1].2, 10, "pieces of {size}: its length");
            assert!(got[1].1.is_empty(), "pieces of {size}: not kept");
            assert_eq!(got[2].1, b"#2 b".to_vec());
        }
    }

    #[test]
    fn nul_bytes_are_located_in_the_input() {
        let input = b"\xef\xbb\xbf#1 a\nb\0c\n\0";
        for size in [1, 2, 5, input.len()] {
            let got = pieces(input, size, usize::MAX);
            let nuls: Vec<_> = got.iter().map(|l| l.3).collect();
            assert_eq!(nuls, [None, Some(9), Some(12)], "pieces of {size}");
        }
    }

    #[test]
    fn the_first_mib_decides_the_line_end() {
        let mut input = vec![b'x'; DECIDING];
        input[10] = b'\r';
        input.extend_from_slice(b"\nlast");
        // CRs and no LF in the first MiB: CR ends lines, the later LF is text
        assert_eq!(pieces(&input, 4096, usize::MAX).len(), 2);
        assert_eq!(pieces(&input, input.len(), usize::MAX).len(), 2);
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pieces_give_the_lines_of_the_whole(
            input in proptest::collection::vec(
                proptest::sample::select(vec![b'#', b'1', b' ', b'\n', b'\r', 0x1b, b'[', b'm', 0, 0xef, 0xbb, 0xbf]),
                0..64,
            ),
            size in 1usize..9,
            cap in 2usize..12,
        ) {
            prop_assert_eq!(pieces(&input, size, cap), pieces(&input, input.len(), cap));
        }
    }
}
