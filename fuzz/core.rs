//! The parser core of cachelens (`src/parse/` and `src/model.rs`), compiled
//! on its own under the crate name `cachelens`: the fuzz targets build in about
//! a minute instead of compiling the whole application (AWS SDK, polars, plotters).

#[path = "../src/model.rs"]
pub mod model;
#[path = "../src/parse/mod.rs"]
pub mod parse;
