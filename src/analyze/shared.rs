//! Text the rows share: every run of a Dockerfile prints the same step names,
//! so a report of 100,000 runs would otherwise hold each name and step key
//! 100,000 times over. [`Shared`] keeps one copy of each text, and rows made
//! on any thread hold it behind an `Arc`.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

/// Shards: rayon's threads intern at once and seldom wait for each other.
const SHARDS: usize = 16;

/// One copy of each text interned, safe to share between threads.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    hasher: RandomState,
    shards: [Mutex<HashSet<Arc<str>>>; SHARDS],
}

impl Shared {
    /// The one copy of `text`, made on its first call.
    pub(crate) fn get(&self, text: &str) -> Arc<str> {
        let shard = self.hasher.hash_one(text) as usize % SHARDS;
        // a set a panicking thread left behind still holds whole texts
        let mut set = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(copy) = set.get(text) {
            return Arc::clone(copy);
        }
        let copy: Arc<str> = Arc::from(text);
        set.insert(Arc::clone(&copy));
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_is_one_copy_from_any_thread() {
        let shared = Shared::default();
        let a = shared.get("RUN make");
        let b = std::thread::scope(|s| s.spawn(|| shared.get("RUN make")).join().unwrap());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &shared.get("RUN make test")));
        assert_eq!(&*shared.get(""), "");
    }
}
