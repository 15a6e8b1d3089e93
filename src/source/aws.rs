//! AWS configuration shared by every AWS client: the default credential and
//! region chains, `--profile`, `--region`, `--endpoint-url` (and
//! `AWS_ENDPOINT_URL`), one HTTPS client (rustls with ring), and bounded time:
//! a connect and a read timeout per attempt and at most `--max-attempts`
//! attempts (the SDK's standard retry, exponential backoff with jitter, for
//! throttling, 5xx and timeouts), each retry told in one line.
//!
//! [`explain`] turns an SDK error into one line that says what happened and
//! what to do (no credentials, endpoint unreachable, timed out, access
//! denied), never a `Debug` dump.

use std::error::Error;
use std::fmt::Debug;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::error::metadata::{ErrorMetadata, ProvideErrorMetadata};

/// Where and as whom to call AWS, and how long to wait.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// `--region`; else `AWS_REGION` / the profile's region.
    pub region: Option<String>,
    /// `--profile`; else `AWS_PROFILE` / `default`.
    pub profile: Option<String>,
    /// `--endpoint-url`; else `AWS_ENDPOINT_URL[_CLOUDWATCH_LOGS]` (moto, LocalStack, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Attempts per request, the first included (SDK standard retry).
    pub max_attempts: u32,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time to wait for an answer once the request is sent.
    pub read_timeout: Duration,
    /// Told one line before each retry (operation, attempt, why the last failed).
    pub on_retry: Option<fn(&str)>,
}

/// A failure before any request was sent.
#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    /// No region anywhere.
    #[error("no AWS region: give --region, or set AWS_REGION or a region in the AWS profile")]
    NoRegion,
}

/// The SDK configuration and what every client made from it gets.
#[derive(Debug, Clone)]
pub struct Aws {
    /// The shared configuration.
    pub config: SdkConfig,
    on_retry: Option<fn(&str)>,
    max_attempts: u32,
}

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Loads the SDK configuration.
pub async fn load(options: &AwsOptions) -> Result<Aws, AwsConfigError> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let max_attempts = options.max_attempts.max(1);
    let retry = RetryConfig::standard()
        .with_max_attempts(max_attempts)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(MAX_BACKOFF);
    // an attempt: connect, send, wait for the answer, read the body
    let attempt = options.connect_timeout + 2 * options.read_timeout;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * max_attempts + MAX_BACKOFF * (max_attempts - 1))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(retry)
        .timeout_config(timeouts);
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
    Ok(Aws {
        config,
        on_retry: options.on_retry,
        max_attempts,
    })
}

impl Aws {
    fn note(&self) -> RetryNote {
        RetryNote {
            tell: self.on_retry,
            max_attempts: self.max_attempts,
        }
    }

    /// A CloudWatch Logs client.
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
            .interceptor(self.note())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }

    /// A CodeBuild client.
    pub fn codebuild(&self) -> aws_sdk_codebuild::Client {
        let conf = aws_sdk_codebuild::config::Builder::from(&self.config)
            .interceptor(self.note())
            .build();
        aws_sdk_codebuild::Client::from_conf(conf)
    }

    /// An S3 client; path-style addresses when an endpoint is set
    /// (`--endpoint-url`, `AWS_ENDPOINT_URL`: MinIO, LocalStack, moto).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(self.config.endpoint_url().is_some())
            .interceptor(self.note())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// An ECR client.
    pub fn ecr(&self) -> aws_sdk_ecr::Client {
        let conf = aws_sdk_ecr::config::Builder::from(&self.config)
            .interceptor(self.note())
            .build();
        aws_sdk_ecr::Client::from_conf(conf)
    }
}

/// Tells each retry: the operation, the attempt, why the last one failed.
#[derive(Debug)]
struct RetryNote {
    tell: Option<fn(&str)>,
    max_attempts: u32,
}

/// Why the last attempt of an operation failed.
#[derive(Debug, Clone)]
struct LastFailure(String);

impl Storable for LastFailure {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RetryNote {
    fn name(&self) -> &'static str {
        "cachelens::RetryNote"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Err(e)) = context.output_or_error() {
            let why = match context.response() {
                Some(r) => format!("HTTP {}: {}", r.status().as_u16(), chain(e)),
                None => chain(e),
            };
            cfg.interceptor_state().store_put(LastFailure(why));
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if let Some(tell) = self.tell
            && attempt > 1
        {
            let op = cfg.load::<Metadata>().map_or("AWS call", |m| m.name());
            let why = cfg.load::<LastFailure>().map_or("failed", |f| f.0.as_str());
            tell(&format!(
                "{op}: {why}; retrying (attempt {attempt} of {}, --max-attempts)",
                self.max_attempts
            ));
        }
        Ok(())
    }
}

/// An error and its causes on one line, each said once (Display only; AWS's
/// error metadata as `code: message`).
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut text = String::new();
    let mut next: Option<&(dyn Error + 'static)> = Some(e);
    while let Some(err) = next {
        let part = match err.downcast_ref::<ErrorMetadata>() {
            Some(m) => format!(
                "{}: {}",
                m.code().unwrap_or("error"),
                m.message().unwrap_or("")
            ),
            None => err.to_string(),
        };
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        next = err.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Error codes AWS answers when the credentials may not do something.
const DENIED: [&str; 5] = [
    "AccessDeniedException",
    "AccessDenied",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "ExpiredTokenException",
];

/// Whether AWS refused the credentials or the action.
pub fn is_denied<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| DENIED.contains(&c) || c == "InvalidSignatureException")
}

/// One line for an AWS failure: what happened and what to do.
pub fn explain<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: Debug + 'static,
{
    match e {
        SdkError::DispatchFailure(d) => {
            let why = chain(e);
            let mut credentials = false;
            let mut next: Option<&(dyn Error + 'static)> = Some(e);
            while let Some(err) = next {
                credentials |= err.downcast_ref::<CredentialsError>().is_some();
                next = err.source();
            }
            if credentials {
                format!(
                    "no AWS credentials ({why}): set AWS_PROFILE (or --profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws sso login`, or run where a role is attached"
                )
            } else if d.is_timeout() {
                format!(
                    "timed out ({why}): the endpoint did not answer in time; check the network, a proxy or --endpoint-url, or raise --connect-timeout / --read-timeout"
                )
            } else if d.is_io() {
                format!(
                    "cannot reach the AWS endpoint ({why}): check the network, a proxy, --region and --endpoint-url / AWS_ENDPOINT_URL"
                )
            } else {
                why
            }
        }
        SdkError::TimeoutError(_) => format!(
            "timed out: no answer within the time allowed ({}); check the network or --endpoint-url, or raise --read-timeout / --max-attempts",
            chain(e)
        ),
        SdkError::ResponseError(_) => format!(
            "the endpoint's answer could not be read ({}): is --endpoint-url an AWS API endpoint?",
            chain(e)
        ),
        SdkError::ServiceError(s) => {
            let err = s.err();
            let code = err.code().unwrap_or("error");
            let message = err.message().unwrap_or("");
            if DENIED.contains(&code) || code == "InvalidSignatureException" {
                format!(
                    "access denied ({code}: {message}): the credentials need this action; see the IAM policy in cachelens' README"
                )
            } else {
                format!("{code}: {message}")
            }
        }
        _ => chain(e),
    }
}
