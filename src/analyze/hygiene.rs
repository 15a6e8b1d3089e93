//! The cache repository's own health, which decides its storage bill:
//! whether a lifecycle policy exists and what it expires, the bytes only
//! untagged manifests hold (a `mode=max` export rewrites one tag, so the old
//! cache manifests go untagged and keep billing), how much new data arrives
//! per ISO week, and what a rule expiring untagged images 14 days after their
//! push would save per month.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::rows::{IsoWeek, day_week};
use crate::cost::Pricing;
use crate::source::ecr::{Lifecycle, RepositorySize};

/// The days after its push that the suggested rule expires an untagged image.
pub const EXPIRE_UNTAGGED_DAYS: i64 = 14;
const DAY_MS: i64 = 86_400_000;

/// New bytes in one ISO week: blobs first pushed then.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekGrowth {
    /// `2026-W41`.
    pub week: String,
    /// Bytes of blobs no earlier image held.
    pub bytes: u64,
}

/// The repository's hygiene.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hygiene {
    /// The repository.
    pub repository: String,
    /// The lifecycle policy's rules, each in a sentence; `None`: no policy at all
    /// (or, with `policy_unknown`, not known).
    pub policy: Option<Vec<String>>,
    /// Why the policy is not known (GetLifecyclePolicy not allowed).
    pub policy_unknown: Option<String>,
    /// Whether a rule already expires untagged images.
    pub expires_untagged: bool,
    /// Images (manifests, indexes, cache manifests).
    pub images: usize,
    /// Of which untagged.
    pub untagged_images: usize,
    /// Bytes of the blobs only untagged images hold (what deleting them frees).
    pub untagged_bytes: u64,
    /// Bytes of unique blobs in all.
    pub unique_bytes: u64,
    /// New bytes per ISO week, oldest first.
    pub growth: Vec<WeekGrowth>,
    /// Bytes only untagged images pushed more than [`EXPIRE_UNTAGGED_DAYS`] before `as_of` hold.
    pub expirable_bytes: u64,
    /// What expiring them saves per month, at the price table's GB-month price.
    pub saving_per_month: f64,
    /// The time the ages are counted to (the window's end, else now), epoch ms.
    pub as_of_ms: i64,
    /// Manifests that could not be read: the byte counts leave their blobs out.
    pub unread_manifests: usize,
}

