//! BuildKit progress output into builds and steps.
//!
//! Each module mirrors a grammar in `grammars/`: [`lines`] and [`plain`] the
//! line rules of `buildkit-plain.ebnf`, [`framing`] `ci-framing.ebnf`,
//! [`vertex_name`] `vertex-name.ebnf`, [`codebuild`] `codebuild.ebnf`, and
//! [`assemble`] the assembler rules at the end of `buildkit-plain.ebnf` and
//! `codebuild.ebnf`.
//! Pure functions of bytes: no I/O, no clock.

pub mod assemble;
pub mod codebuild;
pub mod framing;
pub mod lines;
pub mod plain;
pub mod vertex_name;

pub use assemble::{ParsedLog, parse_log};
