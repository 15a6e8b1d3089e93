//! Why a build missed the cache: the first miss of each stage in Dockerfile
//! order, the later misses that are only its cascade, and the likely cause with
//! the log lines that prove it, against a baseline build that hit.
//!
//! A pure function over [`Build`] records: nothing here reads text beyond what
//! the parser kept on the steps (instruction, arguments) and the few lines the
//! assembler keeps (headers, `ERROR:` lines, the context transfer line).
//!
//! Stage order: BuildKit prints vertices in no useful order, so stages are
//! ordered as the Dockerfile must have them: a stage with its own `FROM <image>`
//! (a `FROM` vertex, or steps that start at position 2) first, then stages built
//! on another stage, after every stage they `COPY --from`; ties by first header
//! line. Inside a stage, steps go by position `i` of `[stage i/n]`.
//!
//! Cascade: the later misses of a stage follow its first miss; a stage whose
//! first miss is a `COPY --from=<stage>` of a stage that missed, or a stage built
//! `FROM` another stage whose first instruction missed while a stage with its
//! own base missed, belongs to that miss's cascade.
//!
//! Causes: rules, one per file in `causes/`, each a `check(&Context) -> Option<Cause>`
//! over a `context::Context` (the build, its baseline and peers, its stages,
//! the first miss and its cascade), tried in the order of the one list
//! `causes::RULES`, whose doc says why that order:
//!
//! 1. build rules, tried once on the first miss; the first that holds is the
//!    only cause, with every other miss its cascade: `cache-import-failed`,
//!    `cache-export-failed`, `cache-import-no-hit`, `inline-cache-gap`,
//!    `no-cache-flag`, `no-cache-source`;
//! 2. else step rules, for each first miss and its cascade: `step-failed`,
//!    `base-image-changed`, `instruction-changed`, `dependencies-changed`,
//!    `source-changed`, and `unknown`, which always holds.
//!
//! What to do about a cause is its kind's [`CauseKind::fix`]. The baseline and
//! the peers are chosen in `baseline.rs` ([`choose`], indexed by lineage in `lineage.rs`).

mod baseline;
mod causes;
mod context;
mod diagnosis;
mod evidence;
mod instructions;
mod kind;
mod lineage;
mod stages;

pub use baseline::{Choice, Peers, Selection, choose, project_of};
pub use diagnosis::{BaselineRef, Cause, DiagnoseError, Diagnosis, Evidence, StepRef};
pub use kind::CauseKind;
pub use stages::first_miss;

use causes::{Scope, first_cause};
use context::Context;
use stages::groups;

use crate::model::{Build, ParsedLog, Status};

/// Diagnoses `target` against `baseline` (an earlier build that hit, if any).
pub fn diagnose(
    target: &Build,
    baseline: Option<&Build>,
    peers: Peers,
) -> Result<Diagnosis, DiagnoseError> {
    let cacheable = target.cacheable().count();
    if cacheable == 0 {
        return Err(DiagnoseError::NoCacheableStep {
            log: target.source.clone(),
            number: target.index + 1,
        });
    }
    let cached = target
        .cacheable()
        .filter(|s| s.status == Status::Cached)
        .count();
    let (groups, stages) = groups(target);
    let whole = Context::for_build(target, baseline, peers, &stages, &groups);
    let causes = match whole.and_then(|ctx| first_cause(Scope::Build, &ctx)) {
        Some(cause) => vec![cause],
        None => groups
            .iter()
            .map(|g| Context::for_group(target, baseline, peers, &stages, g))
            .filter_map(|ctx| first_cause(Scope::Step, &ctx))
            .collect(),
    };
    Ok(Diagnosis {
        source: target.source.clone(),
        index: target.index,
        build_id: target.build_id.clone(),
        hit_rate: target.hit_rate,
        cacheable,
        cached,
        baseline: baseline.map(|b| BaselineRef {
            source: b.source.clone(),
            index: b.index,
            hit_rate: b.hit_rate,
        }),
        causes,
    })
}

