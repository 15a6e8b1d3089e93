//! The stages of a build in Dockerfile order and its first misses with their
//! cascades (the order and the grouping the module doc of `diagnose` states).

use std::collections::BTreeMap;

use super::instructions::copy_from;
use crate::model::{Build, Kind, Status, Step};

/// A stage of the build as the log shows it.
pub struct Stage<'a> {
    /// Its name, when printed.
    pub name: Option<&'a str>,
    /// Its cacheable steps by position.
    pub steps: Vec<&'a Step>,
    /// Whether it has its own base image (a `FROM` vertex, or steps from position 2).
    own_base: bool,
    /// The line of its first header.
    first_line: u64,
    /// 0 for a stage with its own base; else 1 + the highest rank of the stages it copies from.
    rank: u32,
}

/// A first miss and the misses that follow from it.
pub struct Group<'a> {
    /// The first miss.
    pub root: &'a Step,
    /// The later misses it explains.
    pub cascade: Vec<&'a Step>,
}

/// Whether a step missed: cacheable, and executed (or failed).
pub fn is_miss(step: &Step) -> bool {
    step.cacheable && matches!(step.status, Status::Done | Status::Error)
}

/// Stages in Dockerfile order (see the module doc).
pub fn stages(build: &Build) -> Vec<Stage<'_>> {
    let mut by_name: BTreeMap<Option<&str>, Stage<'_>> = BTreeMap::new();
    for s in &build.steps {
        if !matches!(s.kind, Kind::Instruction | Kind::From) {
            continue;
        }
        let stage = by_name.entry(s.stage.as_deref()).or_insert(Stage {
            name: s.stage.as_deref(),
            steps: Vec::new(),
            own_base: false,
            first_line: s.line,
            rank: 0,
        });
        stage.first_line = stage.first_line.min(s.line);
        if s.kind == Kind::From {
            stage.own_base = true;
        } else {
            stage.steps.push(s);
        }
    }
    for stage in by_name.values_mut() {
        stage
            .steps
            .sort_by_key(|s| (s.position.map_or(u32::MAX, |p| p[0]), s.line));
        let lowest = stage.steps.first().and_then(|s| s.position).map(|p| p[0]);
        if lowest.is_some_and(|p| p >= 2) {
            stage.own_base = true;
        }
    }
    let rank = ranks(&by_name);
    let mut out: Vec<Stage<'_>> = by_name
        .into_iter()
        .map(|(k, mut st)| {
            st.rank = rank.get(&k).copied().unwrap_or(0);
            st
        })
        .filter(|st| !st.steps.is_empty())
        .collect();
    out.sort_by_key(|st| (st.rank, st.first_line));
    out
}

/// The rank of every stage: 0 for own base; else 1 + the highest rank of the
/// stages it copies from (bounded, so a cycle ends).
fn ranks<'a>(by_name: &BTreeMap<Option<&'a str>, Stage<'a>>) -> BTreeMap<Option<&'a str>, u32> {
    let deps: BTreeMap<Option<&str>, Vec<String>> = by_name
        .iter()
        .map(|(k, st)| (*k, st.steps.iter().filter_map(|s| copy_from(s)).collect()))
        .collect();
    let names: Vec<Option<&str>> = by_name.keys().copied().collect();
    let mut rank: BTreeMap<Option<&str>, u32> = BTreeMap::new();
    for _ in 0..=names.len() {
        for k in &names {
            let st = &by_name[k];
            let r = if st.own_base {
                0
            } else {
                1 + deps[k]
                    .iter()
                    .filter_map(|d| rank.get(&Some(d.as_str())))
                    .copied()
                    .max()
                    .unwrap_or(0)
            };
            rank.insert(*k, r.min(names.len() as u32 + 1));
        }
    }
    rank
}

/// First misses per stage in Dockerfile order, with their cascades grouped.
pub fn groups(build: &Build) -> (Vec<Group<'_>>, Vec<Stage<'_>>) {
    let stages = stages(build);
    let mut groups: Vec<Group<'_>> = Vec::new();
    // stage name → index of the group its misses went to
    let mut owner: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for stage in &stages {
        let misses: Vec<&Step> = stage.steps.iter().copied().filter(|s| is_miss(s)).collect();
        let Some((&first, rest)) = misses.split_first() else {
            continue;
        };
        let from_stage = copy_from(first).and_then(|f| owner.get(&Some(f.as_str())).copied());
        let from_parent = (!stage.own_base && first.position.is_some_and(|p| p[0] == 1))
            .then(|| {
                stages
                    .iter()
                    .filter(|s| s.own_base && s.rank == 0)
                    .find_map(|s| owner.get(&s.name).copied())
            })
            .flatten();
        match from_stage.or(from_parent) {
            Some(g) => {
                groups[g].cascade.extend(misses.iter().copied());
                owner.insert(stage.name, g);
            }
            None => {
                owner.insert(stage.name, groups.len());
                groups.push(Group {
                    root: first,
                    cascade: rest.to_vec(),
                });
            }
        }
    }
    (groups, stages)
}

/// The first miss in Dockerfile order, for choosing a baseline.
pub fn first_miss(build: &Build) -> Option<&Step> {
    groups(build).0.first().map(|g| g.root)
}
