//! The CI framing a build's lines carried, and the wall-clock time it gave.

use chrono::{NaiveDateTime, NaiveTime};
use serde::Serialize;

/// What kind of prefix a region carries (rule F4: the class of its `prefix`).
/// The names are examples of one rule, not the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// An ISO-8601 stamp first (GitHub Actions, Gitea/Forgejo, Render; a tag may follow).
    Timestamp,
    /// A bracketed date-time first (Jenkins Timestamper's ISO form, `[2023-09-06 17:12:48.593]`).
    Jenkins,
    /// A time of day first (Jenkins Timestamper's `10:02:37 `).
    JenkinsClock,
    /// `[workflow/job]   | ` (nektos/act).
    Act,
    /// White space only (a wrapper that indents, maybe labelling its first line).
    Indent,
    /// CodeBuild's agent prefix `[Container] 2024/03/27 12:58:52 ` on command output.
    #[serde(rename = "codebuild")]
    CodeBuild,
    /// GitLab Runner's `<stamp> 01O ` (stream number, stream letter, `+` on continuations).
    #[serde(rename = "gitlab")]
    GitLab,
    /// Any other prefix.
    Prefix,
}

impl Framing {
    /// The name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Framing::Timestamp => "timestamp",
            Framing::Jenkins => "jenkins",
            Framing::JenkinsClock => "jenkins-clock",
            Framing::Act => "act",
            Framing::Indent => "indent",
            Framing::CodeBuild => "codebuild",
            Framing::GitLab => "gitlab",
            Framing::Prefix => "prefix",
        }
    }
}

/// Rule F4: the wall-clock time of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum WallClock {
    /// A date and a time (UTC when the stamp says `Z`, else as printed).
    DateTime(NaiveDateTime),
    /// A time of day without a date.
    Time(NaiveTime),
}
