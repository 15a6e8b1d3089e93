#!/usr/bin/env bash
# End to end on a real BuildKit: Debian's dockerd 20.10 (BuildKit v0.8) and
# docker-registry on loopback, the sample-logs/real/contexts Dockerfiles built
# cold, warm, after a source change (in a temp copy), with an inline cache
# exported, pushed and imported with --cache-from, a missing cache tag and a
# failing test; each output is read by cachelens and checked (hit rates, first
# misses, cache import/export; tests/e2e/check.py), and the same build's
# SolveStatus events, caught between the docker client and dockerd
# (tests/e2e/trace_proxy.py), must give the same records as rawjson.
#
#   usage: tests/e2e/dockerd.sh CACHELENS_BINARY      (as root; installs what it needs)
#   env:   KEEP_LOGS=DIR   copy every build's plain and rawjson log there
#
# Everything it starts (dockerd, its containerd, the registry, the proxy, a
# bridge) has its own names, sockets, ports and folders under one temp dir,
# and is stopped by PID on exit, failure included.
set -euo pipefail
SECONDS=0
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$(realpath "${1:?usage: $0 CACHELENS_BINARY}")
D=/usr/bin/docker   # Debian's 20.10 client: drives BuildKit without buildx

say() { printf 'e2e: %s\n' "$*"; }
if [ "$(id -u)" != 0 ]; then say "needs root (dockerd)"; exit 1; fi

# ------------------------------------------------------------ packages
need=()
[ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ] || need+=(docker.io)
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v ip >/dev/null || need+=(iproute2)
command -v python3 >/dev/null || need+=(python3)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ------------------------------------------------------------ state, cleanup
TMP=$(mktemp -d /tmp/cachelens-e2e.XXXXXX)
BR=cle2e$$                      # bridge of our own: no docker0 to share
BR=${BR:0:15}
DOCKERD_PID='' REGISTRY_PID='' PROXY_PID=''
stop() {   # stop one process we started, by PID: TERM, then KILL after 30 s
  local p=$1
  [ -n "$p" ] || return 0
  kill "$p" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$p" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  stop "$PROXY_PID"; stop "$REGISTRY_PID"; stop "$DOCKERD_PID"
  ip link del "$BR" 2>/dev/null || true
  # mounts dockerd left behind if it had to be killed
  awk -v t="$TMP" '$2 ~ "^"t {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  if [ $rc != 0 ] && [ -d "$TMP/logs" ]; then
    keep=$(mktemp -d /tmp/cachelens-e2e-failed.XXXXXX)
    cp -r "$TMP/logs" "$keep/" && say "the build logs are kept in $keep/logs"
  fi
  rm -rf "$TMP"
  say "$([ $rc = 0 ] && echo passed || echo FAILED) in ${SECONDS} s (dockerd end to end)"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a free /24 in 172.31.0.0/16 for the bridge, and a free loopback port for the registry
SUBNET=''
for n in $(seq 200 250); do
  ip -4 addr | grep -q " 172\.31\.$n\." || { SUBNET=172.31.$n; break; }
done
[ -n "$SUBNET" ] || { say "no free 172.31.x.0/24 for the bridge"; exit 1; }
ip link add name "$BR" type bridge
ip addr add "$SUBNET.1/24" dev "$BR"
ip link set "$BR" up
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT

# ------------------------------------------------------------ daemons
say "starting dockerd (data, exec root, socket under $TMP; bridge $BR)"
/usr/sbin/dockerd --iptables=false --ip-masq=false --storage-driver=overlay2 \
  --bridge="$BR" --data-root "$TMP/data" --exec-root "$TMP/exec" \
  --pidfile "$TMP/dockerd.pid" -H "unix://$TMP/docker.sock" \
  > "$TMP/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 1 120); do
  DOCKER_HOST=unix://$TMP/docker.sock $D info >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || break
  sleep 0.5
done
if ! DOCKER_HOST=unix://$TMP/docker.sock $D info >/dev/null 2>&1; then
  say "dockerd did not start:"; tail -20 "$TMP/dockerd.log"; exit 1
fi

python3 "$HERE/trace_proxy.py" serve "$TMP/proxy.sock" "$TMP/docker.sock" "$TMP/records" \
  > "$TMP/proxy.log" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 50); do [ -S "$TMP/proxy.sock" ] && break; sleep 0.1; done
export DOCKER_HOST=unix://$TMP/proxy.sock

say "starting docker-registry on $REG"
cat > "$TMP/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $TMP/registry-data}
  delete: {enabled: true}
http:
  addr: $REG
EOF
/usr/bin/docker-registry serve "$TMP/registry.yml" > "$TMP/registry.log" 2>&1 &
REGISTRY_PID=$!
python3 - "$REG" <<'EOF' || { say "registry did not start"; tail -5 "$TMP/registry.log"; exit 1; }
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
EOF

