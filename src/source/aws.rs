//! AWS configuration shared by every AWS client: the default credential and
//! region chains, `--profile`, `--region`, `--endpoint-url` (and
//! `AWS_ENDPOINT_URL`), the SDK's standard retry (exponential backoff with jitter)
//! for throttling and 5xx, and one
//! HTTPS client (rustls with ring).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// `--region`; else `AWS_REGION` / the profile's region.
    pub region: Option<String>,
    /// `--profile`; else `AWS_PROFILE` / `default`.
    pub profile: Option<String>,
    /// `--endpoint-url`; else `AWS_ENDPOINT_URL[_CLOUDWATCH_LOGS]` (moto, LocalStack, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Attempts per request, the first included (SDK standard retry).
    pub max_attempts: u32,
}

/// A failure before any request was sent.
#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    /// No region anywhere.
    #[error("no AWS region: give --region, or set AWS_REGION or a region in the AWS profile")]
    NoRegion,
}

/// Loads the SDK configuration.
pub async fn load(options: &AwsOptions) -> Result<SdkConfig, AwsConfigError> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let retry = RetryConfig::standard()
        .with_max_attempts(options.max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(retry);
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(AwsConfigError::NoRegion);
    }
    Ok(config)
}
