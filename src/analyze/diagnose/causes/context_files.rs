//! Not a rule: what the two rules on files from the build context
//! (`dependencies-changed`, `source-changed`) share: the evidence, and what the
//! context transfer says.

use crate::analyze::diagnose::context::Context;
use crate::analyze::diagnose::diagnosis::Evidence;
use crate::analyze::diagnose::evidence::{context_evidence, evidence};

/// The first miss, the context transfer lines and the baseline's step.
pub fn files_evidence(ctx: &Context<'_>) -> Vec<Evidence> {
    let mut ev = vec![evidence(ctx.target, ctx.root)];
    ev.extend(context_evidence(ctx.target));
    if let Some(b) = ctx.baseline {
        if let Some(s) = ctx.before {
            ev.push(evidence(b, s));
        }
        if let Some(c) = context_evidence(b) {
            ev.push(c);
        }
    }
    ev
}

/// How the change shows: the context sent more than an unchanged one (and
/// than the baseline, which hit), or its size does not show it.
pub fn how(ctx: &Context<'_>) -> String {
    let Some(c) = ctx.target.context.as_ref() else {
        return "it is the first miss and its inputs are files from the context".to_owned();
    };
    let baseline = ctx.baseline.and_then(|b| b.context.as_ref());
    let no_larger = baseline.filter(|b| matches!((c.bytes, b.bytes), (Some(n), Some(m)) if n <= m));
    match (ctx.context_changed(), no_larger) {
        (Some(true), None) => format!(
            "the build context sent {} (an unchanged context sends {}{})",
            c.size,
            size(ctx.peers.unchanged_context_bytes.unwrap_or(0)),
            baseline.map_or_else(String::new, |b| format!(", the baseline sent {}", b.size))
        ),
        (Some(_), Some(b)) => format!(
            "it is the first miss and its inputs are files from the context (the transfer, {}, is no larger than the baseline's, {}, which hit: its size does not show the change)",
            c.size, b.size
        ),
        (Some(false), None) => format!(
            "it is the first miss and its inputs are files from the context (the transfer, {}, does not show the change: a new or pruned builder sends the whole context)",
            c.size
        ),
        (None, _) => "it is the first miss and its inputs are files from the context".to_owned(),
    }
}

/// Bytes as BuildKit prints a transfer (go-units' `HumanSize`: decimal units,
/// three significant digits, no space): `217B`, `1.58kB`, `12.3MB`, so a
/// figure reads like the log lines beside it.
fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    // as f64: three significant digits are all that is printed
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    let decimals = match v {
        v if v < 10.0 => 2,
        v if v < 100.0 => 1,
        _ => 0,
    };
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_like_buildkit_prints_them() {
        for (bytes, text) in [
            (0, "0B"),
            (131, "131B"),
            (1_000, "1kB"),
            (1_580, "1.58kB"),
            (12_345, "12.3kB"),
            (2_100_000, "2.1MB"),
            (123_456_789, "123MB"),
            (7_000_000_000_000_000_000, "7000PB"),
        ] {
            assert_eq!(size(bytes), text, "{bytes}");
        }
    }
}
