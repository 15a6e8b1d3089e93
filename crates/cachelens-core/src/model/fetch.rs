//! What a vertex fetched: the layers BuildKit pulled and extracted for it
//! (rule A10 of `grammars/buildkit-plain.ebnf`, the layer statuses of `rawjson.md`).

use serde::Serialize;

/// The layers one vertex fetched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fetch {
    /// Distinct layer digests.
    pub layers: u32,
    /// Their bytes (the download's total, else its last figure); `None` when the
    /// printer did not show a downloaded layer's size (BuildKit ≤ v0.8's `pulling` lines).
    pub bytes: Option<u64>,
    /// The layers' download and extraction seconds, added up (layers downloaded
    /// in parallel overlap: an upper bound of the wall time).
    pub seconds: f64,
}

/// What a build fetched for its cache hits, beside the cache-import manifest time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FetchTotals {
    /// Cacheable steps that fetched a layer.
    pub steps: u32,
    /// Their layers (a FROM's base-image layers are not counted: they are paid
    /// with or without the cache).
    pub layers: u32,
    /// Their bytes; `None` when some step's sizes were not printed.
    pub bytes: Option<u64>,
    /// Their seconds, added up.
    pub seconds: f64,
    /// Seconds of the cache-import vertices (`importing cache manifest from …`), when timed.
    pub import_seconds: Option<f64>,
}

impl FetchTotals {
    /// The totals of the fetches of a build's cacheable steps, beside its import seconds.
    pub fn of<'a>(
        fetches: impl IntoIterator<Item = &'a Fetch>,
        import_seconds: Option<f64>,
    ) -> Self {
        let mut totals = FetchTotals {
            bytes: Some(0),
            import_seconds,
            ..FetchTotals::default()
        };
        for f in fetches {
            totals.steps += 1;
            totals.layers += f.layers;
            totals.bytes = totals.bytes.zip(f.bytes).map(|(a, b)| a.saturating_add(b));
            totals.seconds += f.seconds;
        }
        totals.seconds = super::total_seconds([totals.seconds]);
        if totals.steps == 0 {
            totals.bytes = None;
        }
        totals
    }
}
