#!/usr/bin/env bash
# Load test of the registry gate (`bulwark serve`) with a warm cache, beside a plain static
# file server on the same HTTP stack serving the same bytes (the gate's overhead), and an
# optional soak with resident-memory sampling.
#
#   scripts/bench-serve.sh                 # 20 s per case: packument and tarball, gate and static
#   DURATION=60s CONNECTIONS=64 scripts/bench-serve.sh
#   AUDIT=0 scripts/bench-serve.sh         # without the audit log (one JSON line per tarball)
#   SOAK=600 scripts/bench-serve.sh soak   # 10 min of mixed load, RSS sampled every 10 s
#
# Needs wrk (`apt-get install wrk`), python3 and curl. The upstream is the fixture registry of
# the gate's tests, served by a small Python server (it only answers the warm-up requests).
# The load generator and the servers share the machine: on 2 cores, wrk takes one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-1}"
MODE="${1:-bench}"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
FIXTURES="$REPO/crates/bulwark-proxy/tests/fixtures/registry"
ABBREVIATED='Accept: application/vnd.npm.install-v1+json'

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet -p bulwark --bin bulwark
cargo build --release --quiet -p bulwark-proxy --example static_files
BULWARK="$TARGET/release/bulwark"
STATIC="$TARGET/release/examples/static_files"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# The upstream: the committed fixture registry.
UPSTREAM_PORT="$(free_port)"
python3 - "$FIXTURES" "$UPSTREAM_PORT" >/dev/null 2>&1 <<'PY' &
import http.server, os, sys
root, port = sys.argv[1], int(sys.argv[2])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split('?')[0].replace('%2f', '/').replace('%2F', '/')
        if '/-/' in path:
            name, file = path[1:].split('/-/')
            file = f"{root}/tarballs/{name.replace('/', '%2f')}__{file}"
        else:
            file = f"{root}/{path[1:].replace('/', '%2f')}.json"
        if not os.path.exists(file):
            self.send_response(404); self.end_headers(); return
        body = open(file, 'rb').read().replace(b'{{REGISTRY}}', f'http://127.0.0.1:{port}'.encode())
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
PY
PIDS+=($!)
wait_for "http://127.0.0.1:$UPSTREAM_PORT/ms"

# The gate, warmed: every packument and tarball fetched once.
GATE_PORT="$(free_port)"
AUDIT_ARGS=(--audit-log "$WORK/audit.jsonl")
[[ "${AUDIT:-1}" == 0 ]] && AUDIT_ARGS=()
"$BULWARK" serve --no-db --listen "127.0.0.1:$GATE_PORT" --upstream "http://127.0.0.1:$UPSTREAM_PORT" \
    --cache-dir "$WORK/cache" "${AUDIT_ARGS[@]}" 2>"$WORK/gate.log" &
GATE_PID=$!
PIDS+=($GATE_PID)
GATE="http://127.0.0.1:$GATE_PORT"
wait_for "$GATE/-/bulwark/health"
mkdir -p "$WORK/static"
for name in is-number ms is-odd; do
    curl -fs -H "$ABBREVIATED" "$GATE/$name" -o "$WORK/static/$name"
done
curl -fs "$GATE/is-number/-/is-number-7.0.0.tgz" -o "$WORK/static/is-number__-__is-number-7.0.0.tgz"
curl -fs "$GATE/ms/-/ms-2.1.2.tgz" -o "$WORK/static/ms__-__ms-2.1.2.tgz"
curl -fs "$GATE/is-odd/-/is-odd-3.0.1.tgz" -o "$WORK/static/is-odd__-__is-odd-3.0.1.tgz"

# The baseline: the same bytes from a plain static server.
STATIC_PORT="$(free_port)"
"$STATIC" "$WORK/static" "127.0.0.1:$STATIC_PORT" 2>/dev/null &
PIDS+=($!)
BASE="http://127.0.0.1:$STATIC_PORT"
wait_for "$BASE/ms"

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# run_wrk LABEL URL [wrk args]: prints "label req/s p50 p99".
run_wrk() {
    local label="$1" url="$2"
    shift 2
    local out
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")"
    local rps p50 p99 errors
    rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')"
    printf '%-34s %10s req/s   p50 %8s   p99 %8s   %s\n' "$label" "$rps" "$p50" "$p99" "$errors"
}

if [[ "$MODE" == "soak" ]]; then
    SOAK="${SOAK:-600}"
    cat >"$WORK/mixed.lua" <<'LUA'
local paths = {
  {"/is-number", true}, {"/ms", true}, {"/is-odd", true},
  {"/is-number/-/is-number-7.0.0.tgz", false}, {"/ms/-/ms-2.1.2.tgz", false},
  {"/is-odd/-/is-odd-3.0.1.tgz", false}, {"/-/bulwark/metrics", false},
}
local i = 0
request = function()
  i = i % #paths + 1
  local p = paths[i]
  local headers = {}
  if p[2] then headers["Accept"] = "application/vnd.npm.install-v1+json" end
  return wrk.format("GET", p[1], headers)
end
LUA
    echo "soak: ${SOAK}s of mixed packument/tarball/metrics load on $GATE, RSS every 10 s"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SOAK}s" --latency -s "$WORK/mixed.lua" "$GATE" >"$WORK/soak.txt" &
    WRK_PID=$!
    max=0
    start="$(rss_kib "$GATE_PID")"
    while kill -0 "$WRK_PID" 2>/dev/null; do
        rss="$(rss_kib "$GATE_PID")"
        (( rss > max )) && max="$rss"
        printf '%s rss_kib=%s\n' "$(date -u +%H:%M:%S)" "$rss"
        sleep 10
    done
    wait "$WRK_PID" || true
    cat "$WORK/soak.txt"
    echo "gate RSS: start ${start} KiB, max ${max} KiB, end $(rss_kib "$GATE_PID") KiB"
    exit 0
fi

echo "warm cache; wrk -t$THREADS -c$CONNECTIONS -d$DURATION; $(nproc) CPUs shared by wrk and the server"
run_wrk "gate   abbreviated packument" "$GATE/is-number" -H "$ABBREVIATED"
run_wrk "static same bytes"            "$BASE/is-number"
run_wrk "gate   tarball (3.7 KiB)"     "$GATE/is-number/-/is-number-7.0.0.tgz"
run_wrk "static same bytes"            "$BASE/is-number__-__is-number-7.0.0.tgz"
echo "gate RSS after the runs: $(rss_kib "$GATE_PID") KiB"
# The gate's own view (handler start to response built, without the socket and wrk's
# scheduling): share of all requests above answered within each bound.
curl -fs "$GATE/-/bulwark/metrics" | awk -F'[{}" ]+' '
    /^bulwark_request_duration_seconds_bucket/ { bucket[$3] = $4 }
    /^bulwark_request_duration_seconds_count/ { total = $2 }
    END {
        printf "gate server-side latency: %.2f%% <= 0.5 ms, %.2f%% <= 1 ms, %.3f%% <= 5 ms (of %d requests)\n",
            100 * bucket["0.0005"] / total, 100 * bucket["0.001"] / total, 100 * bucket["0.005"] / total, total
    }'

