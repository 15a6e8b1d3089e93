#!/usr/bin/env bash
# The shipped artifacts, tested as users install them: scripts/dist.sh builds the
# tarballs and wheels of both targets from this checkout; then
#   - SHA256SUMS verifies, each tarball holds the binary, completions, man page,
#     README and LICENSE;
#   - `file` calls both binaries statically linked and `ldd` finds nothing to load;
#   - the x86_64 binary runs `summary` on a real log with an empty environment
#     (`env -i`) and inside an empty chroot (no loader, no libc, no /etc);
#   - the aarch64 binary runs the same under Debian's qemu-user-static and prints
#     the same JSON;
#   - the x86_64 wheel installs with pip into a fresh venv and its `cachelens` runs
#     from the venv's PATH; pip installs the aarch64 wheel for an aarch64 platform
#     and that binary runs under qemu.
# Needs root for the Debian packages it installs when missing (dist.sh's toolchain,
# qemu-user-static, file).
#
# Time: each target is a full release build of every crate (see scripts/dist.sh for
# what was measured). CI's limit is 90 min: tests/run.sh passes CACHELENS_CI_DEADLINE
# (epoch seconds); a target is built only while the time it needs remains before it
# (below), else it is SKIPPED, said on stderr and in the closing line.
# DIST_ARTIFACTS=DIR tests what scripts/dist.sh wrote in DIR, without building.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "tests/dist.sh: $*" >&2; }
passed=0
ok() { passed=$((passed + 1)); say "ok: $*"; }
fail() { say "FAILED: $*"; echo "$passed passed, 1 failed"; exit 1; }

missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
command -v file >/dev/null || missing+=(file)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { say "needs ${missing[*]} (Debian packages; run as root)"; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
case "$target_dir" in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
out=$target_dir/dist-test
start=$(date +%s)
built=()
skipped=()
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
if [ -n "${DIST_ARTIFACTS:-}" ]; then
  # test what an earlier scripts/dist.sh wrote there, without building
  out=$(cd "$DIST_ARTIFACTS" && pwd)
  for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
    [ -f "$out/cachelens-$version-$t.tar.gz" ] && built+=("$t")
  done
else
  rm -rf "$out"
fi
# the time a target is given: DIST_TARGET_MINUTES, else 45 min for the first and
# 1.25 × the first's for the second (as large a build; only the checks follow it)
need=$(( ${DIST_TARGET_MINUTES:-45} * 60 ))
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
  [ -z "${DIST_ARTIFACTS:-}" ] || break
  if [ -n "${CACHELENS_CI_DEADLINE:-}" ] &&
     [ $(( CACHELENS_CI_DEADLINE - $(date +%s) )) -lt "$need" ]; then
    say "SKIPPED $t: less than $(( need / 60 )) min left before CI's limit"
    skipped+=("$t")
    continue
  fi
  t0=$(date +%s)
  scripts/dist.sh --target "$t" --out "$out"
  took=$(( $(date +%s) - t0 ))
  say "scripts/dist.sh --target $t took $took s"
  [ -n "${DIST_TARGET_MINUTES:-}" ] || need=$(( took * 5 / 4 ))
  built+=("$t")
done
has() { local x; for x in "${built[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
if [ ${#built[@]} = 0 ]; then
  say "SKIPPED every target (no time left)"; echo "dist: 0 passed, 0 failed, ${#skipped[@]} skipped"; exit 0
fi

log=$PWD/sample-logs/real/nodeapp-partial-src-change.log
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$out" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not verify"
[ "$(wc -l < "$out/SHA256SUMS")" = $(( 2 * ${#built[@]} )) ] || fail "SHA256SUMS should list a tarball and a wheel per target"
ok "SHA256SUMS verifies a tarball and a wheel per target (${built[*]})"

for t in "${built[@]}"; do
  name=cachelens-$version-$t
  tar -xzf "$out/$name.tar.gz" -C "$work"
  for f in cachelens README.md LICENSE doc/cachelens.1 complete/cachelens.bash \
           complete/_cachelens complete/cachelens.fish complete/_cachelens.ps1; do
    [ -s "$work/$name/$f" ] || fail "$name.tar.gz lacks $f"
  done
  ok "$name.tar.gz holds the binary, completions, man page, README, LICENSE"
  bin=$work/$name/cachelens
  file -b "$bin" | grep -Eq "statically linked|static-pie linked" || fail "$t: file says $(file -b "$bin")"
  if ldd "$bin" >/dev/null 2>&1; then fail "$t: ldd lists libraries: $(ldd "$bin")"; fi
  ok "$t binary is static ($(file -b "$bin" | cut -d, -f1,2,5,6), $(stat -c %s "$bin") bytes)"
done
x86=$work/cachelens-$version-x86_64-unknown-linux-musl/cachelens
arm=$work/cachelens-$version-aarch64-unknown-linux-musl/cachelens
if has x86_64-unknown-linux-musl; then
  bash -n "$work/cachelens-$version-x86_64-unknown-linux-musl/complete/cachelens.bash" \
    || fail "the bash completions are not valid bash"
  grep -q '^\.SH "CACHELENS SUMMARY"' "$work/cachelens-$version-x86_64-unknown-linux-musl/doc/cachelens.1" \
    || fail "the man page has no summary section"
  ok "bash completions parse; the man page has each command"

  expected=$(env -i "$x86" summary --no-config --format json "$log") || fail "env -i x86_64 summary"
  echo "$expected" | grep -q '"hit_rate": 0.6' || fail "x86_64 summary: $expected"
  env -i "$x86" summary --no-config --color never "$log" | grep -q "60%" || fail "x86_64 table"
  ok "x86_64 binary runs summary with an empty environment"

  root=$work/root
  mkdir -p "$root"
  cp "$x86" "$root/cachelens"
  cp "$log" "$root/build.log"
  got=$(chroot "$root" /cachelens summary --no-config --format json /build.log) \
    || fail "x86_64 binary in an empty chroot"
  [ "$(echo "$got" | sed 's|/build.log|LOG|')" = "$(echo "$expected" | sed "s|$log|LOG|")" ] \
    || fail "chroot output differs"
  ok "x86_64 binary runs alone in an empty chroot (no loader, no libc)"

  python3 -m venv "$work/venv"
  "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
    "$out"/cachelens-"$version"-*x86_64*.whl || fail "pip install of the x86_64 wheel"
  got=$(env -i PATH="$work/venv/bin:/usr/bin:/bin" cachelens summary --no-config --format json "$log") \
    || fail "the wheel's cachelens"
  [ "$got" = "$expected" ] || fail "the wheel's cachelens prints another summary"
  [ "$(command -v "$work/venv/bin/cachelens")" = "$work/venv/bin/cachelens" ] || fail "no cachelens in the venv"
  extra=$(cd "$work/venv/bin" && ls make-* 2>/dev/null || true)
  [ -z "$extra" ] || fail "the wheel installs the repository's generators too: $extra"
  ok "x86_64 wheel installs with pip into a fresh venv; its cachelens runs from PATH"
else
  # no x86_64 build: the aarch64 one is compared with the debug build's summary
  expected=$("${target_dir}/debug/cachelens" summary --no-config --format json "$log")
  python3 -m venv "$work/venv"
fi

if has aarch64-unknown-linux-musl; then
  qemu-aarch64-static "$arm" --version | grep -q "cachelens $version" || fail "aarch64 --version under qemu"
  got=$(env -i /usr/bin/qemu-aarch64-static "$arm" summary --no-config --format json "$log") \
    || fail "aarch64 summary under qemu"
  [ "$got" = "$expected" ] || fail "aarch64 summary differs from x86_64's"
  ok "aarch64 binary starts under qemu-aarch64-static and prints the same summary"

  "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
    --only-binary=:all: --platform manylinux2014_aarch64 --target "$work/arm-site" \
    --find-links "$out" cachelens || fail "pip does not take the aarch64 wheel for manylinux2014_aarch64"
  got=$(qemu-aarch64-static "$work/arm-site/bin/cachelens" summary --no-config --format json "$log") \
    || fail "the aarch64 wheel's binary under qemu"
  [ "$got" = "$expected" ] || fail "the aarch64 wheel's binary prints another summary"
  ok "pip picks the aarch64 wheel for an aarch64 Linux; its binary runs under qemu"
fi

say "took $(( $(date +%s) - start )) s in all"
if [ ${#skipped[@]} -gt 0 ]; then
  echo "dist: $passed passed, 0 failed, ${#skipped[@]} skipped"
else
  echo "dist: $passed passed, 0 failed"
fi
