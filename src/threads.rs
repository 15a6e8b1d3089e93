//! `--threads N`: how many threads the work takes, at most.
//!
//! Two thread pools would otherwise share it: rayon's global one (the logs
//! read in parallel, the report's tasks) and polars' own (its group-bys,
//! joins and writers), each as large as the machine, so that a limit on one
//! (`RAYON_NUM_THREADS`) left the other at every core. Here polars' pool is
//! sized first and every command that works in parallel runs inside it
//! ([`on_the_pool`]): rayon's calls made there run on that pool too, and there
//! is one pool of N threads.
//!
//! The pools read their size from the environment when they are first used:
//! [`limit`] writes it there, before any thread exists.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// polars' pool size.
const POLARS: &str = "POLARS_MAX_THREADS";
/// rayon's global pool size.
const RAYON: &str = "RAYON_NUM_THREADS";
/// The async runtime's workers (the AWS calls).
const TOKIO: &str = "TOKIO_WORKER_THREADS";

/// Where the thread count comes from, for `cachelens config`.
static SOURCE: OnceLock<&'static str> = OnceLock::new();

/// A positive count in variable `name`.
fn count_in(name: &str) -> Option<NonZeroUsize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Sizes the pools: `threads` (`--threads`), else `POLARS_MAX_THREADS`, else
/// `RAYON_NUM_THREADS` (which then sizes polars' pool too), else every core
/// the process may run on.
///
/// # Safety
///
/// No other thread may exist yet (it writes environment variables): call it
/// first thing in `main`.
pub unsafe fn limit(threads: Option<NonZeroUsize>) {
    let (n, source, overwrite) = match (threads, count_in(POLARS), count_in(RAYON)) {
        (Some(n), ..) => (Some(n), "--threads", true),
        (None, Some(n), _) => (Some(n), POLARS, false),
        (None, None, Some(n)) => (Some(n), RAYON, false),
        (None, None, None) => (None, "default", false),
    };
    SOURCE.get_or_init(|| source);
    let Some(n) = n else { return };
    let n = n.to_string();
    for name in [POLARS, RAYON, TOKIO] {
        // a variable the pools would not read (not a count) is replaced too
        if overwrite || count_in(name).is_none() {
            // SAFETY: the caller's: no other thread exists, so none reads the
            // environment at the same time
            unsafe { std::env::set_var(name, &n) };
        }
    }
}

/// Runs `work` on polars' pool (made now, of the size [`limit`] set): the
/// rayon calls it makes take that pool's threads, not a second pool's.
pub fn on_the_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    polars_core::runtime::THREAD_POOL.install(work)
}

/// The threads the work takes and where that number comes from.
pub fn in_force() -> (usize, &'static str) {
    (
        polars_core::runtime::THREAD_POOL.current_num_threads(),
        SOURCE.get().copied().unwrap_or("default"),
    )
}
