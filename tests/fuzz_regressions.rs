//! Every input kept in `fuzz/regressions/` (fuzz findings and the hostile
//! inputs of issue 11) through the parser in every format, redacted and not,
//! with the invariants the fuzz targets check.

use std::fs;
use std::path::Path;

use cachelens::model::{Format, Status};
use cachelens::parse::plain::MAX_SECONDS;
use cachelens::parse::redact::redact;
use cachelens::parse::{FormatIn, ParseOptions, parse_log_with};

#[test]
fn every_kept_input_parses_with_the_invariants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut inputs = Vec::new();
    for target in fs::read_dir(&root).expect("fuzz/regressions") {
        for file in fs::read_dir(target.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            inputs.push((path.display().to_string(), fs::read(&path).unwrap()));
        }
    }
    assert!(inputs.len() >= 5, "the kept inputs are found");
    for (name, bytes) in &inputs {
        for format in [
            FormatIn::Auto,
            FormatIn::Only(Format::Plain),
            FormatIn::Only(Format::Rawjson),
            FormatIn::Only(Format::Tty),
        ] {
            for (redacted, max_line) in [(true, usize::MAX), (false, 64)] {
                let options = ParseOptions {
                    format,
                    redact: redacted,
                    max_line,
                };
                let log = parse_log_with(bytes, name, &options);
                let unparsed: u64 =
                    log.builds.iter().map(|b| b.unparsed_lines).sum::<u64>() + log.unparsed_outside;
                assert!(unparsed <= log.lines, "{name}");
                for b in &log.builds {
                    assert!(format.accepts(b.format), "{name}");
                    for s in &b.steps {
                        assert!(
                            s.seconds
                                .is_none_or(|t| t.is_finite() && (0.0..=MAX_SECONDS).contains(&t)),
                            "{name}: {:?}",
                            s.seconds
                        );
                        assert!(s.seconds.is_none() || s.status == Status::Done, "{name}");
                        if redacted {
                            assert_eq!(redact(s.label()), s.label(), "{name}");
                            for secret in
                                ["AKIAIOSFODNN7EXAMPLE", "MIIEsecretbody", "NPM_TOKEN=abc"]
                            {
                                assert!(!s.label().contains(secret), "{name}: {}", s.label());
                                assert!(
                                    !s.error.as_deref().unwrap_or("").contains(secret),
                                    "{name}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
