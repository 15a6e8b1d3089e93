//! CI framing: every line of arbitrary bytes through one `Framer`. Lines come
//! out once each and in order (a GitLab continuation joined to its line aside),
//! and a line's content is the rest of the line after its prefix.
#![no_main]

use cachelens_core::model::Framing;
use cachelens_core::parse::framing::{Framed, Framer};
use cachelens_core::parse::lines::LineReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut framer = Framer::new();
    let mut last = 0;
    let mut read = 0;
    let mut check = |number: u64, framed: Framed<'_>| {
        assert!(number > last, "lines come out in order, once each");
        last = number;
        if framed.framing != Some(Framing::GitLab) {
            assert!(
                framed.line.ends_with(framed.content),
                "the content is the rest of the line"
            );
        }
    };
    // in two pieces: lines across a piece's end too
    let (a, b) = data.split_at(data.len() / 2);
    let mut reader = LineReader::new(usize::MAX);
    let mut each = |line: cachelens_core::parse::lines::Line<'_>| {
        framer.push(line.number, line.text, &mut check);
        read = line.number;
    };
    reader.feed(a, &mut each);
    reader.feed(b, &mut each);
    reader.finish(&mut each);
    framer.finish(&mut check);
    assert!(last <= read);
});