# ------------------------------------------------------------ base image (no Docker Hub)
RF=$TMP/rootfs
mkdir -p "$RF"/{bin,tmp,etc,root,usr/bin,usr/sbin,sbin,proc,sys,dev}
cp /bin/busybox "$RF/bin/busybox"
for a in $("$RF/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$RF/bin/$a"; done
chmod 1777 "$RF/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' > "$RF/etc/passwd"; echo 'root:x:0:' > "$RF/etc/group"
tar -C "$RF" -c . | $D import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["sh"]' - local/busybox:1 >/dev/null

mkdir -p "$TMP/ctx" "$TMP/logs"
cp -a "$ROOT/sample-logs/real/contexts/." "$TMP/ctx/"

clean() {   # no build cache, no image but the base image
  local base; base=$($D images -q local/busybox:1)
  $D images -q | sort -u | grep -v "^$base\$" | xargs -r $D image rm -f >/dev/null 2>&1 || true
  $D builder prune -af >/dev/null
}

# build NAME DIR WANT_RC EXPECTED_JSON docker-build-args...
build() {
  local name=$1 dir=$2 want=$3 expected=$4 rc=0 record; shift 4
  local before; before=$(ls "$TMP/records" 2>/dev/null | wc -l)
  (cd "$dir" && DOCKER_BUILDKIT=1 $D build --progress=plain "$@" .) > "$TMP/logs/$name.log" 2>&1 || rc=$?
  if [ "$rc" != "$want" ]; then
    say "$name: docker build exited $rc, expected $want:"; tail -20 "$TMP/logs/$name.log"; exit 1
  fi
  record=$(ls "$TMP/records" | sort | tail -n +"$((before + 1))" | tail -1)
  [ -n "$record" ] || { say "$name: no /build response was caught"; exit 1; }
  python3 "$HERE/trace_proxy.py" rawjson "$TMP/records/$record" > "$TMP/logs/$name.rawjson.log"
  python3 "$HERE/check.py" "$BIN" "$name" "$TMP/logs/$name.log" "$TMP/logs/$name.rawjson.log" "$expected"
  if [ -n "${KEEP_LOGS:-}" ]; then
    mkdir -p "$KEEP_LOGS"; cp "$TMP/logs/$name.log" "$TMP/logs/$name.rawjson.log" "$KEEP_LOGS/"
  fi
}

# tty NAME DIR WANT_RC PLAIN_NAME EXPECTED_JSON docker-build-args...: the build on a
# pseudo-terminal (script), read from its final frame, against the plain build PLAIN_NAME
tty() {
  local name=$1 dir=$2 want=$3 plain=$4 expected=$5 rc=0 args; shift 5
  printf -v args ' %q' "$@"
  script -qefc "cd $(printf %q "$dir") && DOCKER_BUILDKIT=1 $D build --progress=tty$args ." \
    "$TMP/logs/$name.log" > /dev/null 2>&1 < /dev/null || rc=$?
  if [ "$rc" != "$want" ]; then
    say "$name: docker build exited $rc, expected $want:"; tail -20 "$TMP/logs/$name.log"; exit 1
  fi
  python3 "$HERE/check.py" "$BIN" "$name" --tty "$TMP/logs/$name.log" "$TMP/logs/$plain.log" "$expected"
  if [ -n "${KEEP_LOGS:-}" ]; then cp "$TMP/logs/$name.log" "$KEEP_LOGS/"; fi
}

# ------------------------------------------------------------ local cache
N=$TMP/ctx/nodeapp
clean
build nodeapp-cold "$N" 0 '{"cacheable": 5, "cached": 0, "hit_rate": 0.0, "first_miss": "[2/6] WORKDIR /app", "imports": [], "exports": []}' -t app:dev
build nodeapp-warm "$N" 0 '{"cacheable": 5, "cached": 5, "hit_rate": 1.0, "first_miss": null}' -t app:dev
tty nodeapp-warm-tty "$N" 0 nodeapp-warm '{"cacheable": 5, "cached": 5, "hit_rate": 1.0}' -t app:dev
sed -i 's/hello v1/hello v2/' "$N/src/index.js"
build nodeapp-src-change "$N" 0 '{"cacheable": 5, "cached": 3, "hit_rate": 0.6, "first_miss": "[5/6] COPY . ."}' -t app:dev

M=$TMP/ctx/multistage
clean
build multistage-cold "$M" 0 '{"cacheable": 9, "cached": 0, "hit_rate": 0.0}' -t web:dev
build multistage-warm "$M" 0 '{"cacheable": 9, "cached": 9, "hit_rate": 1.0, "first_miss": null}' -t web:dev
echo 'echo "listening on :8080"' >> "$M/backend/server.sh"
build multistage-backend-change "$M" 0 '{"cacheable": 9, "cached": 5}' -t web:dev

build failing-test "$TMP/ctx/failing" 1 '{"status": {"error": 1}, "error_contains": "exit code: 1"}' -t failing:dev
build failing-test-rerun "$TMP/ctx/failing" 1 '{"status": {"error": 1}, "cached": 2}' -t failing:dev
tty failing-test-tty "$TMP/ctx/failing" 1 failing-test-rerun '{"cacheable": 4, "cached": 2}' -t failing:dev

# ------------------------------------------------------------ registry (inline) cache
clean
build inline-cache-export "$N" 0 '{"cacheable": 5, "cached": 0, "exports": ["exporting cache"]}' \
  --build-arg BUILDKIT_INLINE_CACHE=1 -t "$REG/app:latest"
$D push "$REG/app:latest" > "$TMP/logs/push.log" 2>&1 || { say "docker push failed:"; tail "$TMP/logs/push.log"; exit 1; }
clean
build cache-from-registry "$N" 0 "{\"cacheable\": 5, \"cached\": 5, \"hit_rate\": 1.0, \"first_miss\": null, \"imports\": [{\"ref\": \"$REG/app:latest\", \"ok\": true}]}" \
  --cache-from "$REG/app:latest" -t app:from-cache
clean
build cache-from-missing-tag "$N" 0 "{\"cacheable\": 5, \"cached\": 0, \"imports\": [{\"ref\": \"$REG/app:missing\", \"ok\": false, \"error_contains\": \"not found\"}]}" \
  --cache-from "$REG/app:missing" -t app:from-cache
