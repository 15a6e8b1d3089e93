//! Real AWS-API traffic for tests: a `moto_server` on 127.0.0.1 (installed by
//! `tests/run.sh`), and a fault-injecting HTTP proxy to put in front of it.

#![allow(dead_code)] // each test binary uses its own part of this module

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A running `moto_server`, killed on drop.
pub struct Moto {
    child: Child,
    /// Its endpoint, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its port.
    pub port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "moto_server not found: run tests/run.sh, which installs moto[server] from PyPI",
            );
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment every AWS-calling command of a test gets: moto's endpoint,
/// fake credentials, no host AWS configuration, no instance metadata.
pub fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/cachelens-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/cachelens-test-credentials",
        )
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
}

/// An SDK configuration for moto, for the test's own setup calls.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    use aws_config::BehaviorVersion;
    use aws_sdk_cloudwatchlogs::config::Credentials;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .load()
        .await
}

/// What the proxy does to requests.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// Fail every `every`-th request (0: never), alternating a 400
    /// ThrottlingException and a 503, until `limit` failures were sent.
    pub every: u64,
    /// Failures to send at most.
    pub limit: u64,
    /// Delay before forwarding each request.
    pub delay: Duration,
}

/// A fault-injecting HTTP/1.1 proxy in front of moto.
pub struct Proxy {
    /// Its endpoint.
    pub url: String,
    /// Requests seen.
    pub requests: Arc<AtomicU64>,
    /// Faults sent.
    pub injected: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Proxy {
    /// Starts a proxy to `upstream_port` on a free loopback port.
    pub fn start(upstream_port: u16, faults: Faults) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicU64::new(0));
        let injected = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, i, s) = (requests.clone(), injected.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, i) = (r.clone(), i.clone());
                std::thread::spawn(move || serve(conn, upstream_port, faults, &r, &i));
            }
        });
        Proxy {
            url: format!("http://127.0.0.1:{port}"),
            requests,
            injected,
            stop,
            port,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one HTTP message (head and Content-Length body); `None` at EOF.
fn read_message(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
        message.extend_from_slice(line.as_bytes());
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    message.extend_from_slice(&body);
    Some(message)
}

fn serve(
    client: TcpStream,
    upstream_port: u16,
    faults: Faults,
    requests: &AtomicU64,
    injected: &AtomicU64,
) {
    let mut writer = client.try_clone().expect("clone client stream");
    let mut reader = BufReader::new(client);
    while let Some(request) = read_message(&mut reader) {
        let n = requests.fetch_add(1, Ordering::Relaxed) + 1;
        if faults.every > 0
            && n.is_multiple_of(faults.every)
            && injected.load(Ordering::Relaxed) < faults.limit
        {
            let k = injected.fetch_add(1, Ordering::Relaxed);
            let (status, kind) = if k.is_multiple_of(2) {
                ("400 Bad Request", "ThrottlingException")
            } else {
                ("503 Service Unavailable", "ServiceUnavailableException")
            };
            let body =
                format!("{{\"__type\":\"{kind}\",\"message\":\"injected by the test proxy\"}}");
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: test-{n}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if writer.write_all(response.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        std::thread::sleep(faults.delay);
        let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
            return;
        };
        if upstream.write_all(&request).is_err() {
            return;
        }
        let mut up_reader = BufReader::new(upstream.try_clone().expect("clone upstream"));
        let Some(response) = read_message(&mut up_reader) else {
            return;
        };
        let _ = upstream.shutdown(Shutdown::Both);
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}
