#!/usr/bin/env bash
# Records every result of the engine, to check that a change (e.g. a speed-up) alters none:
# the `analyze` example on every package directory of the bench tree (scripts/bench-scan.sh
# installs it), on every cached popular tarball (download-popular.sh) and on the corpora
# (corpus.py). Compare two labels with golden-compare.py.
#
# Usage: scripts/accuracy/golden.sh LABEL [OUT_DIR]   (OUT_DIR default /tmp/bulwark-golden)
# Env: BENCH (default /tmp/bulwark-bench-scan-1500), POPULAR (default ~/.cache/bulwark-accuracy/popular),
#      CARGO_TARGET_DIR (default target-analysis).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
label=${1:?usage: golden.sh LABEL [OUT_DIR]}
out=${2:-/tmp/bulwark-golden}
bench=${BENCH:-/tmp/bulwark-bench-scan-1500}
popular=${POPULAR:-$HOME/.cache/bulwark-accuracy/popular}
target=${CARGO_TARGET_DIR:-$repo/target-analysis}
mkdir -p "$out"
(cd "$repo" && CARGO_TARGET_DIR=$target cargo build --release -q -p bulwark-analysis --example analyze)
engine=$target/release/examples/analyze
if [ -d "$bench/node_modules" ]; then
  (cd "$bench" && find node_modules -name package.json \
    | grep -E '(^|/)node_modules/(@[^/]+/)?[^/@][^/]*/package.json$' | sed 's#/package.json$##' | sort \
    | xargs -n 200 "$engine") > "$out/$label.bench.jsonl"
else
  echo "no bench tree at $bench (run scripts/bench-scan.sh once)" >&2
  : > "$out/$label.bench.jsonl"
fi
if compgen -G "$popular/*.tgz" > /dev/null; then
  ls "$popular"/*.tgz | xargs -n 50 "$engine" > "$out/$label.popular.jsonl"
else
  echo "no popular tarballs in $popular (run download-popular.sh)" >&2
  : > "$out/$label.popular.jsonl"
fi
python3 "$repo/scripts/accuracy/corpus.py" --engine "$engine" --no-build --json "$out/$label.corpus.json" > "$out/$label.corpus.txt"
echo "recorded $out/$label.{bench,popular}.jsonl and $out/$label.corpus.json"
