//! The size of a cache repository in ECR, counting each layer once.
//!
//! DescribeImages lists the images; the sum of their `imageSizeInBytes`
//! counts a layer shared by several images (or cache manifests) once per image.
//! So the manifests are read (BatchGetImage) and every unique blob digest —
//! layers and configs, and the blobs a BuildKit cache index lists — is counted
//! once, fetching the child manifests of image indexes as needed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::ImageIdentifier;
use serde::Deserialize;

use super::aws::explain;

/// A failure to measure a repository.
#[derive(Debug, thiserror::Error)]
pub enum EcrError {
    /// No such repository.
    #[error("ECR repository {0} not found")]
    NotFound(String),
    /// An ECR call failed after the SDK's retries.
    #[error("ECR {call} on {repository}: {message}")]
    Aws {
        /// The API call.
        call: &'static str,
        /// The repository.
        repository: String,
        /// The SDK's words.
        message: String,
    },
}

/// What a repository holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySize {
    /// Images (tagged or not: untagged cache manifests bill too).
    pub images: usize,
    /// Unique blobs.
    pub blobs: usize,
    /// Bytes of unique blobs.
    pub unique_bytes: u64,
    /// The sum of the images' `imageSizeInBytes` (counts shared layers again).
    pub summed_bytes: u64,
}

#[derive(Debug, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// Measures a repository.
pub async fn repository_size(
    client: &Client,
    repository: &str,
) -> Result<RepositorySize, EcrError> {
    let aws = |call: &'static str, message: String| EcrError::Aws {
        call,
        repository: repository.to_owned(),
        message,
    };
    let mut digests = Vec::new();
    let mut summed = 0u64;
    let mut token: Option<String> = None;
    loop {
        let page = client
            .describe_images()
            .repository_name(repository)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception())
                {
                    EcrError::NotFound(repository.to_owned())
                } else {
                    aws("DescribeImages", explain(&e))
                }
            })?;
        for d in page.image_details() {
            if let Some(digest) = d.image_digest() {
                digests.push(digest.to_owned());
                summed += d.image_size_in_bytes().unwrap_or(0).max(0) as u64;
            }
        }
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    let images = digests.len();
    let mut blobs: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue = digests;
    while !queue.is_empty() {
        let batch: Vec<String> = queue
            .drain(..queue.len().min(100))
            .filter(|d| seen.insert(d.clone()))
            .collect();
        if batch.is_empty() {
            continue;
        }
        let ids = batch
            .iter()
            .map(|d| ImageIdentifier::builder().image_digest(d).build())
            .collect();
        let page = client
            .batch_get_image()
            .repository_name(repository)
            .set_image_ids(Some(ids))
            .set_accepted_media_types(Some(
                MANIFEST_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            ))
            .send()
            .await
            .map_err(|e| aws("BatchGetImage", explain(&e)))?;
        for image in page.images() {
            let Some(Ok(m)) = image.image_manifest().map(serde_json::from_str::<Manifest>) else {
                continue;
            };
            for d in m.config.into_iter().chain(m.layers) {
                blobs.insert(d.digest, d.size);
            }
            for d in m.manifests {
                if MANIFEST_TYPES.contains(&d.media_type.as_str()) {
                    queue.push(d.digest);
                } else {
                    // a BuildKit cache index lists its layer blobs directly
                    blobs.insert(d.digest, d.size);
                }
            }
        }
    }
    Ok(RepositorySize {
        images,
        blobs: blobs.len(),
        unique_bytes: blobs.values().sum(),
        summed_bytes: summed,
    })
}