/// Diagnoses the builds of `logs` that `selection` names, each against the
/// baseline [`choose`] finds for it (or the one given), in the order of
/// [`choose`].
pub fn diagnose_logs(
    logs: &[ParsedLog],
    selection: &Selection<'_>,
) -> Vec<Result<Diagnosis, DiagnoseError>> {
    choose(logs, selection)
        .into_iter()
        .map(|c| diagnose(c.target, c.baseline, c.peers))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::instructions::is_manifest_copy;
    use super::*;
    use crate::parse::parse_log;

    const H0: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    const H1: &str = "1111111111111111111111111111111111111111111111111111111111111111";

    fn build(source: &str, text: &str) -> Build {
        parse_log(text.as_bytes(), source).builds.remove(0)
    }

    fn node(from: &str, install: &str, s: [&str; 3], import: Option<&str>) -> String {
        let import = import.map_or_else(String::new, |e| {
            format!("#9 importing cache manifest from reg/app:cache\n#9 {e}\n\n")
        });
        format!(
            "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n\n{import}\
             #2 [1/4] FROM {from}\n#2 DONE 0.1s\n\n\
             #3 [internal] load build context\n#3 transferring context: 217B done\n#3 DONE 0.0s\n\n\
             #4 [2/4] COPY package.json ./\n#4 {}\n\n#5 [3/4] RUN {install}\n#5 {}\n\n\
             #6 [4/4] COPY . .\n#6 {}\n",
            s[0], s[1], s[2]
        )
    }

    const HIT: [&str; 3] = ["CACHED", "CACHED", "CACHED"];
    const MISS: [&str; 3] = ["DONE 0.1s", "DONE 3.0s", "DONE 0.1s"];

    fn one(target: &Build, baseline: &Build) -> Cause {
        let d = diagnose(target, Some(baseline), Peers::of([baseline])).unwrap();
        assert_eq!(d.causes.len(), 1, "{d:#?}");
        d.causes.into_iter().next().unwrap()
    }

    #[test]
    fn base_image_digest_change() {
        let old = build(
            "a",
            &node(&format!("node:20@sha256:{H0}"), "npm ci", HIT, None),
        );
        let new = build(
            "b",
            &node(
                &format!("node:20@sha256:{H1}"),
                "npm ci",
                ["DONE 0.1s", "DONE 3.0s", "DONE 0.1s"],
                None,
            ),
        );
        let c = one(&new, &old);
        // the context transfer did not grow, and the FROM's DONE is no evidence: the digest is
        assert_eq!(c.cause, CauseKind::BaseImageChanged, "{c:#?}");
        assert_eq!(c.step.as_ref().unwrap().name, "[2/4] COPY package.json ./");
        assert_eq!(c.cascade.len(), 2);
        assert!(
            c.evidence
                .iter()
                .any(|e| e.source == "a" && e.text.contains(H0))
        );
    }

    #[test]
    fn changed_run_text_is_an_instruction_change() {
        let old = build("a", &node("node:20", "npm ci", HIT, None));
        let new = build(
            "b",
            &node(
                "node:20",
                "npm ci --omit=dev",
                ["CACHED", "DONE 3.0s", "DONE 0.1s"],
                None,
            ),
        );
        let c = one(&new, &old);
        assert_eq!(c.cause, CauseKind::InstructionChanged);
        assert_eq!(c.step.as_ref().unwrap().name, "[3/4] RUN npm ci --omit=dev");
        assert_eq!(c.cascade.len(), 1);
        assert_eq!(
            c.evidence[1].text, "#5 [3/4] RUN npm ci",
            "the baseline's text"
        );
    }

    #[test]
    fn import_failures_are_told_apart() {
        let old = build("a", &node("node:20", "npm ci", HIT, Some("DONE 0.2s")));
        for (error, reason) in [
            (
                "ERROR: unexpected status code 401 Unauthorized",
                "unauthorized",
            ),
            (
                "ERROR: pull access denied, repository does not exist",
                "denied",
            ),
            (
                "ERROR: dial tcp 10.0.0.1:443: connect: connection refused",
                "unreachable",
            ),
            ("ERROR: reg/app:cache: not found", "not found"),
        ] {
            let new = build("b", &node("node:20", "npm ci", MISS, Some(error)));
            let c = one(&new, &old);
            assert_eq!(c.cause, CauseKind::CacheImportFailed);
            assert!(c.summary.contains(reason), "{error}: {}", c.summary);
            assert_eq!(c.cascade.len(), 2, "one cause for the whole build");
            assert!(
                c.evidence
                    .iter()
                    .any(|e| e.line == 5 && e.text == format!("#9 {error}"))
            );
        }
    }

    #[test]
    fn a_failed_export_in_the_baseline() {
        let mut old = build("a", &node("node:20", "npm ci", MISS, None));
        old.cache.exports.push(crate::model::CacheExport {
            name: "exporting cache".into(),
            seconds: None,
            ok: false,
            error: Some("failed to push: denied".into()),
            vertex: 7,
        });
        let new = build("b", &node("node:20", "npm ci", MISS, Some("DONE 0.2s")));
        let c = one(&new, &old);
        assert_eq!(c.cause, CauseKind::CacheExportFailed);
        assert!(c.summary.contains("denied"));
    }

    #[test]
    fn nothing_missed_and_nothing_cacheable() {
        let warm = build("a", &node("node:20", "npm ci", HIT, None));
        let d = diagnose(&warm, None, Peers::default()).unwrap();
        assert!(d.causes.is_empty());
        assert_eq!((d.cached, d.cacheable), (3, 3));
        let empty = build("c", "#1 [1/1] FROM x\n#1 DONE 0.0s\n");
        assert!(matches!(
            diagnose(&empty, None, Peers::default()),
            Err(DiagnoseError::NoCacheableStep { .. })
        ));
    }

    #[test]
    fn manifests_and_stage_order() {
        let b = build(
            "m",
            "#1 [final 2/2] COPY --from=builder /out /out\n#1 DONE 0.1s\n\n\
             #2 [builder 2/3] COPY go.mod go.sum ./\n#2 DONE 0.1s\n\n\
             #3 [builder 1/3] FROM golang:1\n#3 DONE 0.0s\n\n\
             #4 [builder 3/3] RUN go build\n#4 DONE 9.0s\n\n\
             #5 [final 1/2] WORKDIR /app\n#5 CACHED\n",
        );
        let (groups, stages) = groups(&b);
        assert_eq!(
            stages[0].name,
            Some("builder"),
            "a stage before the stages that copy from it"
        );
        assert_eq!(
            groups.len(),
            1,
            "the final stage's miss is the builder's cascade"
        );
        assert_eq!(groups[0].root.vertex, 2);
        assert!(is_manifest_copy(groups[0].root));
        assert_eq!(groups[0].cascade.len(), 2);
    }
}
