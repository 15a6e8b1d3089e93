//! The assembler over whole logs: feeds arbitrary bytes to
//! `cachelens_core::parse::parse_log_with` (every format, redacted or not, a small
//! `max_line` too) and checks the invariants every `ParsedLog` must satisfy.
//! Any panic (in the parser or in an assertion below) is a finding.
#![no_main]

use std::collections::HashSet;

use cachelens_core::model::{Format, Kind};
use cachelens_core::parse::vertex_name::parse_vertex_name;
use cachelens_core::parse::{FormatIn, ParseOptions, parse_log_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [
        FormatIn::Auto,
        FormatIn::Only(Format::Plain),
        FormatIn::Only(Format::Rawjson),
        FormatIn::Only(Format::Tty),
    ] {
        check(data, format, true, usize::MAX);
    }
    check(data, FormatIn::Auto, false, 64);
});

fn check(data: &[u8], format: FormatIn, redact: bool, max_line: usize) {
    let options = ParseOptions {
        format,
        redact,
        max_line,
    };
    let log = parse_log_with(data, "fuzz", &options);

    // Every line is read or counted: unparsed counts never exceed the lines.
    let unparsed: u64 =
        log.builds.iter().map(|b| b.unparsed_lines).sum::<u64>() + log.unparsed_outside;
    assert!(
        unparsed <= log.lines,
        "{unparsed} unparsed of {} lines",
        log.lines
    );
    if redact {
        // What was kept is redacted: redacting again changes nothing.
        for step in log.builds.iter().flat_map(|b| &b.steps) {
            assert_eq!(
                cachelens_core::parse::redact::redact(step.label()),
                step.label()
            );
        }
    }

    for build in &log.builds {
        // A step's arguments are what its name's grammar reads (parsed once, by the parser).
        for step in build.steps.iter().filter(|s| s.instruction.is_some()) {
            let name = parse_vertex_name(step.label());
            assert_eq!(step.args.as_deref(), name.args, "{:?}", step.label());
        }
        // A DONE time is a plausible duration.
        for step in &build.steps {
            if let Some(s) = step.seconds {
                assert!(
                    s.is_finite() && (0.0..=cachelens_core::parse::plain::MAX_SECONDS).contains(&s),
                    "{s}"
                );
            }
        }
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
        assert!(
            format.accepts(build.format),
            "build {}: {:?}",
            build.index,
            build.format
        );
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
