#!/usr/bin/env bash
# Process-level timings for BENCHMARKS.md: cachelens against `rg -c` and `wc -l`
# on the same generated corpora (make-corpus), files in the page cache; each
# command's median wall time of 3 runs (hyperfine), MB/s and peak RSS
# (/usr/bin/time -v). Prints a Markdown table.
#
#   scripts/bench-process.sh [CORPUS_DIR] [MIB] [RUNS]
#
# CORPUS_DIR (default target/corpus) is made when it holds no corpus: three
# logs of MIB MiB (default 256) and an archive of RUNS CodeBuild runs (default 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-target/corpus}
mib=${2:-256}
runs=${3:-10000}
for tool in hyperfine rg /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench-process.sh: $tool is needed (Debian: hyperfine ripgrep time)" >&2; exit 1; }
done
cargo build --release --locked --bin cachelens --bin make-corpus >&2
bin=${CARGO_TARGET_DIR:-target}/release
[ -f "$corpus/header-heavy.log" ] || "$bin/make-corpus" "$corpus" "$mib" "$runs" >&2

row() { # label, bytes, command…
  local label=$1 bytes=$2; shift 2
  local json rss
  json=$(mktemp)
  hyperfine -N --warmup 1 --runs 3 --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
  /usr/bin/time -f '%M' -o "$json.rss" "$@" >/dev/null 2>&1
  rss=$(tail -1 "$json.rss")
  python3 - "$json" "$label" "$bytes" "$rss" <<'PY'
import json, sys
j, label, size, rss = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
median = json.load(open(j))["results"][0]["median"]
mbs = f"{size / median / 1e6:,.0f}" if size else "–"
print(f"| {label} | {median:.3f} s | {mbs} | {rss / 1024:,.0f} MiB |")
PY
  rm -f "$json" "$json.rss"
}

echo "| command | median | MB/s | peak RSS |"
echo "|---|---|---|---|"
for shape in header-heavy output-heavy codebuild; do
  f=$corpus/$shape.log
  size=$(stat -c %s "$f")
  cat "$f" >/dev/null
  row "\`steps --format ndjson\` $shape" "$size" "$bin/cachelens" steps --format ndjson "$f"
  row "\`summary\` $shape" "$size" "$bin/cachelens" summary --color never "$f"
  row "\`rg -c '^#[0-9]+ (CACHED|DONE)'\` $shape" "$size" rg -c '^#[0-9]+ (CACHED|DONE)' "$f"
  row "\`wc -l\` $shape" "$size" wc -l "$f"
done
archive=$corpus/archive-$runs
if [ -d "$archive" ]; then
  for threads in 1 2; do
    out=$(mktemp -d)
    row "\`report --archive\` $runs runs, RAYON_NUM_THREADS=$threads" 0 \
      env RAYON_NUM_THREADS=$threads "$bin/cachelens" report --archive "$archive" --offline --force --out "$out/r"
    rm -rf "$out"
  done
fi
