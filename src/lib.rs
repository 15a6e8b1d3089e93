//! cachelens: see what the Docker build cache saves you, what it costs, and why it missed.
//!
//! The flow: [`source`] reads bytes, [`parse`] turns them into [`model::Build`]
//! records, [`report`] writes them out.

pub mod analyze;
pub mod cost;
pub mod demo;
pub mod model;
pub mod parse;
pub mod report;
pub mod safe_write;
pub mod source;
pub mod summary;
pub mod synth;
