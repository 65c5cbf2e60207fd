#!/usr/bin/env bash
# Whole-scan benchmark (issue #2): `bulwark scan` of a project with ~1,500 installed packages
# (lockfile + node_modules walk) beside `npm ls --all --package-lock-only --json` on the same
# project, measured side by side in one run with hyperfine (medians), plus peak memory.
#
# The project is benches/scan-1500 (a committed package.json + package-lock.json); it is
# installed once with `npm ci --ignore-scripts` into a work directory outside the repository.
# `npm ls` exits 1 on this tree (peer-dependency problems it reports), hence hyperfine -i.
# Usage: scripts/bench-scan.sh [WORKDIR]   (default: /tmp/bulwark-bench-scan-1500)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/bulwark-bench-scan-1500}
command -v hyperfine >/dev/null || { echo "hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
mkdir -p "$work"
if ! cmp -s "$repo/benches/scan-1500/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules" ]; then
  cp "$repo/benches/scan-1500/package.json" "$repo/benches/scan-1500/package-lock.json" "$repo/benches/scan-1500/.npmrc" "$work/"
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p bulwark
bin="${CARGO_TARGET_DIR:-$repo/target}/release/bulwark"
packages=$(find "$work/node_modules" -name package.json -path '*node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*/package.json' | wc -l)
echo "installed package.json files (approx.): $packages"
"$bin" scan "$work" --format json -o /dev/null
hyperfine --warmup 2 --runs "${RUNS:-15}" -i --export-json "$work/hyperfine.json" \
  -n bulwark "$bin scan $work --format json -o /dev/null" \
  -n npm-ls "cd $work && npm ls --all --package-lock-only --json > /dev/null"
echo "peak memory (max RSS, KiB):"
/usr/bin/time -f "bulwark %M" "$bin" scan "$work" --format json -o /dev/null
(cd "$work" && /usr/bin/time -f "npm-ls %M" npm ls --all --package-lock-only --json > /dev/null 2>&1) || true
python3 - "$work/hyperfine.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
b, n = results["bulwark"]["median"], results["npm-ls"]["median"]
print(f"median: bulwark {b*1000:.1f} ms, npm ls {n*1000:.1f} ms, ratio npm-ls/bulwark = {n/b:.1f}x")
PY
