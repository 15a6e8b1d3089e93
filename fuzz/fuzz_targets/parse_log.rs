//! Feeds arbitrary bytes to `cachelens::parse::parse_log` and checks the
//! invariants every `ParsedLog` must satisfy. Any panic (in the parser or in
//! an assertion below) is a finding.
#![no_main]

use std::collections::HashSet;

use cachelens::model::{Format, Kind};
use cachelens::parse::{FormatIn, parse_log_as};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [
        FormatIn::Auto,
        FormatIn::Only(Format::Plain),
        FormatIn::Only(Format::Rawjson),
        FormatIn::Only(Format::Tty),
    ] {
        check(data, format);
    }
});

fn check(data: &[u8], format: FormatIn) {
    let log = parse_log_as(data, "fuzz", format);

    for build in &log.builds {
        // hit_rate is a ratio: None, or within 0..=1 (NaN fails this check too).
        if let Some(rate) = build.hit_rate {
            assert!(
                (0.0..=1.0).contains(&rate),
                "build {}: hit_rate {rate} outside 0..=1",
                build.index
            );
        }

        // One record per vertex: vertex numbers are distinct within a build.
        let mut seen = HashSet::with_capacity(build.steps.len());
        for step in &build.steps {
            assert!(
                seen.insert(step.vertex),
                "build {}: vertex #{} appears in more than one step",
                build.index,
                step.vertex
            );

            // Only Dockerfile instructions (other than FROM) are cacheable.
            assert!(
                !step.cacheable || step.kind == Kind::Instruction,
                "build {}: step #{} is cacheable but its kind is {:?}",
                build.index,
                step.vertex,
                step.kind
            );
        }

        // Only the formats asked for are read; only tty records are approximate.
        assert!(format.accepts(build.format), "build {}: {:?}", build.index, build.format);
        assert_eq!(build.approximate, build.format == Format::Tty);

        // A build's first line is not after its last.
        assert!(
            build.lines[0] <= build.lines[1],
            "build {}: lines {:?} out of order",
            build.index,
            build.lines
        );
    }
}
