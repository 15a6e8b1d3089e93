//! Which builds a diagnosis compares against: the baseline (an earlier build of
//! the same project and branch that hit) and the peers (every other build of
//! that project, for what an unchanged context sends).

use std::collections::HashMap;

use super::stages::first_miss;
use crate::analyze::key::step_key;
use crate::model::{Build, BuildId, ParsedLog, Status};

/// Facts from other builds of the same project that a diagnosis uses.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Peers {
    /// The smallest context transfer seen in the other builds: what an unchanged
    /// context sends (file metadata only).
    pub unchanged_context_bytes: Option<u64>,
}

impl Peers {
    /// From the other builds of the same project. Only builds that hit the
    /// cache count: a cold build (new or pruned builder) sends the whole context.
    pub fn of<'a>(others: impl IntoIterator<Item = &'a Build>) -> Peers {
        Peers {
            unchanged_context_bytes: others
                .into_iter()
                .filter(|b| b.hit_rate.is_some_and(|r| r > 0.0))
                .filter_map(|b| b.context.as_ref()?.bytes)
                .min(),
        }
    }
}

/// Picks the baseline among `earlier` builds (newest first): the most recent one
/// in which the target's first miss was `CACHED`, or that had a higher hit rate.
pub fn pick_baseline<'a>(
    target: &Build,
    earlier: impl IntoIterator<Item = &'a Build>,
) -> Option<&'a Build> {
    let key = first_miss(target).and_then(step_key);
    let rate = target.hit_rate.unwrap_or(0.0);
    if key.is_none() && rate >= 1.0 {
        // nothing missed and no build can hit more: no need to look (a report
        // diagnoses every build, most of them warm)
        return None;
    }
    earlier.into_iter().find(|b| {
        let hit = key.as_ref().is_some_and(|k| {
            b.steps
                .iter()
                .any(|s| s.status == Status::Cached && step_key(s).as_ref() == Some(k))
        });
        hit || b.hit_rate.is_some_and(|r| r > rate)
    })
}

/// Builds grouped by project for baseline choice: CodeBuild project of the
/// build id (`project:uuid`) when known.
pub fn project_of(build: &Build) -> Option<&str> {
    build.build_id.as_ref().map(BuildId::project)
}

/// Which builds of a set of logs to diagnose, and against what.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    /// Every build (else the last one only).
    pub all: bool,
    /// Only the builds read from these sources; the others are candidates for
    /// baselines and peers. `None`: every source.
    pub only: Option<&'a [String]>,
    /// The baseline of every build, instead of one picked among earlier builds
    /// (it counts among the peers too).
    pub baseline: Option<&'a Build>,
}

/// A build to diagnose and the builds it is compared against.
#[derive(Debug, Clone, Copy)]
pub struct Choice<'a> {
    /// The build to diagnose.
    pub target: &'a Build,
    /// Its baseline, when one was given or found.
    pub baseline: Option<&'a Build>,
    /// Facts from the other builds of its project and branch.
    pub peers: Peers,
}

/// A build with the project and branch it is compared within.
struct Candidate<'a> {
    build: &'a Build,
    project: Option<&'a str>,
    branch: Option<&'a str>,
}

impl Candidate<'_> {
    /// Same project, and the same branch where both are known.
    fn same_lineage(&self, other: &Candidate<'_>) -> bool {
        other.project == self.project
            && (self.branch.is_none() || other.branch.is_none() || other.branch == self.branch)
    }
}

/// Every build in input order (in time order when every log has a start time:
/// CloudWatch streams), with its project and branch where known.
fn candidates(logs: &[ParsedLog]) -> Vec<Candidate<'_>> {
    let started = |l: &ParsedLog| {
        l.origin
            .metadata
            .as_ref()
            .and_then(|m| m.start_time)
            .or(l.origin.first_event_ms)
    };
    let mut ordered: Vec<&ParsedLog> = logs.iter().collect();
    if ordered.iter().all(|l| started(l).is_some()) {
        ordered.sort_by_key(|l| started(l));
    }
    ordered
        .into_iter()
        .flat_map(|l| {
            let branch = l
                .origin
                .metadata
                .as_ref()
                .and_then(|m| m.source_version.as_deref());
            l.builds.iter().map(move |b| Candidate {
                build: b,
                project: project_of(b),
                branch,
            })
        })
        .collect()
}

