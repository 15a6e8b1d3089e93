#!/usr/bin/env bash
# Every test of cachelens: formatting, lints, unit, integration and CLI tests,
# and a smoke run of the benchmarks. Installs what the tests need by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
# in CI (limit 90 min): the time by which tests/dist.sh must be done building
if [ -n "${CI:-}" ] && [ -z "${CACHELENS_CI_DEADLINE:-}" ]; then
  export CACHELENS_CI_DEADLINE=$(( $(date +%s) + 85 * 60 ))
fi

if ! command -v cargo >/dev/null; then
  echo "tests/run.sh: cargo is needed (a Rust toolchain, 1.94 or newer)" >&2
  exit 1
fi

# a real AWS-API server for the CloudWatch Logs / CodeBuild tests (tests/support)
if ! command -v moto_server >/dev/null; then
  echo "tests/run.sh: installing moto[server] from PyPI" >&2
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
fi
command -v moto_server >/dev/null || { echo "tests/run.sh: moto_server is not on PATH after install" >&2; exit 1; }

# real engines for the report's Parquet dataset (tests/dataset.rs, tests/engines/dataset.py):
# pyarrow, DuckDB, sqlglot and Apache Spark from PyPI; Spark runs on Debian's headless OpenJDK
engines_since=$SECONDS
if ! python3 -c 'import pyarrow, duckdb, pyspark, sqlglot' 2>/dev/null; then
  echo "tests/run.sh: installing pyarrow, duckdb, sqlglot and pyspark from PyPI" >&2
  python3 -m pip install --quiet --disable-pip-version-check \
    'pyarrow>=15,<27' 'duckdb>=1.1,<3' 'sqlglot>=25,<31' 'pyspark>=4,<5'
fi
if ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tests/run.sh: installing openjdk-17-jre-headless from Debian's packages (for Spark)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
  else
    echo "tests/run.sh: java is missing (install Debian's openjdk-17-jre-headless as root)" >&2
    exit 1
  fi
fi
echo "tests/run.sh: the dataset engines are ready ($((SECONDS - engines_since)) s)" >&2
export CACHELENS_REQUIRE_ENGINES=1

# a real browser for the HTML report (tests/report.rs): Debian's chromium
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "tests/run.sh: installing chromium from Debian's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "tests/run.sh: chromium is missing (install Debian's chromium package as root)" >&2
    exit 1
  fi
fi
export CACHELENS_REQUIRE_CHROMIUM=1

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# doc comments whose links no longer resolve (a moved file, a renamed item) fail here
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
# the fuzz targets (their own workspace, on the core crate alone) still build
cargo check --manifest-path fuzz/Cargo.toml --locked
# real dockerd + BuildKit end to end (tests/e2e/dockerd.sh: installs Debian's docker.io,
# docker-registry and busybox-static when missing, starts and stops its own daemons)
if [ "$(id -u)" = 0 ]; then
  cargo build --locked
  tests/e2e/dockerd.sh "${CARGO_TARGET_DIR:-target}/debug/cachelens"
else
  echo "tests/run.sh: SKIPPED the dockerd end to end: it needs root" >&2
fi
# benchmarks once each, as tests (criterion's test mode), then every test suite
cargo test --workspace --benches --locked
cargo test --workspace --locked
# the release artifacts as users install them (tests/dist.sh: scripts/dist.sh for both
# targets, then pip into a fresh venv, env -i, an empty chroot, qemu-user); as root, since
# it installs its toolchain from Debian's packages and PyPI when missing
if [ "${SKIP_DIST:-0}" = 1 ]; then
  echo "tests/run.sh: SKIPPED the release artifacts (SKIP_DIST=1)" >&2
elif [ "$(id -u)" = 0 ]; then
  tests/dist.sh
else
  echo "tests/run.sh: SKIPPED the release artifacts (tests/dist.sh): it needs root" >&2
fi
