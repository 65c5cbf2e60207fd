#!/usr/bin/env bash
# Regenerates the release-age fixtures of tests/policy.rs: one two-package project
# (ms@2.1.3, left-pad@1.3.0; neither has dependencies) locked by each real package manager,
# and the two packuments recorded from the npm registry, trimmed to the fields bulwark reads
# (`name`, `time`). Needs scripts/install-tools.sh and the registry; the tests themselves
# never touch the network.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../../.." && pwd)"
export PATH="$REPO/.tools/bin:$PATH"
export COREPACK_ENABLE_STRICT=0 YARN_ENABLE_TELEMETRY=0 DO_NOT_TRACK=1 NO_COLOR=1
WORK="$(mktemp -d /tmp/bulwark-policy-fixtures.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

manifest() {
    mkdir -p "$1"
    cat >"$1/package.json" <<'JSON'
{
  "name": "age-fixture",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "left-pad": "1.3.0",
    "ms": "2.1.3"
  }
}
JSON
}

for manager in npm yarn1 yarn4 pnpm9 bun; do
    dir="$WORK/$manager"
    manifest "$dir"
    (
        cd "$dir"
        case "$manager" in
            npm) npm install --ignore-scripts --package-lock-only --omit-lockfile-registry-resolved=false >&2 ;;
            yarn1) yarn1 install --ignore-scripts --non-interactive --no-progress >&2 ;;
            yarn4) printf 'nodeLinker: node-modules\nenableTelemetry: false\n' >.yarnrc.yml
                   YARN_ENABLE_SCRIPTS=0 yarn4 install --no-immutable --mode=skip-build >&2 ;;
            pnpm9) pnpm9 install --ignore-scripts --lockfile-only >&2 ;;
            bun) bun install --ignore-scripts --no-progress --lockfile-only >&2 || bun install --ignore-scripts --no-progress >&2 ;;
        esac
    )
    mkdir -p "$HERE/age/$manager"
    cp "$dir/package.json" "$HERE/age/$manager/"
    for lockfile in package-lock.json yarn.lock pnpm-lock.yaml bun.lock; do
        [[ -f "$dir/$lockfile" ]] && cp "$dir/$lockfile" "$HERE/age/$manager/"
    done
done

mkdir -p "$HERE/packuments"
for name in ms left-pad; do
    curl -fsS "https://registry.npmjs.org/$name" |
        node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const p=JSON.parse(s);process.stdout.write(JSON.stringify({name:p.name,time:p.time},null,1)+"\n")})' \
        >"$HERE/packuments/$name.json"
done
