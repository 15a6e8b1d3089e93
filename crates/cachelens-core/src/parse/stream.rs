//! A log parsed as it is read: bytes in pieces of any size, each build handed
//! on (redacted) as soon as it ends, and each CodeBuild run of a source that
//! holds several (rule C5), so memory is bounded by the largest build, not by
//! the log. The whole-log entry points ([`parse_log_with`](super::parse_log_with))
//! are this parser given one piece.

use memchr::memmem;

use super::ParseOptions;
use super::assemble::Assembler;
use super::framing::Framer;
use super::lines::{Line, LineReader};
use super::redact::{self, PemBlocks};
use crate::model::{Build, ParsedLog, Refused};

/// The marker a private-key block's first line holds (redaction).
const KEY_MARKER: &[u8] = b"PRIVATE KEY-----";

/// What the parser hands on as it reads.
#[derive(Debug)]
pub enum Parsed {
    /// A build, as it ends.
    Build(Build),
    /// A log that ended before the input did: the records but the builds of a
    /// CodeBuild run the next run follows in the same source (rule C5). Its
    /// builds were handed on before it.
    Log(ParsedLog),
}

/// Parses one source given in pieces ([`push`](Self::push)), handing on each
/// build when it ends, and each log but the last.
pub struct LogParser {
    lines: LineReader,
    reader: Reader,
    redact: bool,
    /// The last bytes of the previous piece: a key marker may span two pieces.
    tail: Vec<u8>,
}

/// What reads the lines: the framer and the assembler, and the rules that
/// keep a line from them.
struct Reader {
    asm: Assembler,
    framer: Framer,
    /// Redaction: once the input may hold a private key, its blocks' lines are dropped.
    pem: Option<PemBlocks>,
    max_line: usize,
    /// Lines holding a NUL byte, and the input's first NUL (offset, line).
    binary: u64,
    first_nul: Option<(usize, u64)>,
}

impl LogParser {
    /// A parser at the start of the log named `source`.
    pub fn new(source: &str, options: &ParseOptions) -> Self {
        let mut asm = Assembler::new(source, options.format);
        asm.max_object = options.max_line;
        LogParser {
            lines: LineReader::new(options.max_line),
            reader: Reader {
                asm,
                framer: Framer::new(),
                pem: None,
                max_line: options.max_line,
                binary: 0,
                first_nul: None,
            },
            redact: options.redact,
            tail: Vec::new(),
        }
    }

    /// Reads the next piece of the log; `to` gets every build and log it ends.
    pub fn push(&mut self, piece: &[u8], to: &mut dyn FnMut(Parsed)) {
        if self.redact && self.reader.pem.is_none() && self.may_hold_key(piece) {
            self.reader.pem = Some(PemBlocks::default());
        }
        let reader = &mut self.reader;
        self.lines.feed(piece, &mut |line| reader.read(line));
        self.hand_on(to);
    }

    /// The end of the input: `to` gets the last builds (and logs); the last
    /// log's other records are returned (with no builds).
    pub fn finish(mut self, to: &mut dyn FnMut(Parsed)) -> ParsedLog {
        let reader = &mut self.reader;
        self.lines.finish(&mut |line| reader.read(line));
        let Reader { asm, framer, .. } = reader;
        framer.finish(&mut |n, f| asm.line(n, f));
        if let Some((offset, line)) = reader.first_nul {
            reader.asm.refused.insert(
                0,
                Refused::Binary {
                    offset,
                    line,
                    lines: reader.binary,
                },
            );
        }
        let mut log = reader.asm.finish();
        self.hand_on(to);
        // redaction looks at what was kept: cleaned of escapes, rawjson's decoded
        if self.redact {
            redact::redact_rest(&mut log);
        }
        log
    }

    /// Whether a private key's first line may be in this piece, or span it and the last.
    fn may_hold_key(&mut self, piece: &[u8]) -> bool {
        let keep = KEY_MARKER.len() - 1;
        self.tail.extend_from_slice(&piece[..piece.len().min(keep)]);
        let found = memmem::find(&self.tail, KEY_MARKER).is_some()
            || memmem::find(piece, KEY_MARKER).is_some();
        // the last `keep` bytes of the input so far
        if piece.len() >= keep {
            self.tail.clear();
            self.tail.extend_from_slice(&piece[piece.len() - keep..]);
        } else {
            let over = self.tail.len().saturating_sub(keep);
            self.tail.drain(..over);
        }
        found
    }

