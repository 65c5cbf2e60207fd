#!/usr/bin/env bash
# Downloads the tarballs of scripts/accuracy/popular-packages.txt with `npm pack` (which fetches
# the registry tarball and runs nothing: --ignore-scripts) into a cache outside git.
# Usage: scripts/accuracy/download-popular.sh [CACHE_DIR]   (default ~/.cache/bulwark-accuracy/popular)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${1:-${BULWARK_ACCURACY_CACHE:-$HOME/.cache/bulwark-accuracy/popular}}"
mkdir -p "$cache"
grep -v '^\s*\(#\|$\)' "$here/popular-packages.txt" | xargs -P 4 -I{} sh -c '
  cd "$1" && npm pack --ignore-scripts --silent "$2" >/dev/null 2>>"$1/errors.log" || echo "failed: $2" >> "$1/errors.log"
' _ "$cache" {}
echo "$(ls "$cache"/*.tgz | wc -l) tarballs in $cache"
