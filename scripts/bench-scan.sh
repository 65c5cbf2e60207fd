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
cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p bulwark-analysis --example parse_floor
bin="${CARGO_TARGET_DIR:-$repo/target}/release/bulwark"
floor="${CARGO_TARGET_DIR:-$repo/target}/release/examples/parse_floor"
packages=$(find "$work/node_modules" -name package.json -path '*node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*/package.json' | wc -l)
echo "installed package.json files (approx.): $packages"
"$bin" scan "$work" --no-analysis --format json -o /dev/null || true
echo "== inventory + known-bad matching (issue #2), beside npm ls"
hyperfine --warmup 2 --runs "${RUNS:-15}" -i --export-json "$work/hyperfine.json" \
  -n bulwark "$bin scan $work --no-analysis --format json -o /dev/null" \
  -n npm-ls "cd $work && npm ls --all --package-lock-only --json > /dev/null"
echo "peak memory (max RSS, KiB):"
/usr/bin/time -f "bulwark %M" "$bin" scan "$work" --no-analysis --format json -o /dev/null || true
(cd "$work" && /usr/bin/time -f "npm-ls %M" npm ls --all --package-lock-only --json > /dev/null 2>&1) || true
python3 - "$work/hyperfine.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
b, n = results["bulwark"]["median"], results["npm-ls"]["median"]
print(f"median: bulwark {b*1000:.1f} ms, npm ls {n*1000:.1f} ms, ratio npm-ls/bulwark = {n/b:.1f}x")
PY
echo "== full scan with code analysis (issue #3): cold cache, warm cache, and ripgrep over the same files"
# The machine may be shared: the load average is part of the result.
echo "load before the analysis benchmark: $(cut -d' ' -f1-3 /proc/loadavg)"
bytes=$(find "$work/node_modules" -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' -o -name '*.ts' -o -name '*.json' \) -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "bytes of js/ts/json under node_modules: $bytes"
hyperfine --runs "${ANALYSIS_RUNS:-5}" -i --export-json "$work/hyperfine-analysis.json" \
  --prepare "rm -f $work/bench-cache.db" \
  -n analysis-cold "$bin scan $work --cache $work/bench-cache.db --fail-on never --format json -o /dev/null" \
  -n rg "rg -uuu --count-matches -e child_process -g '*.{js,cjs,mjs,ts,json}' $work/node_modules > /dev/null" \
  -n parse-only "$floor parse $work/node_modules"
# Peak memory of a cold full analysis: median of 3 runs (max RSS, KiB).
for run in 1 2 3; do
  rm -f "$work/bench-cache.db"
  /usr/bin/time -f "%M" -o "$work/rss.$run" "$bin" scan "$work" --cache "$work/bench-cache.db" --fail-on never --format json -o /dev/null || true
done
echo "bulwark analysis-cold peak RSS (KiB, median of 3): $(cat "$work"/rss.[123] | sort -n | sed -n 2p)"
hyperfine --warmup 1 --runs "${ANALYSIS_RUNS:-5}" -i \
  -n analysis-warm "$bin scan $work --cache $work/bench-cache.db --fail-on never --format json -o /dev/null"
python3 - "$work/hyperfine-analysis.json" "$bytes" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]) / 1e6
a, r = results["analysis-cold"]["median"], results["rg"]["median"]
print(f"median: analysis {a:.2f} s ({size/a:.0f} MB/s), rg {r:.2f} s ({size/r:.0f} MB/s), bulwark at {100*r/a:.0f}% of ripgrep's throughput")
# CPU time (user + system) is steadier than wall time when the machine is shared.
cpu = {name: results[name]["user"] + results[name]["system"] for name in ("analysis-cold", "rg")}
p = results["parse-only"]["median"]
print(f"floor: reading and oxc-parsing the same scripts, nothing else: {p:.2f} s, at {100*r/p:.0f}% of ripgrep's throughput; "
      f"the full analysis costs {a/p:.1f}x that parse")
print(f"min: analysis {results['analysis-cold']['min']:.2f} s, rg {results['rg']['min']:.2f} s; "
      f"CPU (user+sys, mean): analysis {cpu['analysis-cold']:.2f} s, rg {cpu['rg']:.2f} s, "
      f"bulwark at {100*cpu['rg']/cpu['analysis-cold']:.1f}% of ripgrep's CPU throughput")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
