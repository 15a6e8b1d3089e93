//! The cache repository's size against moto's ECR: each blob counted once.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::{Moto, aws_env, sdk_config};

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn blob(media_type: &str, n: u8, size: u64) -> Value {
    json!({"mediaType": media_type, "digest": format!("sha256:{}", format!("{n:02x}").repeat(32)), "size": size})
}

/// Makes repository `repo` in moto and pushes `images` (a tag or none, the
/// manifest). moto makes an index's digest from a random number from 0 to 100
/// (two indexes share one about once in a hundred runs): each image is given
/// its own.
fn push(moto: &Moto, repo: &str, images: &[(Option<&str>, String)]) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let ecr = aws_sdk_ecr::Client::new(&sdk_config(&moto.url).await);
        ecr.create_repository()
            .repository_name(repo)
            .send()
            .await
            .unwrap();
        for (n, (tag, m)) in images.iter().enumerate() {
            ecr.put_image()
                .repository_name(repo)
                .set_image_tag(tag.map(str::to_owned))
                .image_digest(format!("sha256:{:064x}", n + 1))
                .image_manifest(m)
                .send()
                .await
                .unwrap();
        }
    });
}

/// `cachelens report LOG --cache-repo REPO --out OUT EXTRA…` against moto.
fn report(moto: &Moto, log: &Path, repo: &str, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("report")
        .arg(log)
        .args(["--cache-repo", repo, "--out"])
        .arg(out)
        .args(extra);
    aws_env(&mut cmd, &moto.url);
    cmd.output().unwrap()
}

#[test]
fn storage_counts_unique_layers_once() {
    let moto = Moto::start();
    let layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    let config = "application/vnd.oci.image.config.v1+json";
    // two images share layer 1; a BuildKit cache index lists layers 2 and 4 directly
    let manifests = [
        (
            "v1",
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": blob(config, 0xc1, 100), "layers": [blob(layer, 1, 1000), blob(layer, 2, 2000)]}),
        ),
        (
            "v2",
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": blob(config, 0xc2, 150), "layers": [blob(layer, 1, 1000), blob(layer, 3, 500)]}),
        ),
        (
            "cache",
            json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [blob(layer, 2, 2000), blob(layer, 4, 4000),
                          blob("application/vnd.buildkit.cacheconfig.v0", 0xcc, 300)]}),
        ),
    ];
    let images = manifests.map(|(tag, m)| (Some(tag), m.to_string()));
    push(&moto, "app-cache", &images);
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(logs.path().join("b.log"), "#1 [1/1] RUN a\n#1 DONE 61.0s\n").unwrap();
    let out_dir = logs.path().join("report");
    let out = report(
        &moto,
        &logs.path().join("b.log"),
        "app-cache",
        &out_dir,
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let totals: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("totals.json")).unwrap()).unwrap();
    let storage = &totals["totals"]["storage"];
    // 100 + 150 + 1000 + 2000 + 500 + 4000 + 300 bytes, layer 1 and 2 once each
    assert_eq!(storage["gb"], 8050.0 / 1e9);
    let source = storage["source"].as_str().unwrap();
    assert!(
        source.starts_with("ecr:app-cache (3 images, 7 unique blobs"),
        "{source}"
    );

    // a missing repository is one clear line
    let out = report(&moto, &logs.path().join("b.log"), "nope", &out_dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "cachelens: ECR repository nope not found"
    );
}

