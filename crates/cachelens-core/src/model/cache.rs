//! A build's cache traffic: remote cache imports, the layers its hits fetched, and cache exports.

use serde::Serialize;

use super::FetchTotals;

/// A remote cache import (`importing cache manifest from <ref>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheImport {
    /// The cache reference as printed.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Whether the import vertex ended `DONE` (it can succeed and still give no hit).
    pub ok: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The vertex's `DONE` seconds.
    pub seconds: Option<f64>,
    /// Vertex number of the import.
    pub vertex: u32,
}

/// A cache export (`exporting cache`, `exporting cache to registry`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheExport {
    /// The exporter vertex's name.
    pub name: String,
    /// Its `DONE` seconds.
    pub seconds: Option<f64>,
    /// Whether it ended `DONE`.
    pub ok: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Vertex number of the export.
    pub vertex: u32,
}

/// Cache traffic of one build.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cache {
    /// Cache imports in print order.
    pub imports: Vec<CacheImport>,
    /// Cache exports in print order.
    pub exports: Vec<CacheExport>,
    /// The layers the build's cacheable steps fetched, beside the import manifest time.
    pub fetch: FetchTotals,
}