/// The two smallest context transfers among some builds, with their indexes:
/// the smallest of them but one build's is always at hand.
#[derive(Debug, Clone, Copy, Default)]
struct TwoSmallest([Option<(u64, usize)>; 2]);

impl TwoSmallest {
    fn add(&mut self, bytes: u64, at: usize) {
        let [first, second] = &mut self.0;
        if first.is_none_or(|(b, _)| bytes < b) {
            *second = *first;
            *first = Some((bytes, at));
        } else if second.is_none_or(|(b, _)| bytes < b) {
            *second = Some((bytes, at));
        }
    }

    /// The smallest, the build at `except` left out.
    fn without(&self, except: usize) -> Option<u64> {
        self.0
            .iter()
            .flatten()
            .find(|(_, at)| *at != except)
            .map(|(b, _)| *b)
    }
}

/// [`Peers`] of every build, from one pass over them: per project, the
/// smallest context of the builds that hit on each branch, on no known branch,
/// and on any.
#[derive(Debug, Default)]
struct PeerIndex<'a> {
    by_branch: HashMap<(Option<&'a str>, Option<&'a str>), TwoSmallest>,
    any_branch: HashMap<Option<&'a str>, TwoSmallest>,
}

impl<'a> PeerIndex<'a> {
    fn new(builds: &[Candidate<'a>]) -> Self {
        let mut index = PeerIndex::default();
        for (at, c) in builds.iter().enumerate() {
            if let Some(bytes) = Peers::of([c.build]).unchanged_context_bytes {
                index
                    .by_branch
                    .entry((c.project, c.branch))
                    .or_default()
                    .add(bytes, at);
                index
                    .any_branch
                    .entry(c.project)
                    .or_default()
                    .add(bytes, at);
            }
        }
        index
    }

    /// The peers of build `at`: the other builds of its lineage.
    fn of(&self, at: usize, c: &Candidate<'a>) -> Option<u64> {
        match c.branch {
            None => self.any_branch.get(&c.project)?.without(at),
            Some(_) => [c.branch, None]
                .iter()
                .filter_map(|branch| self.by_branch.get(&(c.project, *branch))?.without(at))
                .min(),
        }
    }
}

/// The builds of `logs` that `selection` names, each with its baseline (the
/// given one, or [`pick_baseline`] among the earlier builds of its project and
/// branch) and its peers (the other builds of its project and branch).
pub fn choose<'a>(logs: &'a [ParsedLog], selection: &Selection<'a>) -> Vec<Choice<'a>> {
    let builds = candidates(logs);
    let mut targets: Vec<usize> = (0..builds.len())
        .filter(|&i| {
            selection
                .only
                .is_none_or(|own| own.contains(&builds[i].build.source))
        })
        .collect();
    if !selection.all {
        targets = targets.last().copied().into_iter().collect();
    }
    // linear in the builds: a report diagnoses every build of the window
    let mut by_project: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    for (at, c) in builds.iter().enumerate() {
        by_project.entry(c.project).or_default().push(at);
    }
    let peers = PeerIndex::new(&builds);
    let given = Peers::of(selection.baseline).unchanged_context_bytes;
    targets
        .into_iter()
        .map(|t| {
            let target = &builds[t];
            let project = &by_project[&target.project];
            let before = project.partition_point(|&at| at < t);
            let earlier = project[..before]
                .iter()
                .rev()
                .map(|&at| &builds[at])
                .filter(|b| target.same_lineage(b))
                .map(|b| b.build);
            Choice {
                target: target.build,
                baseline: selection
                    .baseline
                    .or_else(|| pick_baseline(target.build, earlier)),
                peers: Peers {
                    unchanged_context_bytes: peers.of(t, target).into_iter().chain(given).min(),
                },
            }
        })
        .collect()
}