#[test]
fn cache_repository_hygiene_lifecycle_untagged_growth_and_the_saving() {
    let moto = Moto::start();
    let layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    let index = |layers: Vec<Value>| {
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": layers})
        .to_string()
    };
    // the tagged cache; two older cache manifests left untagged (moto drops an image
    // whose tag moves, so they are pushed without a tag), one sharing layer 1
    let images = [
        (
            Some("cache"),
            index(vec![blob(layer, 1, 1000), blob(layer, 2, 2000)]),
        ),
        (
            None,
            index(vec![blob(layer, 1, 1000), blob(layer, 5, 5_000_000_000)]),
        ),
        (None, index(vec![blob(layer, 6, 300)])),
    ];
    let policy = json!({"rules": [{"rulePriority": 1, "description": "untagged",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                      "countUnit": "days", "countNumber": 14},
        "action": {"type": "expire"}}]})
    .to_string();
    push(&moto, "hyg-cache", &images);
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("b.log");
    std::fs::write(&log, "#1 [1/1] RUN a\n#1 DONE 61.0s\n").unwrap();
    let measure = |extra: &[&str]| -> (Value, String) {
        let out_dir = logs.path().join("report");
        let out = report(&moto, &log, "hyg-cache", &out_dir, extra);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let totals: Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("totals.json")).unwrap()).unwrap();
        let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
        (totals["cache_repository"].clone(), html)
    };

    // counted to a month from now, every untagged manifest is older than 14 days
    let month_ahead = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let (h, html) = measure(&["--until", &month_ahead]);
    assert!(h["policy"].is_null(), "{h}");
    assert_eq!(
        (h["images"].as_u64(), h["untagged_images"].as_u64()),
        (Some(3), Some(2))
    );
    // layer 1 is the tagged cache's too: only layers 5 and 6 go with the untagged
    assert_eq!(h["untagged_bytes"], 5_000_000_300u64);
    assert_eq!(h["expirable_bytes"], 5_000_000_300u64);
    assert!((h["saving_per_month"].as_f64().unwrap() - 0.500_000_03).abs() < 1e-9);
    let growth = h["growth"].as_array().unwrap();
    assert_eq!(growth.len(), 1, "everything was pushed this week: {h}");
    assert_eq!(growth[0]["bytes"], 5_000_003_300u64);
    assert!(html.contains("<h2>Cache repository</h2>"));
    assert!(html.contains("none: nothing ever expires"));
    assert!(
        html.contains("frees 5.00 GB now, 0.50 USD per month"),
        "{html}"
    );

    // counted to now, nothing is 14 days old yet; a policy is read and told
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ecr = rt.block_on(async { aws_sdk_ecr::Client::new(&sdk_config(&moto.url).await) });
    rt.block_on(async {
        ecr.put_lifecycle_policy()
            .repository_name("hyg-cache")
            .lifecycle_policy_text(&policy)
            .send()
            .await
            .unwrap();
    });
    let (h, html) = measure(&[]);
    assert_eq!(h["expirable_bytes"], 0);
    assert_eq!(h["expires_untagged"], true);
    assert_eq!(
        h["policy"][0],
        "rule 1: expire untagged images pushed more than 14 days ago"
    );
    assert!(html.contains("a rule already expires untagged images"));
}

#[test]
fn a_manifest_cachelens_cannot_read_is_reported_not_dropped() {
    let moto = Moto::start();
    let layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    let oci = "application/vnd.oci.image.manifest.v1+json";
    // one image as BuildKit pushes it; one whose layer's size is text (with a
    // terminal control), which moto stores as it is
    let images = [
        (
            "good",
            json!({"schemaVersion": 2, "mediaType": oci, "layers": [blob(layer, 1, 1000)]}),
        ),
        (
            "odd",
            json!({"schemaVersion": 2, "mediaType": oci, "layers": [
                {"mediaType": layer, "digest": format!("sha256:{}", "02".repeat(32)),
                 "size": "\u{1b}[2J"}]}),
        ),
    ];
    let images = images.map(|(tag, m)| (Some(tag), m.to_string()));
    push(&moto, "odd-cache", &images);
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("b.log");
    std::fs::write(&log, "#1 [1/1] RUN a\n#1 DONE 61.0s\n").unwrap();
    let out_dir = logs.path().join("report");
    let out = report(&moto, &log, "odd-cache", &out_dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "cachelens: 1 of the manifests of odd-cache could not be read, and their blobs are not counted: sha256:"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("no manifest cachelens reads"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    let totals: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("totals.json")).unwrap()).unwrap();
    // the readable image's layer is counted; the other is said, not dropped silently
    assert_eq!(totals["totals"]["storage"]["gb"], 1000.0 / 1e9);
    let source = totals["totals"]["storage"]["source"].as_str().unwrap();
    assert!(
        source.contains("; 1 of its manifests not read, their blobs not counted"),
        "{source}"
    );
    assert_eq!(totals["cache_repository"]["unread_manifests"], 1);
    for page in ["index.html", "report.md"] {
        let text = std::fs::read_to_string(out_dir.join(page)).unwrap();
        assert!(text.contains("Manifests not read"), "{page}");
    }
}