    fn hand_on(&mut self, to: &mut dyn FnMut(Parsed)) {
        for mut p in self.reader.asm.out.drain(..) {
            if self.redact {
                match &mut p {
                    Parsed::Build(b) => redact::redact_build(b),
                    Parsed::Log(log) => redact::redact_rest(log),
                }
            }
            to(p);
        }
    }
}

impl Reader {
    /// One line into the assembler, unless no rule may read it (rule A8): the
    /// body of a private key (redaction), a line over the cap, a line holding NUL bytes.
    fn read(&mut self, line: Line<'_>) {
        let Reader {
            asm,
            framer,
            pem,
            max_line,
            binary,
            first_nul,
        } = self;
        let number = line.number;
        if let Some(offset) = line.nul
            && first_nul.is_none()
        {
            *first_nul = Some((offset, number));
        }
        // the body of a private key is never kept (redaction)
        let secret = pem.as_mut().is_some_and(|pem| pem.line(line.text));
        // lines no rule can accept: counted and located, never read (rule A8)
        let long = !secret && line.bytes > *max_line;
        if long {
            asm.refuse(Refused::LongLine {
                line: number,
                bytes: line.bytes,
            });
        }
        let binary_line =
            !secret && !long && line.nul.is_some() && memchr::memchr(0, line.text).is_some();
        *binary += u64::from(binary_line);
        if secret || long || binary_line {
            // the lines held for the framing go first, in order
            framer.finish(&mut |n, f| asm.line(n, f));
            asm.skip(number);
            return;
        }
        framer.push(number, line.text, &mut |n, f| asm.line(n, f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_log_with;

    /// A log parsed in pieces of `size` bytes, its builds put back in.
    fn in_pieces(input: &[u8], size: usize, options: &ParseOptions) -> ParsedLog {
        let mut builds = Vec::new();
        let mut parser = LogParser::new("t.log", options);
        let mut take = |p| match p {
            Parsed::Build(b) => builds.push(b),
            Parsed::Log(_) => panic!("one run"),
        };
        for piece in input.chunks(size.max(1)) {
            parser.push(piece, &mut take);
        }
        let mut log = parser.finish(&mut take);
        log.builds = builds;
        log
    }

    fn index(p: Parsed) -> usize {
        match p {
            Parsed::Build(b) => b.index,
            Parsed::Log(_) => panic!("one run"),
        }
    }

    #[test]
    fn builds_are_handed_on_when_they_end() {
        let build = "#1 [1/3] FROM a\n#1 DONE 0.1s\n#2 [2/3] RUN b\n#2 CACHED\n#3 [3/3] RUN c\n#3 DONE 1.0s\n";
        let log = build.repeat(2).into_bytes();
        let mut parser = LogParser::new("t.log", &ParseOptions::default());
        let mut seen = Vec::new();
        parser.push(&log[..build.len() + 20], &mut |p| seen.push(index(p)));
        assert_eq!(seen, [0], "the first build ended when the second began");
        parser.push(&log[build.len() + 20..], &mut |p| seen.push(index(p)));
        assert_eq!(seen, [0], "the second is open until the log ends");
        let rest = parser.finish(&mut |p| seen.push(index(p)));
        assert_eq!(seen, [0, 1]);
        assert!(rest.builds.is_empty());
    }

    #[test]
    fn a_key_marker_across_pieces_still_hides_the_key() {
        let log = b"#1 [1/1] RUN x\n#1 0.1 -----BEGIN RSA PRIVATE KEY-----\n#1 0.1 MIIEsecret\n\
                    #1 0.1 -----END RSA PRIVATE KEY-----\n#1 DONE 1.0s\n";
        let options = ParseOptions::default();
        let whole = parse_log_with(log, "t.log", &options);
        for size in 1..40 {
            assert_eq!(in_pieces(log, size, &options), whole, "pieces of {size}");
        }
        assert_eq!(
            whole.builds[0].unparsed_lines, 2,
            "the body and end line are dropped"
        );
    }
}
