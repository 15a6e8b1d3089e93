//! The records cachelens makes of a log: builds, their steps and their cache
//! traffic, the CodeBuild run around them, and where the log came from. The
//! parser writes them; every output reads them.
//!
//! Field names are part of the command-line contract (`steps --format json`,
//! DESIGN.md): rename nothing without changing the contract.

mod build;
mod build_id;
mod cache;
mod fetch;
mod framing;
mod log;
mod origin;
mod run;
mod step;

pub use build::{Build, ContextTransfer, Format};
pub use build_id::{BuildId, BuildIdError};
pub use cache::{Cache, CacheExport, CacheImport};
pub use fetch::{Fetch, FetchTotals};
pub use framing::{Framing, WallClock};
pub use log::{MAX_REFUSED, ParsedLog, Refused};
pub use origin::{BuildMetadata, Origin};
pub use run::{Phase, Run, RunCommand};
pub use step::{Kind, Status, Step, hit_rate, total_seconds};
