//! The size of a cache repository in ECR, counting each layer once, with what
//! each image holds (for its hygiene), and its lifecycle policy.
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

use super::aws::{explain, is_denied};

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
    /// Each image: its tags, when it was pushed and the blobs it holds.
    pub image_facts: Vec<ImageFacts>,
    /// The size of every unique blob, by digest.
    pub blob_bytes: BTreeMap<String, u64>,
    /// The manifests that could not be read (BatchGetImage's failures, text that
    /// is no manifest), each as `digest: why`: their blobs are not counted.
    pub unread: Vec<String>,
}

/// One image of a repository (a manifest, an index or a BuildKit cache manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    /// Its digest.
    pub digest: String,
    /// Its tags (none: an untagged manifest, billed until something deletes it).
    pub tags: Vec<String>,
    /// When it was pushed, epoch ms.
    pub pushed_ms: Option<i64>,
    /// The digests of the blobs it holds (its children's too).
    pub blobs: BTreeSet<String>,
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
    let mut images: Vec<ImageFacts> = Vec::new();
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
                images.push(ImageFacts {
                    digest: digest.to_owned(),
                    tags: d.image_tags().to_vec(),
                    pushed_ms: d.image_pushed_at().and_then(|t| t.to_millis().ok()),
                    blobs: BTreeSet::new(),
                });
                summed += d.image_size_in_bytes().unwrap_or(0).max(0) as u64;
            }
        }
        match page.next_token() {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_owned()),
            _ => break,
        }
    }
    let (manifests, unread) = manifests(client, repository, &images).await?;
    let mut blob_bytes: BTreeMap<String, u64> = BTreeMap::new();
    for image in &mut images {
        // the image's blobs, and its children's (an index's manifests)
        let mut stack = vec![image.digest.clone()];
        let mut visited = BTreeSet::new();
        while let Some(d) = stack.pop() {
            if !visited.insert(d.clone()) {
                continue;
            }
            let Some(m) = manifests.get(&d) else { continue };
            for b in m.config.iter().chain(&m.layers) {
                blob_bytes.insert(b.digest.clone(), b.size);
                image.blobs.insert(b.digest.clone());
            }
            for c in &m.manifests {
                if MANIFEST_TYPES.contains(&c.media_type.as_str()) {
                    stack.push(c.digest.clone());
                } else {
                    // a BuildKit cache index lists its layer blobs directly
                    blob_bytes.insert(c.digest.clone(), c.size);
                    image.blobs.insert(c.digest.clone());
                }
            }
        }
    }
    Ok(RepositorySize {
        images: images.len(),
        blobs: blob_bytes.len(),
        unique_bytes: blob_bytes.values().sum(),
        summed_bytes: summed,
        image_facts: images,
        blob_bytes,
        unread,
    })
}

/// Every manifest of `images` and of their children (BatchGetImage, 100 a call), by
/// digest; and those that could not be read, as `digest: why`.
async fn manifests(
    client: &Client,
    repository: &str,
    images: &[ImageFacts],
) -> Result<(BTreeMap<String, Manifest>, Vec<String>), EcrError> {
    let mut out: BTreeMap<String, Manifest> = BTreeMap::new();
    let mut unread = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = images.iter().map(|i| i.digest.clone()).collect();
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
            .map_err(|e| EcrError::Aws {
                call: "BatchGetImage",
                repository: repository.to_owned(),
                message: explain(&e),
            })?;
        for f in page.failures() {
            let digest = f.image_id().and_then(|i| i.image_digest()).unwrap_or("?");
            let code = f.failure_code().map_or("failed", |c| c.as_str());
            let why = f.failure_reason().unwrap_or_default();
            unread.push(format!("{digest}: {code} {why}").trim_end().to_owned());
        }
        for image in page.images() {
            let digest = image.image_id().and_then(|i| i.image_digest());
            let m = match image.image_manifest().map(serde_json::from_str::<Manifest>) {
                Some(Ok(m)) => m,
                unreadable => {
                    let why = match unreadable {
                        Some(Err(e)) => format!("no manifest cachelens reads ({e})"),
                        _ => "returned without its manifest".to_owned(),
                    };
                    unread.push(format!("{}: {why}", digest.unwrap_or("?")));
                    continue;
                }
            };
            queue.extend(
                m.manifests
                    .iter()
                    .filter(|c| MANIFEST_TYPES.contains(&c.media_type.as_str()))
                    .map(|c| c.digest.clone()),
            );
            if let Some(d) = digest {
                out.insert(d.to_owned(), m);
            }
        }
    }
    Ok((out, unread))
}

/// What GetLifecyclePolicy says of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// It has no lifecycle policy.
    Missing,
    /// Its policy text.
    Policy(String),
    /// The credentials may not ask (the report goes on without it): AWS's words.
    NotAllowed(String),
}

/// The repository's lifecycle policy (GetLifecyclePolicy).
pub async fn lifecycle_policy(client: &Client, repository: &str) -> Result<Lifecycle, EcrError> {
    match client
        .get_lifecycle_policy()
        .repository_name(repository)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .lifecycle_policy_text()
            .map_or(Lifecycle::Missing, |t| Lifecycle::Policy(t.to_owned()))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_lifecycle_policy_not_found_exception()) =>
        {
            Ok(Lifecycle::Missing)
        }
        Err(e) if is_denied(&e) => Ok(Lifecycle::NotAllowed(explain(&e))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_not_found_exception()) =>
        {
            Err(EcrError::NotFound(repository.to_owned()))
        }
        Err(e) => Err(EcrError::Aws {
            call: "GetLifecyclePolicy",
            repository: repository.to_owned(),
            message: explain(&e),
        }),
    }
}
