//! The rules: one cause per file, each a `check(&Context) -> Option<Cause>`,
//! run from [`RULES`] in its order.

mod base_image_changed;
mod cache_export_failed;
mod cache_import_failed;
mod cache_import_no_hit;
mod context_files;
mod dependencies_changed;
mod inline_cache_gap;
mod instruction_changed;
mod no_cache_flag;
mod no_cache_source;
mod source_changed;
mod step_failed;
mod unknown;

use super::context::Context;
use super::diagnosis::Cause;
use Scope::{Build, Step};

/// Which misses a rule explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every miss of the build at once (checked once, on the first miss).
    Build,
    /// One first miss and its cascade (checked on each).
    Step,
}

/// One rule: what it explains, and its check.
pub struct Rule {
    /// Which misses it explains.
    pub scope: Scope,
    /// The cause, when the rule holds.
    pub check: fn(&Context<'_>) -> Option<Cause>,
}

/// Every rule, in the order they are tried; the first that holds gives the cause.
///
/// The build rules come first: when the whole build lost its cache (a failed
/// import, an import that found nothing, an inline cache that left the builder
/// stages out, `--no-cache`, no cache source at all) that one cause explains
/// every miss, and blaming each step's inputs instead would be wrong. Among
/// them, the cache import is looked at before anything else, since without it
/// nothing else could hit; `--no-cache` and the cold build only once the first
/// miss's own stage does not explain it better (a failed step, a new base
/// image). Then the step rules, for each first miss: a failed step is never
/// cached, whatever its inputs; a new base image invalidates everything built
/// on it; then the instruction's text; then the files it copies (dependency
/// manifests before other sources); `unknown` last, always holding.
///
/// A rule relies on the rules before it having failed (`cache-import-no-hit`
/// holds only when `cache-export-failed` did not, `source-changed` when
/// `dependencies-changed` did not); each file says which.
pub const RULES: &[Rule] = &[
    Rule::new(Build, cache_import_failed::check),
    Rule::new(Build, cache_export_failed::check),
    Rule::new(Build, cache_import_no_hit::check),
    Rule::new(Build, inline_cache_gap::check),
    Rule::new(Build, no_cache_flag::check),
    Rule::new(Build, no_cache_source::check),
    Rule::new(Step, step_failed::check),
    Rule::new(Step, base_image_changed::check),
    Rule::new(Step, instruction_changed::check),
    Rule::new(Step, dependencies_changed::check),
    Rule::new(Step, source_changed::check),
    Rule::new(Step, unknown::check),
];

impl Rule {
    /// A rule of `scope` that `check` tests.
    const fn new(scope: Scope, check: fn(&Context<'_>) -> Option<Cause>) -> Rule {
        Rule { scope, check }
    }
}

/// The first cause of `scope` that holds in `ctx`, in the order of [`RULES`].
pub fn first_cause(scope: Scope, ctx: &Context<'_>) -> Option<Cause> {
    RULES
        .iter()
        .filter(|r| r.scope == scope)
        .find_map(|r| (r.check)(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_rules_come_before_step_rules() {
        let scopes: Vec<Scope> = RULES.iter().map(|r| r.scope).collect();
        let first_step = scopes.iter().position(|s| *s == Step).unwrap();
        assert!(scopes[..first_step].iter().all(|s| *s == Build));
        assert!(scopes[first_step..].iter().all(|s| *s == Step));
    }
}
