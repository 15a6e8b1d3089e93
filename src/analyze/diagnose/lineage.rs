//! The baseline of every build at once: the earlier builds of each lineage
//! (project, and branch where known) indexed so that the rule of
//! [`choose`](super::choose) is answered in `O(log n)` per build, not by
//! walking back through every earlier build (quadratic over a report's
//! 100,000 builds).
//!
//! The rule: the most recent earlier build of the target's lineage in which
//! the target's first miss was `CACHED`, or that had a higher hit rate. Both
//! halves are a "last position before the target" query: the first over the
//! positions where each step key was cached, the second over a max-tree of hit
//! rates.

use std::collections::HashMap;

use rayon::prelude::*;

use super::baseline::{Candidate, Project};
use super::stages::first_miss;
use crate::analyze::key::step_key;
use crate::model::Status;

/// Builds whose cached keys are made at once ([`LineageIndex::new`]).
const KEY_BATCH: usize = 4096;

/// A lineage's builds, indexed.
#[derive(Debug)]
struct Group {
    /// Their positions among the candidates, ascending (`u32`: a report of
    /// 100,000 builds indexes each twice, and each cached key of each).
    positions: Vec<u32>,
    /// Their hit rates, by the same index.
    rates: MaxTree,
    /// For each step key (by its number), the positions where it was cached.
    cached: HashMap<u32, Vec<u32>>,
}

impl Group {
    /// The last position before `before` where `key` was cached, or whose hit
    /// rate is above `rate`.
    fn last(&self, before: usize, key: Option<u32>, rate: f64) -> Option<usize> {
        let before = u32::try_from(before).unwrap_or(u32::MAX);
        let end = self.positions.partition_point(|&p| p < before);
        let by_rate = self.rates.last_above(end, rate).map(|i| self.positions[i]);
        let by_key = key.and_then(|k| self.cached.get(&k)).and_then(|list| {
            list[..list.partition_point(|&p| p < before)]
                .last()
                .copied()
        });
        by_rate.max(by_key).map(|p| p as usize)
    }
}

/// A lineage's key: its project and its branch (`None`: every branch).
type GroupKey<'a> = (Project<'a>, Option<Option<&'a str>>);

/// Every lineage of the candidates, each indexed.
#[derive(Debug)]
pub(super) struct LineageIndex<'a> {
    groups: HashMap<GroupKey<'a>, Group>,
    keys: HashMap<String, u32>,
}

impl<'a> LineageIndex<'a> {
    /// Indexes the candidates (in their order).
    pub(super) fn new(builds: &[Candidate<'a>]) -> Self {
        let mut keys: HashMap<String, u32> = HashMap::new();
        // positions, hit rates and cached keys of each group, before its tree
        type Building = (Vec<u32>, Vec<f64>, HashMap<u32, Vec<u32>>);
        let mut groups: HashMap<GroupKey<'a>, Building> = HashMap::new();
        // the cached steps' keys (their text is most of the work) made in
        // parallel, a batch of builds at a time, and numbered in order: the
        // same numbers on any number of threads
        let cached_keys = |batch: &[Candidate<'a>]| -> Vec<Vec<String>> {
            batch
                .par_iter()
                .map(|c| {
                    c.build
                        .steps
                        .iter()
                        .filter(|s| s.status == Status::Cached)
                        .filter_map(step_key)
                        .collect()
                })
                .collect()
        };
        let keyed = builds
            .chunks(KEY_BATCH)
            .flat_map(|batch| batch.iter().zip(cached_keys(batch)));
        for (at, (c, texts)) in (0u32..).zip(keyed) {
            let mut cached: Vec<u32> = texts
                .into_iter()
                .map(|k| {
                    let next = keys.len() as u32;
                    *keys.entry(k).or_insert(next)
                })
                .collect();
            cached.sort_unstable();
            cached.dedup();
            let rate = c.build.hit_rate.unwrap_or(f64::NEG_INFINITY);
            // in its branch's group, and in its project's group of every branch
            for branch in [Some(c.branch), None] {
                let (positions, rates, by_key) = groups.entry((c.project, branch)).or_default();
                positions.push(at);
                rates.push(rate);
                for &k in &cached {
                    by_key.entry(k).or_default().push(at);
                }
            }
        }
        let groups = groups
            .into_iter()
            .map(|(k, (positions, rates, cached))| {
                let rates = MaxTree::new(&rates);
                (
                    k,
                    Group {
                        positions,
                        rates,
                        cached,
                    },
                )
            })
            .collect();
        LineageIndex { groups, keys }
    }

    /// The baseline of the candidate at `at`: the most recent earlier build of
    /// its lineage (same project; same branch, or either branch unknown) in
    /// which its first miss was `CACHED`, or that had a higher hit rate.
    pub(super) fn baseline(&self, at: usize, target: &Candidate<'a>) -> Option<usize> {
        let key = first_miss(target.build).and_then(step_key);
        let rate = target.build.hit_rate.unwrap_or(0.0);
        if key.is_none() && rate >= 1.0 {
            // nothing missed and no build can hit more: no need to look (a
            // report diagnoses every build, most of them warm)
            return None;
        }
        let key = key.and_then(|k| self.keys.get(&k).copied());
        // a known branch: that branch's builds and those of no known branch;
        // none: every build of the project
        let lineage: &[Option<Option<&str>>] = match target.branch {
            Some(_) => &[Some(target.branch), Some(None)],
            None => &[None],
        };
        lineage
            .iter()
            .filter_map(|b| self.groups.get(&(target.project, *b)))
            .filter_map(|group| group.last(at, key, rate))
            .max()
    }
}

/// A max-tree over values, for "the last index before `end` whose value is
/// above `x`".
#[derive(Debug)]
struct MaxTree {
    /// Leaves from `size`; node `i`'s children are `2i` and `2i + 1`.
    nodes: Vec<f64>,
    size: usize,
}

impl MaxTree {
    fn new(values: &[f64]) -> Self {
        let size = values.len().next_power_of_two();
        let mut nodes = vec![f64::NEG_INFINITY; 2 * size];
        nodes[size..size + values.len()].copy_from_slice(values);
        for i in (1..size).rev() {
            nodes[i] = nodes[2 * i].max(nodes[2 * i + 1]);
        }
        MaxTree { nodes, size }
    }

    /// The last index below `end` whose value is above `x`.
    fn last_above(&self, end: usize, x: f64) -> Option<usize> {
        self.descend(1, 0, self.size, end, x)
    }

    fn descend(&self, node: usize, lo: usize, hi: usize, end: usize, x: f64) -> Option<usize> {
        if lo >= end || self.nodes[node] <= x {
            return None;
        }
        if hi - lo == 1 {
            return Some(lo);
        }
        let mid = lo + (hi - lo) / 2;
        self.descend(2 * node + 1, mid, hi, end, x)
            .or_else(|| self.descend(2 * node, lo, mid, end, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_tree_finds_what_a_backward_scan_finds(
            values in prop::collection::vec(prop::sample::select(vec![f64::NEG_INFINITY, 0.0, 0.25, 0.5, 1.0]), 0..40),
            end in 0usize..45,
            x in prop::sample::select(vec![f64::NEG_INFINITY, 0.0, 0.25, 0.5, 0.99, 1.0]),
        ) {
            let tree = MaxTree::new(&values);
            let scan = values[..end.min(values.len())].iter().rposition(|&v| v > x);
            prop_assert_eq!(tree.last_above(end, x), scan);
        }
    }
}
