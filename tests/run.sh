#!/usr/bin/env bash
# Every test of cachelens: formatting, lints, unit, integration and CLI tests,
# and a smoke run of the benchmarks. Installs what the tests need by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "tests/run.sh: cargo is needed (a Rust toolchain, 1.94 or newer)" >&2
  exit 1
fi

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# benchmarks once each, as tests (criterion's test mode), then every test suite
cargo test --benches --locked
cargo test --locked
