#!/usr/bin/env bash
# Installs the JavaScript package managers that generate bulwark's lockfile fixtures into
# `<repo>/.tools` (gitignored), from the npm registry only, at exactly pinned versions.
#
# Idempotent: a tool whose pinned version is already installed is left alone. Nothing here
# runs install scripts, so nothing downloads from anywhere but the npm registry (bun's own
# postinstall would fetch from GitHub; its binary comes from the `@oven/bun-linux-x64`
# optional dependency instead).
#
# Usage: scripts/install-tools.sh        then   source .tools/env.sh
set -euo pipefail

PNPM7_VERSION=7.33.7
PNPM8_VERSION=8.15.9
PNPM9_VERSION=9.15.9
PNPM10_VERSION=10.34.9
YARN1_VERSION=1.22.22
YARN4_VERSION=4.18.1
BUN_VERSION=1.4.5

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO/.tools"
mkdir -p "$TOOLS"

log() { printf '%s\n' "$*" >&2; }

# installed_version <prefix> <package name>: the version of a package installed globally
# under <prefix>, or nothing.
installed_version() {
    local manifest="$1/lib/node_modules/$2/package.json"
    [[ -f "$manifest" ]] && node -p "require('$manifest').version" 2>/dev/null || true
}

# install <dir> <package> <version>: `npm install -g` into its own prefix, scripts disabled.
install() {
    local prefix="$TOOLS/$1" package="$2" version="$3"
    if [[ "$(installed_version "$prefix" "$package")" == "$version" ]]; then
        log "$package@$version already in $prefix"
        return
    fi
    log "installing $package@$version into $prefix"
    rm -rf "$prefix"
    npm install --global --prefix "$prefix" --ignore-scripts --no-audit --no-fund \
        "$package@$version" >&2
}

install pnpm7 pnpm "$PNPM7_VERSION"
install pnpm8 pnpm "$PNPM8_VERSION"
install pnpm9 pnpm "$PNPM9_VERSION"
install pnpm10 pnpm "$PNPM10_VERSION"
install yarn1 yarn "$YARN1_VERSION"
install yarn4 @yarnpkg/cli-dist "$YARN4_VERSION"
install bun bun "$BUN_VERSION"

# bun's binary ships in a per-platform optional dependency; its postinstall (skipped) would
# only move it into place or download it from GitHub.
BUN_BINARY="$TOOLS/bun/lib/node_modules/bun/node_modules/@oven/bun-linux-x64/bin/bun"
if [[ ! -x "$BUN_BINARY" ]]; then
    # Older npm versions hoist optional dependencies of global packages differently.
    BUN_BINARY="$(find "$TOOLS/bun" -path '*@oven/bun-linux-x64/bin/bun' -type f | head -n1)"
fi
if [[ -z "$BUN_BINARY" || ! -f "$BUN_BINARY" ]]; then
    log "error: @oven/bun-linux-x64 was not installed; bun is unavailable"
    exit 1
fi
chmod +x "$BUN_BINARY"

# One wrapper per tool, so scripts call `pnpm9`, `pnpm10`, `yarn1`, `yarn4` and `bun`.
mkdir -p "$TOOLS/bin"
wrapper() {
    local name="$1"
    shift
    printf '#!/usr/bin/env bash\nexec %s "$@"\n' "$*" >"$TOOLS/bin/$name"
    chmod +x "$TOOLS/bin/$name"
}
wrapper pnpm7 node "$TOOLS/pnpm7/lib/node_modules/pnpm/bin/pnpm.cjs"
wrapper pnpm8 node "$TOOLS/pnpm8/lib/node_modules/pnpm/bin/pnpm.cjs"
wrapper pnpm9 node "$TOOLS/pnpm9/lib/node_modules/pnpm/bin/pnpm.cjs"
wrapper pnpm10 node "$TOOLS/pnpm10/lib/node_modules/pnpm/bin/pnpm.cjs"
wrapper yarn1 node "$TOOLS/yarn1/lib/node_modules/yarn/bin/yarn.js"
wrapper yarn4 node "$TOOLS/yarn4/lib/node_modules/@yarnpkg/cli-dist/bin/yarn.js"
wrapper bun "$BUN_BINARY"
printf 'export PATH="%s:$PATH"\n' "$TOOLS/bin" >"$TOOLS/env.sh"

# Print the versions each tool reports about itself (run outside any project, so no
# `packageManager` field or `.yarnrc.yml` interferes).
cd "$TOOLS"
printf 'node   %s\n' "$(node --version)"
printf 'npm    %s\n' "$(npm --version)"
printf 'pnpm7  %s\n' "$("$TOOLS/bin/pnpm7" --version)"
printf 'pnpm8  %s\n' "$("$TOOLS/bin/pnpm8" --version)"
printf 'pnpm9  %s\n' "$("$TOOLS/bin/pnpm9" --version)"
printf 'pnpm10 %s\n' "$("$TOOLS/bin/pnpm10" --version)"
printf 'yarn1  %s\n' "$("$TOOLS/bin/yarn1" --version)"
printf 'yarn4  %s\n' "$(COREPACK_ENABLE_STRICT=0 "$TOOLS/bin/yarn4" --version)"
printf 'bun    %s\n' "$("$TOOLS/bin/bun" --version)"
