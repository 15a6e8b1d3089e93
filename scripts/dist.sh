#!/usr/bin/env bash
# Release artifacts of cachelens, for CI hosts that should not compile it:
#   dist/cachelens-<version>-<target>.tar.gz   stripped static (musl) binary, shell
#                                              completions, man page, README, LICENSE
#   dist/cachelens-<version>-py3-none-manylinux…musllinux….whl   the same binary as a
#                                              wheel (maturin, bindings = "bin")
#   dist/SHA256SUMS
# for x86_64-unknown-linux-musl and aarch64-unknown-linux-musl (CodeBuild arm1, Graviton).
#
#   scripts/dist.sh [--target TRIPLE]... [--out DIR]
#
# How, on a Debian machine with no prebuilt musl std to download: Debian's rustc-web
# 1.96 with its own library source (rust-web-src) builds std for the musl targets
# (`-Z build-std`, enabled on that stable compiler with RUSTC_BOOTSTRAP=1; the source
# matches the compiler exactly), Zig (the `ziglang` wheel) is the C compiler and
# linker with musl's libc and libunwind for both architectures, and maturin runs the
# one cargo build per target and makes the wheel. Missing tools are installed: the
# Debian packages when run as root, the Python ones in a venv under the target dir.
# The binary is built with the `dist` profile of Cargo.toml (size-optimised, thin LTO,
# panic = abort, stripped; the parser crate at opt-level 3).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=()
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --target) targets+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dist.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

say() { echo "dist.sh: $*" >&2; }
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
case "$target_dir" in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
export CARGO_TARGET_DIR=$target_dir
tools=$target_dir/dist-tools

# --- tools ---------------------------------------------------------------------------
debs=(rustc-web cargo-web rust-web-src)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "needs Debian's ${missing[*]} (apt-get install, as root)"; exit 1
  fi
fi
rustc=/usr/bin/rustc
library=$("$rustc" --print sysroot)/lib/rustlib/src/rust/library
[ -f "$library/Cargo.lock" ] || { say "no library source at $library (rust-web-src)"; exit 1; }

venv=$tools/venv
if [ ! -x "$venv/bin/maturin" ] || ! "$venv/bin/python" -c 'import ziglang' 2>/dev/null; then
  say "installing maturin and ziglang from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'maturin==1.16.0' 'ziglang==0.17.1'
fi

# Debian's toolchain first (its cargo and rustc), the venv's maturin, python and zig
export PATH="$venv/bin:/usr/bin:$PATH" RUSTC=$rustc RUSTC_BOOTSTRAP=1
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
say "$("$rustc" --version), $(cargo --version), maturin $(maturin --version | cut -d' ' -f2), zig $(python -m ziglang version)"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$target_dir/dist-stage
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# runs a built binary: natively, else under qemu-user (completions, man page)
run_bin() {
  local bin=$1; shift
  if "$bin" --version >/dev/null 2>&1; then "$bin" "$@"; return; fi
  local arch
  arch=$(file -b "$bin" | grep -q aarch64 && echo aarch64 || echo x86_64)
  if command -v "qemu-$arch-static" >/dev/null; then "qemu-$arch-static" "$bin" "$@"; return; fi
  say "cannot run $bin here (no qemu-$arch-static) to make its completions"; return 1
}

for t in "${targets[@]}"; do
  case "$t" in
    x86_64-unknown-linux-musl|aarch64-unknown-linux-musl) ;;
    *) say "target $t is not one dist.sh builds"; exit 2 ;;
  esac
  # Zig brings musl's crt objects and libc: rustc's own self-contained copies do not
  # exist for a std built from source
  var=CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS
  export "$var=-C link-self-contained=no"
  say "building $t"
  start=$(date +%s)
  maturin build --locked --profile dist --target "$t" --zig -Z build-std=std,panic_abort \
    --compatibility manylinux2014 --compatibility musllinux_1_2 --out "$out" >&2
  unset "$var"
  say "$t built in $(( $(date +%s) - start )) s"
  bin=$target_dir/$t/dist/cachelens
  [ -x "$bin" ] || { say "no binary at $bin"; exit 1; }

  name=cachelens-$version-$t
  rm -rf "${stage:?}/$name"
  mkdir -p "$stage/$name/complete" "$stage/$name/doc"
  cp "$bin" "$stage/$name/cachelens"
  cp README.md LICENSE "$stage/$name/"
  run_bin "$bin" --generate complete-bash > "$stage/$name/complete/cachelens.bash"
  run_bin "$bin" --generate complete-zsh > "$stage/$name/complete/_cachelens"
  run_bin "$bin" --generate complete-fish > "$stage/$name/complete/cachelens.fish"
  run_bin "$bin" --generate complete-powershell > "$stage/$name/complete/_cachelens.ps1"
  run_bin "$bin" --generate man > "$stage/$name/doc/cachelens.1"
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$stage" -cf - "$name" | gzip -9n > "$out/$name.tar.gz"
  say "$out/$name.tar.gz: binary $(stat -c %s "$bin") bytes"
done

(cd "$out" && rm -f SHA256SUMS && sha256sum -- *.tar.gz *.whl > SHA256SUMS)
say "wrote $out:"
ls -l "$out" >&2
