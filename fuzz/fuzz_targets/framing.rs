//! CI framing: every line of arbitrary bytes through one `Framer`; the content
//! left is a part of the line.
#![no_main]

use cachelens::parse::framing::Framer;
use cachelens::parse::lines::Lines;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut lines = Lines::new(data);
    let mut framer = Framer::new();
    while let Some((_, line)) = lines.next_line() {
        let line = line.to_vec();
        let framed = framer.strip(&line);
        let start = framed.content.as_ptr() as usize;
        let base = line.as_ptr() as usize;
        assert!(
            framed.content.is_empty()
                || (start >= base && start + framed.content.len() <= base + line.len()),
            "the content is a part of the line"
        );
    }
});
