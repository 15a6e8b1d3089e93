//! The line layer and the plain line parser: arbitrary bytes split into lines
//! (`LineReader`, in two pieces: LF, lone CR, escapes) and each classified by `parse_line`.
#![no_main]

use cachelens_core::parse::lines::LineReader;
use cachelens_core::parse::plain::{Body, Line, MAX_SECONDS, Terminal, fetch_status, parse_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut last = 0;
    let mut each = |l: cachelens_core::parse::lines::Line<'_>| {
        let (number, line) = (l.number, l.text);
        assert_eq!(number, last + 1, "line numbers count up by one");
        last = number;
        assert!(line.len() <= data.len());
        match parse_line(line) {
            Line::Vertex(_, Body::Terminal(Terminal::Done(Some(s)))) => {
                assert!(
                    s.is_finite() && (0.0..=MAX_SECONDS).contains(&s),
                    "DONE {s}"
                );
            }
            Line::Vertex(_, Body::Named(status)) => {
                // rule A10: a layer's figures are finite and bounded
                if let Some(f) = fetch_status(status) {
                    assert_eq!(f.digest.len(), 71);
                    assert!(f.seconds.is_none_or(|s| (0.0..=MAX_SECONDS).contains(&s)));
                }
            }
            Line::Text(text) => assert_eq!(text, line),
            _ => {}
        }
    };
    let (a, b) = data.split_at(data.len() / 2);
    let mut reader = LineReader::new(usize::MAX);
    reader.feed(a, &mut each);
    reader.feed(b, &mut each);
    reader.finish(&mut each);
});
