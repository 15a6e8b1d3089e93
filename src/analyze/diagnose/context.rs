//! What a rule sees: the build, its baseline and peers, its stages, the first
//! miss to explain and the misses that follow from it.

use super::baseline::Peers;
use super::diagnosis::{Cause, Evidence, StepRef};
use super::instructions::{base_of, image_digest, is_context_copy};
use super::kind::CauseKind;
use super::stages::{Group, Stage};
use crate::analyze::key::step_key;
use crate::model::{Build, CacheImport, Status, Step};

/// The facts one rule checks.
pub struct Context<'a> {
    /// The build diagnosed.
    pub target: &'a Build,
    /// The build it is compared against, if any.
    pub baseline: Option<&'a Build>,
    /// Facts from the other builds of its project.
    pub peers: Peers,
    /// Its stages in Dockerfile order.
    pub stages: &'a [Stage<'a>],
    /// The first miss to explain.
    pub root: &'a Step,
    /// The misses a cause of `root` also explains.
    pub cascade: Vec<&'a Step>,
    /// The baseline's step with `root`'s key.
    pub before: Option<&'a Step>,
}

impl<'a> Context<'a> {
    /// For a cause of every miss at once: the first group's root, every other miss its cascade.
    pub fn for_build(
        target: &'a Build,
        baseline: Option<&'a Build>,
        peers: Peers,
        stages: &'a [Stage<'a>],
        groups: &[Group<'a>],
    ) -> Option<Self> {
        let root = groups.first()?.root;
        let cascade = groups
            .iter()
            .flat_map(|g| std::iter::once(g.root).chain(g.cascade.iter().copied()))
            .filter(|s| !std::ptr::eq(*s, root))
            .collect();
        Some(Context::new(target, baseline, peers, stages, root, cascade))
    }

    /// For the cause of one first miss and its cascade.
    pub fn for_group(
        target: &'a Build,
        baseline: Option<&'a Build>,
        peers: Peers,
        stages: &'a [Stage<'a>],
        group: &Group<'a>,
    ) -> Self {
        let cascade = group.cascade.clone();
        Context::new(target, baseline, peers, stages, group.root, cascade)
    }

    fn new(
        target: &'a Build,
        baseline: Option<&'a Build>,
        peers: Peers,
        stages: &'a [Stage<'a>],
        root: &'a Step,
        cascade: Vec<&'a Step>,
    ) -> Self {
        Context {
            target,
            baseline,
            peers,
            stages,
            root,
            cascade,
            before: baseline.and_then(|b| same_step(b, root)),
        }
    }

    /// A cause of `kind` for `root` and its cascade, with the kind's fix.
    pub fn cause(&self, kind: CauseKind, summary: String, evidence: Vec<Evidence>) -> Cause {
        Cause {
            cause: kind,
            step: Some(StepRef::of(self.root)),
            cascade: self.cascade.iter().map(|s| StepRef::of(s)).collect(),
            summary,
            evidence,
            fix: kind.fix().to_owned(),
        }
    }

    /// The target's cache imports.
    pub fn imports(&self) -> &'a [CacheImport] {
        &self.target.cache.imports
    }

    /// The target's cacheable steps that were `CACHED`.
    pub fn cached(&self) -> Vec<&'a Step> {
        self.target
            .cacheable()
            .filter(|s| s.status == Status::Cached)
            .collect()
    }

    /// Whether the build context changed: `Some(true)` when more was sent than an
    /// unchanged context sends, `None` when either size is unknown.
    pub fn context_changed(&self) -> Option<bool> {
        let sent = self.target.context.as_ref()?.bytes?;
        let floor = self.peers.unchanged_context_bytes?;
        Some(sent > floor)
    }

    /// Whether `root` copies files from the context and the context grew.
    pub fn root_copies_a_changed_context(&self) -> bool {
        is_context_copy(self.root) && self.context_changed() == Some(true)
    }

    /// The `FROM` of `root`'s stage now and in the baseline, when their digests differ.
    pub fn base_changed(&self) -> Option<(&'a Step, &'a Step)> {
        let baseline = self.baseline?;
        let now = base_of(self.target, self.root.stage.as_deref())?;
        let then = same_step(baseline, now)?;
        let (d1, d0) = (image_digest(now)?, image_digest(then)?);
        (d1 != d0).then_some((now, then))
    }

    /// Whether `root`'s own stage explains its misses better than a cause of the
    /// whole build: the step failed, or its base image changed.
    pub fn stage_explains_root(&self) -> bool {
        self.root.status == Status::Error || self.base_changed().is_some()
    }
}

/// The step of `build` with the same key as `step`.
pub fn same_step<'a>(build: &'a Build, step: &Step) -> Option<&'a Step> {
    let key = step_key(step)?;
    build
        .steps
        .iter()
        .find(|s| step_key(s).as_ref() == Some(&key))
}
