//! The tty final frame: every line of arbitrary bytes through `parse_tty_line`
//! and a `Frames`, then the whole input as a tty-only log.
#![no_main]

use cachelens_core::model::Format;
use cachelens_core::parse::lines::LineReader;
use cachelens_core::parse::tty::{Frames, TtyLine, parse_tty_line};
use cachelens_core::parse::{FormatIn, parse_log_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut frames = Frames::default();
    let mut each = |l: cachelens_core::parse::lines::Line<'_>| {
        let number = l.number;
        match parse_tty_line(l.text) {
            Some(TtyLine::Header { seconds, finished }) => {
                let _ = frames.starts_new_build(seconds);
                frames.header(seconds, finished);
            }
            Some(TtyLine::Step(step)) => frames.step(&step, number),
            Some(TtyLine::Sub(Some(fetch))) => frames.fetch(&fetch),
            _ => {}
        }
    };
    let mut reader = LineReader::new(usize::MAX);
    reader.feed(data, &mut each);
    reader.finish(&mut each);
    for step in frames.finish() {
        assert!(step.seconds.is_none_or(|s| s >= 0.0), "{:?}", step.seconds);
        let fetch = step.layers.fetch();
        assert!(fetch.is_none_or(|f| f.seconds.is_finite() && f.seconds >= 0.0));
    }
    let log = parse_log_as(data, "fuzz", FormatIn::Only(Format::Tty));
    assert!(log.builds.iter().all(|b| b.approximate));
});
