//! cachelens: see what the Docker build cache saves you, what it costs, and why it missed.
//!
//! The flow: [`source`] reads bytes, [`parse`] turns them into [`model::Build`]
//! records, [`analyze`] and [`cost`] aggregate and price them, [`report`]
//! writes them out. The parser, the records and the per-build summary live in
//! the light `cachelens-core` crate, re-exported here.

pub mod analyze;
pub mod corpus;
pub mod cost;
pub mod demo;
pub mod report;
pub mod safe_write;
pub mod source;
pub mod splitmix;
pub mod synth;

pub use cachelens_core::{model, parse, summary};
