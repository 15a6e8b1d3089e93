//! A CodeBuild build id, `project:uuid`: the one place it is split and built.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A CodeBuild build id, `project:uuid` (what `BatchGetBuilds` returns and
/// `CODEBUILD_BUILD_ID` holds). Written and read as that text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuildId {
    id: String,
    colon: usize,
}

/// A build id that is not `project:uuid`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is no CodeBuild build id (`project:uuid`)")]
pub struct BuildIdError(pub String);

impl BuildId {
    /// The id of build `uuid` of `project`.
    pub fn new(project: &str, uuid: &str) -> Self {
        BuildId {
            id: format!("{project}:{uuid}"),
            colon: project.len(),
        }
    }

    /// The id from the log group and stream CodeBuild writes by default:
    /// `/aws/codebuild/<project>` and a stream `[prefix/]<uuid>`.
    pub fn from_log_names(group: &str, stream: &str) -> Option<Self> {
        let project = group.strip_prefix(DEFAULT_GROUP_PREFIX)?;
        let uuid = stream.rsplit('/').next()?;
        (!project.is_empty() && !uuid.is_empty()).then(|| BuildId::new(project, uuid))
    }

    /// The CodeBuild project.
    pub fn project(&self) -> &str {
        &self.id[..self.colon]
    }

    /// The build's own part, a UUID.
    pub fn uuid(&self) -> &str {
        &self.id[self.colon + 1..]
    }

    /// `project:uuid`.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The log group CodeBuild writes the build's log to unless the project
    /// says otherwise: `/aws/codebuild/<project>`.
    pub fn default_log_group(&self) -> String {
        format!("{DEFAULT_GROUP_PREFIX}{}", self.project())
    }

    /// The log stream CodeBuild writes the build's log to unless the project
    /// sets a stream prefix: `<uuid>`.
    pub fn default_log_stream(&self) -> &str {
        self.uuid()
    }
}

const DEFAULT_GROUP_PREFIX: &str = "/aws/codebuild/";

impl FromStr for BuildId {
    type Err = BuildIdError;

    /// `project:uuid`, both parts non-empty (a project name holds no `:`).
    fn from_str(id: &str) -> Result<Self, Self::Err> {
        match id.split_once(':') {
            Some((project, uuid)) if !project.is_empty() && !uuid.is_empty() => {
                Ok(BuildId::new(project, uuid))
            }
            _ => Err(BuildIdError(id.to_owned())),
        }
    }
}

impl fmt::Display for BuildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl Serialize for BuildId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id)
    }
}

impl<'de> Deserialize<'de> for BuildId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_names_and_text() {
        let id: BuildId = "app:1b2c-uuid".parse().expect("id");
        assert_eq!((id.project(), id.uuid()), ("app", "1b2c-uuid"));
        assert_eq!(id.default_log_group(), "/aws/codebuild/app");
        assert_eq!(id.default_log_stream(), "1b2c-uuid");
        assert_eq!(id.to_string(), "app:1b2c-uuid");
        assert_eq!(
            serde_json::to_string(&id).expect("json"),
            "\"app:1b2c-uuid\""
        );
        let back: BuildId = serde_json::from_str("\"app:1b2c-uuid\"").expect("json");
        assert_eq!(back, id);
        assert_eq!(
            BuildId::from_log_names("/aws/codebuild/app", "prefix/1b2c-uuid"),
            Some(id)
        );
        assert_eq!(BuildId::from_log_names("/ci/app", "x"), None);
        // a uuid part may hold colons; the project never does
        assert_eq!("p:a:b".parse::<BuildId>().expect("id").uuid(), "a:b");
        for bad in ["", "app", ":x", "app:"] {
            assert_eq!(bad.parse::<BuildId>(), Err(BuildIdError(bad.to_owned())));
        }
        assert!(serde_json::from_str::<BuildId>("\"app\"").is_err());
    }
}
