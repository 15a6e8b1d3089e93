//! The light core of cachelens: BuildKit progress output parsed into records,
//! and the per-build summary figures. No I/O, no clock, no heavy dependencies:
//! the post_build summary, the fuzz targets and the parser benchmarks build on
//! this crate alone.
//!
//! The flow: bytes → [`parse`] (one module per grammar in `grammars/`) →
//! [`model`] records → [`summary`] figures.

pub mod model;
pub mod parse;
pub mod summary;
