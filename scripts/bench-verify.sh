#!/usr/bin/env bash
# Tamper-check benchmark (issue #6): `bulwark verify` of a project with ~1,800 installed
# packages against the tarballs in npm's cache, beside `sha512sum` over the same bytes, the
# physical limit of reading and hashing them once.
#
# "The same bytes" are what verify must read: every cached tarball named by the lockfile's
# integrity values (npm `_cacache/content-v2`, hashed to check the integrity) plus every regular
# file under node_modules (compared with the tarball's contents). sha512sum hashes each of them
# once, two processes in parallel like bulwark's two worker threads on this 2-core machine;
# bulwark additionally builds the inventory and gunzips/untars every tarball. On a machine shared
# with other work the wall times scatter; the CPU times (user+sys) are printed as well.
# The project is benches/scan-1500 installed with `npm ci` (shared with scripts/bench-scan.sh).
# Usage: scripts/bench-verify.sh [WORKDIR]   (default: /tmp/bulwark-bench-scan-1500; BULWARK_BIN=path
# skips the build)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/bulwark-bench-scan-1500}
command -v hyperfine >/dev/null || { echo "hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
mkdir -p "$work"
if ! cmp -s "$repo/benches/scan-1500/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules" ]; then
  cp "$repo/benches/scan-1500/package.json" "$repo/benches/scan-1500/package-lock.json" "$repo/benches/scan-1500/.npmrc" "$work/"
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
if [ -n "${BULWARK_BIN:-}" ]; then
  bin=$BULWARK_BIN   # an already built release binary
else
  cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p bulwark
  bin="${CARGO_TARGET_DIR:-$repo/target}/release/bulwark"
fi
cache="$(npm config get cache)/_cacache"
list="$work/verify-bytes.list"
python3 - "$work/package-lock.json" "$cache" "$work/node_modules" "$list" <<'PY'
import base64, json, os, sys
lock, cache, modules, out = sys.argv[1:]
paths, tarball_bytes, missing = [], 0, 0
seen = set()
for entry in json.load(open(lock))["packages"].values():
    sri = entry.get("integrity")
    if not sri or sri in seen:
        continue
    seen.add(sri)
    algorithm, digest = sri.split()[0].split("-", 1)
    hexdigest = base64.b64decode(digest).hex()
    path = os.path.join(cache, "content-v2", algorithm, hexdigest[:2], hexdigest[2:4], hexdigest[4:])
    if os.path.isfile(path):
        paths.append(path)
        tarball_bytes += os.path.getsize(path)
    else:
        missing += 1
installed_bytes = installed = 0
for root, dirs, files in os.walk(modules):
    for name in files:
        path = os.path.join(root, name)
        if os.path.isfile(path) and not os.path.islink(path):
            paths.append(path)
            installed += 1
            installed_bytes += os.path.getsize(path)
with open(out, "wb") as handle:
    handle.write(b"\0".join(p.encode() for p in paths) + b"\0")
print(f"tarballs in the npm cache: {len(seen) - missing} ({tarball_bytes/1e6:.1f} MB, {missing} not cached); "
      f"installed files: {installed} ({installed_bytes/1e6:.1f} MB)")
PY
"$bin" verify "$work" --format json > "$work/verify.json" || true
python3 - "$work/verify.json" <<'PY'
import json, sys
summary = json.load(open(sys.argv[1]))["summary"]
print("bulwark verify:", ", ".join(f"{k} {v}" for k, v in summary.items()))
PY
hyperfine --warmup 2 --runs "${RUNS:-10}" -i --export-json "$work/hyperfine-verify.json" \
  -n bulwark-verify "$bin verify $work --format json > /dev/null" \
  -n sha512sum "xargs -0 -n 512 -P 2 sha512sum < $list > /dev/null"
echo "peak memory (max RSS, KiB):"
/usr/bin/time -f "bulwark verify %M" "$bin" verify "$work" --format json > /dev/null || true
python3 - "$work/hyperfine-verify.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
b, s = results["bulwark-verify"], results["sha512sum"]
print(f"median: bulwark verify {b['median']*1000:.0f} ms, sha512sum {s['median']*1000:.0f} ms, ratio bulwark/sha512sum = {b['median']/s['median']:.2f}x")
print(f"min:    bulwark verify {b['min']*1000:.0f} ms, sha512sum {s['min']*1000:.0f} ms, ratio {b['min']/s['min']:.2f}x")
cb, cs = b["user"] + b["system"], s["user"] + s["system"]
print(f"CPU (user+sys, mean): bulwark verify {cb:.2f} s, sha512sum {cs:.2f} s, ratio {cb/cs:.2f}x")
PY
