//! What to fix first: every build of the window that missed is diagnosed
//! (the [`diagnose`](super::diagnose) rules, against a baseline among the
//! earlier builds of its project and branch), and its causes are added up per
//! project and cause by the minutes their missed steps spent executing (the
//! first miss and its cascade), with the build that lost the most as the
//! example: its first missed step, the first line of evidence and the fix.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use super::columns::table;
use super::diagnose::{Cause, CauseKind, Choice, Selection, choose, diagnose};
use super::rows::add_up;
use crate::model::{Build, ParsedLog, Status};

table! {
    /// One row of the `miss_causes` table: a cause of misses in one project.
    pub struct MissCause, columns MissCauseColumns = MISS_CAUSE {
        /// The CodeBuild project (`-` when unknown).
        project: String,
        /// The cause (`cache-import-failed`, `source-changed`, …).
        cause: String,
        /// 1 for the cause that lost the project the most minutes (fix it first), then 2, …
        rank: u32,
        /// Builds it made miss.
        builds: u32,
        /// Steps that missed because of it (first misses and their cascades).
        steps: u32,
        /// Minutes those steps spent executing.
        minutes_lost: f64,
        /// The build that lost the most to it: its build id, else its source and number.
        example_build: String,
        /// That build's first missed step.
        example_step: Option<String>,
        /// What happened there, in one sentence.
        summary: String,
        /// The first log line that shows it: `source:line text`.
        evidence: Option<String>,
        /// What to do.
        fix: String,
    }
}

/// One cause of one build, with what it cost: the diagnosis's `nth` cause
/// of the `choice`-th build diagnosed. The causes' texts are not kept (a
/// report of 100,000 runs diagnoses 60,000 builds); the examples' are made
/// again at the end.
struct Found<'a> {
    project: &'a str,
    cause: CauseKind,
    choice: usize,
    nth: usize,
    steps: u32,
    seconds: f64,
}

/// The executed seconds of the steps a cause made miss (its first miss and cascade).
fn lost(build: &Build, cause: &Cause) -> (u32, f64) {
    let vertices: HashSet<u32> = cause
        .step
        .iter()
        .chain(&cause.cascade)
        .map(|s| s.vertex)
        .collect();
    let seconds = add_up(
        build
            .steps
            .iter()
            .filter(|s| vertices.contains(&s.vertex) && s.status == Status::Done)
            .filter_map(|s| s.seconds),
    );
    (vertices.len() as u32, seconds)
}

fn example_name(build: &Build) -> String {
    build.build_id.as_ref().map_or_else(
        || format!("{} build {}", build.source, build.index + 1),
        ToString::to_string,
    )
}

/// The causes of the misses of the builds of `logs` read from `in_window`
/// sources, per project and cause, each project's first (most minutes) first,
/// then by minutes lost.
pub(crate) fn miss_causes<L: Borrow<ParsedLog>>(
    logs: &[L],
    in_window: &HashSet<&str>,
) -> Vec<MissCause> {
    let projects: HashMap<&str, &str> = logs
        .iter()
        .map(Borrow::borrow)
        .map(|l: &ParsedLog| (l.source.as_str(), l.origin.project().unwrap_or("-")))
        .collect();
    let choices: Vec<_> = choose(
        logs,
        &Selection {
            all: true,
            ..Selection::default()
        },
    )
    .into_iter()
    .filter(|c| in_window.contains(c.target.source.as_str()))
    .collect();
    let project_of = |c: &Choice<'_>| {
        projects
            .get(c.target.source.as_str())
            .copied()
            .unwrap_or("-")
    };
    let found: Vec<Found> = choices
        .par_iter()
        .enumerate()
        .flat_map_iter(|(choice, c)| {
            causes_of(c)
                .into_iter()
                .enumerate()
                .map(move |(nth, cause)| {
                    let (steps, seconds) = lost(c.target, &cause);
                    Found {
                        project: project_of(c),
                        cause: cause.cause,
                        choice,
                        nth,
                        steps,
                        seconds,
                    }
                })
        })
        .collect();
    aggregate(found, &choices)
}

/// The causes a diagnosis of `choice` finds.
fn causes_of(choice: &Choice<'_>) -> Vec<Cause> {
    diagnose(choice.target, choice.baseline, choice.peers)
        .map(|d| d.causes)
        .unwrap_or_default()
}

