//! Which builds a diagnosis compares against: the baseline (an earlier build of
//! the same project and branch that hit) and the peers (every other build of
//! that project, for what an unchanged context sends). Builds of no known
//! project (plain files) are compared within the builds of the same Dockerfile.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::lineage::LineageIndex;
use crate::analyze::key::step_key;
use crate::model::{Build, BuildId, ParsedLog};

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

/// What a build is compared within: its CodeBuild project, or, for a build of
/// no known project (a plain file), the Dockerfile it seems to come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Project<'a> {
    Named(&'a str),
    /// The builds of no known project, grouped by [`Dockerfiles`].
    Dockerfile(usize),
}

/// Groups the builds of no known project by Dockerfile, in input order: a build
/// joins the latest group whose last build shares at least half of the
/// Dockerfile steps (by [`step_key`]) of the larger of the two, else starts
/// one. One changed instruction keeps a build in its group; another
/// Dockerfile, sharing a `WORKDIR` or two, does not.
#[derive(Debug, Default)]
struct Dockerfiles {
    /// The step keys of each group's last build.
    last: Vec<HashSet<String>>,
}

impl Dockerfiles {
    fn group(&mut self, build: &Build) -> usize {
        let keys: HashSet<String> = build.steps.iter().filter_map(step_key).collect();
        let same = |other: &HashSet<String>| {
            2 * keys.intersection(other).count() >= keys.len().max(other.len())
        };
        match self.last.iter().rposition(same) {
            Some(g) => {
                self.last[g] = keys;
                g
            }
            None => {
                self.last.push(keys);
                self.last.len() - 1
            }
        }
    }
}

/// A build with the project and branch it is compared within.
pub(super) struct Candidate<'a> {
    pub(super) build: &'a Build,
    pub(super) project: Project<'a>,
    pub(super) branch: Option<&'a str>,
}

/// Every build in input order (in time order when every log has a start time:
/// CloudWatch streams), with its project and branch where known.
fn candidates<L: Borrow<ParsedLog>>(logs: &[L]) -> Vec<Candidate<'_>> {
    let started = |l: &ParsedLog| {
        l.origin
            .metadata
            .as_ref()
            .and_then(|m| m.start_time)
            .or(l.origin.first_event_ms)
    };
    let mut ordered: Vec<&ParsedLog> = logs.iter().map(Borrow::borrow).collect();
    if ordered.iter().all(|l| started(l).is_some()) {
        ordered.sort_by_key(|l| started(l));
    }
    let mut dockerfiles = Dockerfiles::default();
    let mut out = Vec::new();
    for l in ordered {
        let branch = l
            .origin
            .metadata
            .as_ref()
            .and_then(|m| m.source_version.as_deref());
        for b in &l.builds {
            let project = match project_of(b) {
                Some(name) => Project::Named(name),
                None => Project::Dockerfile(dockerfiles.group(b)),
            };
            out.push(Candidate {
                build: b,
                project,
                branch,
            });
        }
    }
    out
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
    by_branch: HashMap<(Project<'a>, Option<&'a str>), TwoSmallest>,
    any_branch: HashMap<Project<'a>, TwoSmallest>,
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
/// given one, or the baseline rule among the earlier builds of its project and
/// branch) and its peers (the other builds of its project and branch).
pub fn choose<'a, L: Borrow<ParsedLog>>(
    logs: &'a [L],
    selection: &Selection<'a>,
) -> Vec<Choice<'a>> {
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
    // the lineages only when no baseline is given
    let (lineages, peers) = rayon::join(
        || {
            selection
                .baseline
                .is_none()
                .then(|| LineageIndex::new(&builds))
        },
        || PeerIndex::new(&builds),
    );
    let given = Peers::of(selection.baseline).unchanged_context_bytes;
    targets
        .into_par_iter()
        .map(|t| {
            let target = &builds[t];
            Choice {
                target: target.build,
                baseline: selection.baseline.or_else(|| {
                    let at = lineages.as_ref()?.baseline(t, target)?;
                    Some(builds[at].build)
                }),
                peers: Peers {
                    unchanged_context_bytes: peers.of(t, target).into_iter().chain(given).min(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::stages::first_miss;
    use super::*;
    use crate::model::{BuildMetadata, Origin, Status};
    use crate::parse::parse_log;
    use proptest::prelude::*;

    /// One build of four `RUN` steps; `cached` says which hit.
    fn log(at: usize, project: &str, branch: Option<&str>, cached: [bool; 4]) -> ParsedLog {
        let mut text = String::new();
        for (v, hit) in cached.iter().enumerate() {
            let status = if *hit { "CACHED" } else { "DONE 1.0s" };
            text.push_str(&format!(
                "#{} [{}/4] RUN step {v}\n#{} {status}\n",
                v + 1,
                v + 1,
                v + 1
            ));
        }
        let mut log = parse_log(text.as_bytes(), &format!("log-{at}"));
        let id = BuildId::new(project, &format!("b{at}"));
        for b in &mut log.builds {
            b.build_id = Some(id.clone());
        }
        log.origin = Origin {
            build_id: Some(id),
            first_event_ms: Some(at as i64),
            metadata: Some(BuildMetadata {
                source_version: branch.map(str::to_owned),
                start_time: Some(at as i64),
                ..BuildMetadata::default()
            }),
        };
        log
    }

    /// The rule, walked back build by build (what the index must agree with).
    fn walked<'a>(builds: &[Candidate<'a>], t: usize) -> Option<&'a Build> {
        let target = &builds[t];
        let key = first_miss(target.build).and_then(step_key);
        let rate = target.build.hit_rate.unwrap_or(0.0);
        if key.is_none() && rate >= 1.0 {
            return None;
        }
        builds[..t]
            .iter()
            .rev()
            // same project, and the same branch where both are known
            .filter(|b| {
                b.project == target.project
                    && (target.branch.is_none() || b.branch.is_none() || b.branch == target.branch)
            })
            .map(|b| b.build)
            .find(|b| {
                let hit = key.as_ref().is_some_and(|k| {
                    b.steps
                        .iter()
                        .any(|s| s.status == Status::Cached && step_key(s).as_ref() == Some(k))
                });
                hit || b.hit_rate.is_some_and(|r| r > rate)
            })
    }

    proptest! {
        #[test]
        fn the_index_picks_the_baseline_a_walk_back_picks(
            runs in prop::collection::vec(
                (0usize..2, prop::option::of(0usize..3), prop::array::uniform4(any::<bool>())),
                1..40,
            ),
        ) {
            let logs: Vec<ParsedLog> = runs
                .iter()
                .enumerate()
                .map(|(at, (p, b, cached))| {
                    let branch = b.map(|b| ["main", "dev", "fix"][b]);
                    log(at, ["api", "web"][*p], branch, *cached)
                })
                .collect();
            let choices = choose(&logs, &Selection { all: true, ..Selection::default() });
            let builds = candidates(&logs);
            prop_assert_eq!(choices.len(), builds.len());
            for (t, choice) in choices.iter().enumerate() {
                let expected = walked(&builds, t).map(|b| (&b.source, b.index));
                let got = choice.baseline.map(|b| (&b.source, b.index));
                prop_assert_eq!(got, expected, "build {}", t);
            }
        }
    }
}
