//! The cache repository's size against moto's ECR: each blob counted once.

mod support;

use std::process::Command;

use serde_json::{Value, json};
use support::{Moto, aws_env, sdk_config};

const BIN: &str = env!("CARGO_BIN_EXE_cachelens");

fn blob(media_type: &str, n: u8, size: u64) -> Value {
    json!({"mediaType": media_type, "digest": format!("sha256:{}", format!("{n:02x}").repeat(32)), "size": size})
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
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let ecr = aws_sdk_ecr::Client::new(&sdk_config(&moto.url).await);
        ecr.create_repository()
            .repository_name("app-cache")
            .send()
            .await
            .unwrap();
        for (tag, m) in &manifests {
            ecr.put_image()
                .repository_name("app-cache")
                .image_tag(*tag)
                .image_manifest(m.to_string())
                .send()
                .await
                .unwrap();
        }
    });
    let logs = tempfile::tempdir().unwrap();
    std::fs::write(logs.path().join("b.log"), "#1 [1/1] RUN a\n#1 DONE 61.0s\n").unwrap();
    let out_dir = logs.path().join("report");
    let mut cmd = Command::new(BIN);
    cmd.args([
        "report",
        logs.path().join("b.log").to_str().unwrap(),
        "--cache-repo",
        "app-cache",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    aws_env(&mut cmd, &moto.url);
    let out = cmd.output().unwrap();
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
    let mut cmd = Command::new(BIN);
    cmd.args([
        "report",
        logs.path().join("b.log").to_str().unwrap(),
        "--cache-repo",
        "nope",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    aws_env(&mut cmd, &moto.url);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "cachelens: ECR repository nope not found"
    );
}