/// Adds up the causes per project and cause; the example is the build that
/// lost the most (the first of equals, in input order).
fn aggregate(found: Vec<Found<'_>>, choices: &[Choice<'_>]) -> Vec<MissCause> {
    let mut groups: BTreeMap<(&str, &'static str), (u32, u32, f64, Found)> = BTreeMap::new();
    for f in found {
        let key = (f.project, f.cause.as_str());
        match groups.get_mut(&key) {
            Some((builds, steps, seconds, example)) => {
                *builds += 1;
                *steps += f.steps;
                *seconds += f.seconds;
                if f.seconds > example.seconds {
                    *example = f;
                }
            }
            None => {
                groups.insert(key, (1, f.steps, f.seconds, f));
            }
        }
    }
    let mut rows: Vec<MissCause> = groups
        .into_iter()
        .map(|((project, cause), (builds, steps, seconds, example))| {
            let choice = &choices[example.choice];
            // the same diagnosis again: the same causes
            let (step, summary, evidence, fix) = causes_of(choice)
                .into_iter()
                .nth(example.nth)
                .map(|c| {
                    let evidence = c
                        .evidence
                        .first()
                        .map(|e| format!("{}:{} {}", e.source, e.line, e.text));
                    (c.step.map(|s| s.name), c.summary, evidence, c.fix)
                })
                .unwrap_or_default();
            MissCause {
                project: project.to_owned(),
                cause: cause.to_owned(),
                rank: 0,
                builds,
                steps,
                minutes_lost: seconds / 60.0,
                example_build: example_name(choice.target),
                example_step: step,
                summary,
                evidence,
                fix,
            }
        })
        .collect();
    // by minutes lost (most first), then project and cause, for equal minutes
    rows.sort_by(|a, b| {
        b.minutes_lost
            .total_cmp(&a.minutes_lost)
            .then_with(|| a.project.cmp(&b.project))
            .then_with(|| a.cause.cmp(&b.cause))
    });
    let mut next: HashMap<String, u32> = HashMap::new();
    for r in &mut rows {
        let n = next.entry(r.project.clone()).or_insert(0);
        *n += 1;
        r.rank = *n;
    }
    rows.sort_by_key(|r| r.rank);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BuildId, Origin};
    use crate::parse::parse_log;

    /// A build of `project` whose `[2/3] RUN install` and `[3/3] COPY . .` are
    /// `CACHED` or executed as `states` say, with or without a failed import.
    fn log(project: &str, n: usize, states: [&str; 2], import: Option<&str>) -> ParsedLog {
        let import = import.map_or_else(String::new, |e| {
            format!("#1 importing cache manifest from reg/{project}:cache\n#1 {e}\n\n")
        });
        let text = format!(
            "{import}#2 [1/3] FROM node:20\n#2 DONE 0.1s\n\n\
             #3 [internal] load build context\n#3 transferring context: 200B done\n#3 DONE 0.0s\n\n\
             #4 [2/3] RUN install\n#4 {}\n\n#5 [3/3] COPY . .\n#5 {}\n",
            states[0], states[1]
        );
        let source = format!("{project}-{n}");
        let mut log = parse_log(text.as_bytes(), &source);
        let id = BuildId::new(project, &format!("0000000{n}"));
        for b in &mut log.builds {
            b.build_id = Some(id.clone());
        }
        log.origin = Origin {
            build_id: Some(id),
            ..Origin::default()
        };
        log
    }

    #[test]
    fn causes_add_up_per_project_and_the_costliest_comes_first() {
        const HIT: [&str; 2] = ["CACHED", "CACHED"];
        let logs = vec![
            log("api", 1, HIT, None),
            // the import failed twice: 60 + 2 and 90 + 2 seconds lost
            log(
                "api",
                2,
                ["DONE 60.0s", "DONE 2.0s"],
                Some("ERROR: not found"),
            ),
            log(
                "api",
                3,
                ["DONE 90.0s", "DONE 2.0s"],
                Some("ERROR: not found"),
            ),
            // the sources changed once: 3 seconds
            log("api", 4, ["CACHED", "DONE 3.0s"], None),
            log("web", 1, HIT, None),
            log("web", 2, ["CACHED", "DONE 5.0s"], None),
        ];
        let all: HashSet<&str> = logs.iter().map(|l| l.source.as_str()).collect();
        let rows = miss_causes(&logs, &all);
        let short: Vec<(&str, &str, u32, u32, u32)> = rows
            .iter()
            .map(|r| {
                (
                    r.project.as_str(),
                    r.cause.as_str(),
                    r.rank,
                    r.builds,
                    r.steps,
                )
            })
            .collect();
        assert_eq!(
            short,
            [
                ("api", "cache-import-failed", 1, 2, 4),
                ("web", "source-changed", 1, 1, 1),
                ("api", "source-changed", 2, 1, 1),
            ]
        );
        assert!((rows[0].minutes_lost - 154.0 / 60.0).abs() < 1e-9);
        // the example is the build that lost the most, with its evidence and fix
        assert_eq!(rows[0].example_build, "api:00000003");
        assert_eq!(rows[0].example_step.as_deref(), Some("[2/3] RUN install"));
        let evidence = rows[0].evidence.as_deref().unwrap();
        assert!(evidence.starts_with("api-3:"), "{evidence}");
        assert!(
            rows[0]
                .fix
                .starts_with("point --cache-from at a tag that exists")
        );

        // only the window's builds are diagnosed (the others may be baselines)
        let only_last: HashSet<&str> = ["api-4"].into_iter().collect();
        let rows = miss_causes(&logs, &only_last);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].cause.as_str(), rows[0].builds),
            ("source-changed", 1)
        );
        let frame = MissCause::frame(&rows).unwrap();
        assert_eq!(frame.get_column_names().len(), MISS_CAUSE.all().len());
    }
}
