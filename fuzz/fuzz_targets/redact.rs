//! The redactor: arbitrary text is redacted without panic, redacting twice
//! changes nothing, and a planted AWS key id or token never survives.
#![no_main]

use cachelens_core::parse::redact::{PemBlocks, redact};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = redact(&text);
    assert_eq!(redact(&once), once, "idempotent");
    // a secret planted in the middle of any text is redacted
    let mid = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    for secret in [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
    ] {
        let planted = format!("{}{secret}{}", &text[..mid], &text[mid..]);
        assert!(!redact(&planted).contains(secret), "{planted:?}");
    }
    let mut pem = PemBlocks::default();
    for line in data.split(|&b| b == b'\n') {
        let _ = pem.line(line);
    }
});
