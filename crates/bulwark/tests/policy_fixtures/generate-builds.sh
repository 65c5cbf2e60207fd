#!/usr/bin/env bash
# Regenerates the build-allowlist fixtures of tests/policy.rs: a project depending on
# esbuild@0.20.2 (a postinstall script) locked by the real pnpm 10 and bun, each with the
# manager's own build allowlist set in a different way (see README.md). Scripts are never
# run (--ignore-scripts); the installed esbuild package.json is kept as
# builds/esbuild.package.json for the tests to plant. Needs scripts/install-tools.sh and the
# registry; the tests themselves never touch the network.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../../.." && pwd)"
export PATH="$REPO/.tools/bin:$PATH"
export DO_NOT_TRACK=1 NO_COLOR=1
WORK="$(mktemp -d /tmp/bulwark-build-fixtures.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# manifest DIR [EXTRA_JSON_FIELDS]
manifest() {
    mkdir -p "$1"
    printf '{\n  "name": "builds-fixture",\n  "version": "1.0.0",\n  "private": true,\n  "dependencies": {\n    "esbuild": "0.20.2"\n  }%s\n}\n' "${2:-}" >"$1/package.json"
}

# variant MANAGER NAME [EXTRA_JSON_FIELDS] [PNPM_WORKSPACE_YAML]
variant() {
    local manager="$1" name="$2" dir="$WORK/$1-$2"
    manifest "$dir" "${3:-}"
    [[ -n "${4:-}" ]] && printf '%s' "$4" >"$dir/pnpm-workspace.yaml"
    (
        cd "$dir"
        case "$manager" in
            pnpm10) pnpm10 install --ignore-scripts >&2 ;;
            bun) bun install --ignore-scripts --no-progress >&2 ;;
        esac
    )
    mkdir -p "$HERE/builds/$manager-$name"
    for file in package.json pnpm-workspace.yaml pnpm-lock.yaml bun.lock; do
        [[ -f "$dir/$file" ]] && cp "$dir/$file" "$HERE/builds/$manager-$name/"
    done
    cp "$dir/node_modules/esbuild/package.json" "$HERE/builds/esbuild.package.json"
}

variant pnpm10 default
variant pnpm10 only-built-esbuild '' $'onlyBuiltDependencies:\n  - esbuild\n'
variant pnpm10 only-built-other '' $'onlyBuiltDependencies:\n  - left-pad\n'
variant pnpm10 never-built-esbuild $',\n  "pnpm": {\n    "neverBuiltDependencies": ["esbuild"]\n  }'
variant pnpm10 package-json-only-built $',\n  "pnpm": {\n    "onlyBuiltDependencies": ["esbuild"]\n  }'
variant pnpm10 allow-builds-true '' $'allowBuilds:\n  esbuild: true\n'
variant pnpm10 allow-builds-false '' $'allowBuilds:\n  esbuild: false\n'
variant bun default
variant bun trusted-esbuild $',\n  "trustedDependencies": ["esbuild"]'
variant bun trusted-other $',\n  "trustedDependencies": ["left-pad"]'