#[derive(Debug, Deserialize)]
struct Policy {
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    rule_priority: Option<i64>,
    selection: Selection,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selection {
    tag_status: String,
    #[serde(default)]
    tag_prefix_list: Vec<String>,
    #[serde(default)]
    tag_pattern_list: Vec<String>,
    count_type: String,
    #[serde(default)]
    count_unit: Option<String>,
    count_number: i64,
}

/// One rule in a sentence: `expire untagged images pushed more than 14 days ago`.
fn describe(rule: &Rule) -> String {
    let s = &rule.selection;
    let which = match s.tag_status.as_str() {
        "untagged" => "untagged images".to_owned(),
        "tagged" => {
            let tags: Vec<&str> = s
                .tag_prefix_list
                .iter()
                .chain(&s.tag_pattern_list)
                .map(String::as_str)
                .collect();
            format!("images tagged {}", tags.join(", "))
        }
        _ => "any image".to_owned(),
    };
    let when = match s.count_type.as_str() {
        "sinceImagePushed" => format!(
            "pushed more than {} {} ago",
            s.count_number,
            s.count_unit.as_deref().unwrap_or("days")
        ),
        _ => format!("beyond the newest {}", s.count_number),
    };
    let priority = rule
        .rule_priority
        .map_or_else(String::new, |p| format!("rule {p}: "));
    format!("{priority}expire {which} {when}")
}

/// The rules of a policy text, each in a sentence (an unreadable one said so),
/// and whether one expires untagged images.
fn rules(text: &str) -> (Vec<String>, bool) {
    match serde_json::from_str::<Policy>(text) {
        Ok(p) => (
            p.rules.iter().map(describe).collect(),
            p.rules.iter().any(|r| r.selection.tag_status == "untagged"),
        ),
        Err(e) => (vec![format!("a policy cachelens cannot read: {e}")], false),
    }
}

impl Hygiene {
    /// The hygiene of `repository`, measured as `size`, with its lifecycle
    /// `policy`, ages counted to `as_of_ms`.
    pub fn of(
        repository: &str,
        size: &RepositorySize,
        policy: &Lifecycle,
        as_of_ms: i64,
        pricing: &Pricing,
    ) -> Self {
        let tagged: BTreeSet<&str> = size
            .image_facts
            .iter()
            .filter(|i| !i.tags.is_empty())
            .flat_map(|i| i.blobs.iter().map(String::as_str))
            .collect();
        let bytes = |blobs: &BTreeSet<&str>| -> u64 {
            blobs.iter().filter_map(|b| size.blob_bytes.get(*b)).sum()
        };
        let untagged = size.image_facts.iter().filter(|i| i.tags.is_empty());
        let only_untagged = |old: bool| -> BTreeSet<&str> {
            let cutoff = as_of_ms - EXPIRE_UNTAGGED_DAYS * DAY_MS;
            // a blob an image the rule keeps holds stays: tagged, or untagged and young
            let kept: BTreeSet<&str> = size
                .image_facts
                .iter()
                .filter(|i| !i.tags.is_empty() || (old && i.pushed_ms.is_none_or(|t| t > cutoff)))
                .flat_map(|i| i.blobs.iter().map(String::as_str))
                .collect();
            untagged
                .clone()
                .filter(|i| !old || i.pushed_ms.is_some_and(|t| t <= cutoff))
                .flat_map(|i| i.blobs.iter().map(String::as_str))
                .filter(|b| !kept.contains(b) && !tagged.contains(b))
                .collect()
        };
        let expirable_bytes = bytes(&only_untagged(true));
        let (policy_text, policy_unknown) = match policy {
            Lifecycle::Missing => (None, None),
            Lifecycle::Policy(text) => (Some(text.as_str()), None),
            Lifecycle::NotAllowed(why) => (None, Some(why.clone())),
        };
        let (policy, expires_untagged) = match policy_text.map(rules) {
            Some((r, e)) => (Some(r), e),
            None => (None, false),
        };
        Hygiene {
            repository: repository.to_owned(),
            policy,
            policy_unknown,
            expires_untagged,
            images: size.image_facts.len(),
            untagged_images: untagged.clone().count(),
            untagged_bytes: bytes(&only_untagged(false)),
            unique_bytes: size.unique_bytes,
            growth: growth(size),
            expirable_bytes,
            saving_per_month: expirable_bytes as f64 / 1e9 * pricing.ecr.storage_gb_month,
            as_of_ms,
            unread_manifests: size.unread.len(),
        }
    }
}

/// New bytes per ISO week: each blob counted in the week of the first image that holds it.
fn growth(size: &RepositorySize) -> Vec<WeekGrowth> {
    let mut first: BTreeMap<&str, i64> = BTreeMap::new();
    for i in &size.image_facts {
        let Some(t) = i.pushed_ms else { continue };
        for b in &i.blobs {
            let e = first.entry(b.as_str()).or_insert(t);
            *e = (*e).min(t);
        }
    }
    let mut weeks: BTreeMap<IsoWeek, u64> = BTreeMap::new();
    for (blob, t) in first {
        if let (Some(week), Some(n)) = (day_week(Some(t)).1, size.blob_bytes.get(blob)) {
            *weeks.entry(week).or_default() += n;
        }
    }
    weeks
        .into_iter()
        .map(|(w, bytes)| WeekGrowth {
            week: w.to_string(),
            bytes,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ecr::ImageFacts;

    const NOW: i64 = 1_791_158_400_000; // Monday 2026-10-05

    fn image(tag: Option<&str>, days_ago: i64, blobs: &[&str]) -> ImageFacts {
        ImageFacts {
            digest: format!("sha256:{}{days_ago}", tag.unwrap_or("u")),
            tags: tag.into_iter().map(str::to_owned).collect(),
            pushed_ms: Some(NOW - days_ago * DAY_MS),
            blobs: blobs.iter().map(|b| (*b).to_owned()).collect(),
        }
    }

    #[test]
    fn untagged_bytes_expirable_bytes_growth_and_the_policy() {
        // the tag moved twice: two old cache manifests are untagged; layer a is shared
        let images = vec![
            image(Some("cache"), 1, &["a", "d"]),
            image(None, 9, &["a", "c"]),
            image(None, 20, &["a", "b"]),
        ];
        let blob_bytes: BTreeMap<String, u64> =
            [("a", 1_000), ("b", 2_000_000_000), ("c", 300), ("d", 40)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        let size = RepositorySize {
            images: 3,
            blobs: 4,
            unique_bytes: blob_bytes.values().sum(),
            summed_bytes: 0,
            image_facts: images,
            blob_bytes,
            unread: Vec::new(),
        };
        let pricing = Pricing::embedded();
        let h = Hygiene::of("app-cache", &size, &Lifecycle::Missing, NOW, &pricing);
        assert_eq!((h.images, h.untagged_images), (3, 2));
        assert_eq!(h.policy, None);
        // b and c only untagged images hold; a the tagged one holds too
        assert_eq!(h.untagged_bytes, 2_000_000_300);
        // older than 14 days: the 20-day-old manifest, whose b nothing kept holds
        assert_eq!(h.expirable_bytes, 2_000_000_000);
        assert!((h.saving_per_month - 2.0 * 0.10).abs() < 1e-12);
        // 20 days ago: a and b; 9 days ago: c; yesterday: d
        let growth: Vec<(&str, u64)> = h
            .growth
            .iter()
            .map(|g| (g.week.as_str(), g.bytes))
            .collect();
        assert_eq!(
            growth,
            [
                ("2026-W38", 2_000_001_000),
                ("2026-W39", 300),
                ("2026-W40", 40)
            ]
        );

        let policy = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}},
            {"rulePriority":2,"selection":{"tagStatus":"tagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#;
        let h = Hygiene::of(
            "app-cache",
            &size,
            &Lifecycle::Policy(policy.into()),
            NOW,
            &pricing,
        );
        assert!(h.expires_untagged);
        assert_eq!(
            h.policy.unwrap(),
            [
                "rule 1: expire untagged images pushed more than 14 days ago",
                "rule 2: expire images tagged v beyond the newest 5"
            ]
        );
        let h = Hygiene::of(
            "app-cache",
            &size,
            &Lifecycle::Policy("{not json".into()),
            NOW,
            &pricing,
        );
        assert!(h.policy.unwrap()[0].starts_with("a policy cachelens cannot read"));
        let denied = Lifecycle::NotAllowed("access denied".into());
        let h = Hygiene::of("app-cache", &size, &denied, NOW, &pricing);
        assert_eq!(
            (h.policy, h.policy_unknown.as_deref()),
            (None, Some("access denied"))
        );
        // the bytes are measured all the same
        assert_eq!(h.untagged_bytes, 2_000_000_300);
    }
}
