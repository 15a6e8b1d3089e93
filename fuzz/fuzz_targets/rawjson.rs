//! rawjson: arbitrary bytes as one SolveStatus object (`parse_status`, then a
//! trace), as the lines of a pretty-printed object (`ObjectScan`), and as a
//! whole rawjson-only log. Run with `-max_len=1048576`: objects up to 1 MB.
#![no_main]

use cachelens_core::model::Format;
use cachelens_core::parse::rawjson::{ObjectScan, Trace, parse_status};
use cachelens_core::parse::{FormatIn, parse_log_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(status) = parse_status(data) {
        let mut trace = Trace::default();
        let _ = trace.apply(&status, 1);
        let _ = trace.finish();
    }
    // the scan closes an object at most once per line, never past its text
    let mut scan = ObjectScan::default();
    for line in data.split(|&b| b == b'\n') {
        if !scan.continues(line) {
            break;
        }
        if scan.feed(line) {
            scan = ObjectScan::default();
        }
    }
    let log = parse_log_as(data, "fuzz", FormatIn::Only(Format::Rawjson));
    assert!(log.builds.iter().all(|b| b.format == Format::Rawjson));
});
