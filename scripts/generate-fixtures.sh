#!/usr/bin/env bash
# Generates `crates/bulwark-lockfile/tests/fixtures/generated/<manager>/`: one template project
# installed by each real package manager (scripts disabled), keeping its manifests, its
# lockfile and its own full listing of what it installed. `tests/managers.rs` checks that
# bulwark's inventory of each lockfile equals the manager's listing.
#
# Run scripts/install-tools.sh first. Usage:
#   scripts/generate-fixtures.sh [npm|npm-v2|npm-v1|npm-shrinkwrap|pnpm7|pnpm8|pnpm9|pnpm10|yarn1|yarn4|bun ...]   (bun also makes bun-lockb)   (default: all)
#
# Installs happen in a temporary directory outside the repository; node_modules and caches
# are never copied into the fixtures. Absolute temporary paths in listings are replaced by
# `<fixture>`.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO/.tools"
OUT="$REPO/crates/bulwark-lockfile/tests/fixtures/generated"
CACHE="$TOOLS/cache"
WORK="$(mktemp -d /tmp/bulwark-fixtures.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

if [[ ! -x "$TOOLS/bin/bun" ]]; then
    printf 'error: run scripts/install-tools.sh first\n' >&2
    exit 2
fi
export PATH="$TOOLS/bin:$PATH"
# Keep every manager's global state out of $HOME and deterministic.
export COREPACK_ENABLE_STRICT=0 COREPACK_ENABLE_AUTO_PIN=0
export YARN_ENABLE_TELEMETRY=0 YARN_ENABLE_GLOBAL_CACHE=0
export BUN_INSTALL_CACHE_DIR="$CACHE/bun"
export DO_NOT_TRACK=1 NO_COLOR=1 FORCE_COLOR=0
mkdir -p "$OUT" "$CACHE"

log() { printf '\n== %s\n' "$*" >&2; }

# template <dir> <workspace specifier> <pnpm: yes|no>: writes the one dependency set.
#
#   - prod: chalk (2 levels of transitive deps), debug (pins ms@2.1.2), semver
#   - alias: "strip": "npm:strip-ansi@6.0.1"
#   - a tarball URL instead of a version: is-odd (pulls is-number@6, a second is-number)
#   - a local directory dependency: file:./vendor/local-dep, which pulls has-flag@3.0.0
#   - dev-only subtree: rimraf -> glob -> 9 packages nothing else uses
#   - optional platform packages: esbuild's 23 @esbuild/* optionals, and fsevents (darwin) as
#     a direct optionalDependency
#   - peer: react-dom's peer react, satisfied by the root
#   - workspace: packages/a depends on packages/b, on ms@2.1.3 (a second ms version) and on
#     react-dom@18.2.0 with react@18.3.1 (the same react-dom under a second peer react);
#     packages/b depends on is-number, on ms@3.0.0-canary.1 (a prerelease, a third ms) and on
#     JSONStream (an upper-case legacy name)
template() {
    local dir="$1" workspace_spec="$2" pnpm="$3"
    mkdir -p "$dir/packages/a" "$dir/packages/b" "$dir/vendor/local-dep"
    WS_SPEC="$workspace_spec" PNPM="$pnpm" DIR="$dir" node <<'EOF'
const fs = require("fs");
const write = (path, value) =>
  fs.writeFileSync(`${process.env.DIR}/${path}`, JSON.stringify(value, null, 2) + "\n");
const root = {
  name: "bulwark-fixture",
  version: "1.0.0",
  private: true,
  workspaces: ["packages/*"],
  dependencies: {
    chalk: "4.1.2",
    debug: "4.3.4",
    esbuild: "0.20.2",
    "is-odd": "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz",
    "bulwark-local-dep": "file:./vendor/local-dep",
    react: "18.2.0",
    "react-dom": "18.2.0",
    semver: "7.6.0",
    strip: "npm:strip-ansi@6.0.1",
  },
  devDependencies: { rimraf: "3.0.2" },
  optionalDependencies: { fsevents: "2.3.3" },
};
if (process.env.PNPM === "yes") delete root.workspaces;
write("package.json", root);
write("packages/a/package.json", {
  name: "@bulwark-fixture/a",
  version: "1.0.0",
  dependencies: {
    "@bulwark-fixture/b": process.env.WS_SPEC,
    ms: "2.1.3",
    react: "18.3.1",
    "react-dom": "18.2.0",
  },
});
write("packages/b/package.json", {
  name: "@bulwark-fixture/b",
  version: "1.0.0",
  dependencies: { "is-number": "7.0.0", JSONStream: "1.3.5", ms: "3.0.0-canary.1" },
});
write("vendor/local-dep/package.json", {
  name: "bulwark-local-dep",
  version: "1.0.0",
  dependencies: { "has-flag": "3.0.0" },
});
EOF
    if [[ "$pnpm" == yes ]]; then
        printf 'packages:\n  - "packages/*"\n' >"$dir/pnpm-workspace.yaml"
    fi
}

# keep <manager> <dir> <files...>: copies manifests and the given files into the fixture,
# replacing the temporary directory's path in them.
keep() {
    local manager="$1" dir="$2"
    shift 2
    local target="$OUT/$manager"
    rm -rf "$target"
    mkdir -p "$target/packages/a" "$target/packages/b" "$target/vendor/local-dep"
    local file
    for file in package.json packages/a/package.json packages/b/package.json \
        vendor/local-dep/package.json \
        pnpm-workspace.yaml .yarnrc.yml .npmrc "$@"; do
        if [[ -f "$dir/$file" ]]; then
            if [[ "$file" == *.lockb ]]; then
                cp "$dir/$file" "$target/$file"
            else
                sed -e "s#$dir#<fixture>#g" "$dir/$file" >"$target/$file"
            fi
        fi
    done
}

# listing <command...>: runs a listing command whose exit status may be non-zero when the
# manager merely reports problems (npm ls exits 1 for unmet optional/peer deps).
listing() {
    local status=0
    "$@" || status=$?
    if ((status != 0)); then
        printf 'note: `%s` exited with %d\n' "$*" "$status" >&2
    fi
}

# generate_npm <fixture> <lockfileVersion> [shrinkwrap]: npm install writing that lockfile
# version; with `shrinkwrap`, `npm shrinkwrap` then renames it to npm-shrinkwrap.json.
generate_npm() {
    local manager="$1" lockfile_version="$2" shrinkwrap="${3:-}" dir="$WORK/$1"
    local lockfile=package-lock.json
    template "$dir" 1.0.0 no
    log "$manager: npm $(npm --version), lockfileVersion $lockfile_version $shrinkwrap"
    (
        cd "$dir"
        npm install --ignore-scripts --omit-lockfile-registry-resolved=false \
            --lockfile-version="$lockfile_version" --no-audit --no-fund \
            --cache "$CACHE/npm" >&2
        if [[ -n "$shrinkwrap" ]]; then
            npm shrinkwrap --omit-lockfile-registry-resolved=false \
                --lockfile-version="$lockfile_version" --cache "$CACHE/npm" >&2
        fi
        listing npm ls --all --json >npm-ls.json
        listing npm ls --all --json --omit=dev >npm-ls-omit-dev.json
    )
    [[ -n "$shrinkwrap" ]] && lockfile=npm-shrinkwrap.json
    # Everyone else's lockfiles record `resolved`; make sure no npmrc setting dropped it.
    if ! grep -q '"resolved": "https://registry.npmjs.org/' "$dir/$lockfile"; then
        printf 'error: %s has no registry `resolved` URLs\n' "$lockfile" >&2
        return 1
    fi
    keep "$manager" "$dir" "$lockfile" npm-ls.json npm-ls-omit-dev.json
}

generate_pnpm() {
    local manager="$1" dir="$WORK/$1"
    template "$dir" 'workspace:*' yes
    log "$manager $("$manager" --version)"
    (
        cd "$dir"
        "$manager" install --no-frozen-lockfile --ignore-scripts --store-dir "$CACHE/$manager-store" \
            --config.confirmModulesPurge=false >&2
        listing "$manager" list --recursive --depth Infinity --json >pnpm-list.json
        listing "$manager" list --recursive --depth Infinity --json --no-optional \
            >pnpm-list-no-optional.json
    )
    keep "$manager" "$dir" pnpm-lock.yaml pnpm-list.json pnpm-list-no-optional.json
}

generate_yarn1() {
    local dir="$WORK/yarn1"
    template "$dir" 1.0.0 no
    log "yarn1 $(cd "$WORK" && yarn1 --version)"
    (
        cd "$dir"
        yarn1 install --ignore-scripts --non-interactive --no-progress \
            --cache-folder "$CACHE/yarn1" >&2
        listing yarn1 list --json --non-interactive >yarn-list.json
    )
    keep yarn1 "$dir" yarn.lock yarn-list.json
}

generate_yarn4() {
    local dir="$WORK/yarn4"
    template "$dir" 'workspace:*' no
    cat >"$dir/.yarnrc.yml" <<EOF
enableScripts: false
enableTelemetry: false
enableGlobalCache: false
cacheFolder: "$CACHE/yarn4"
nodeLinker: node-modules
EOF
    touch "$dir/yarn.lock"
    log "yarn4 $(cd "$WORK" && yarn4 --version)"
    (
        cd "$dir"
        YARN_ENABLE_SCRIPTS=0 yarn4 install --no-immutable --mode=skip-build >&2
        listing yarn4 info --all --recursive --json >yarn-info.ndjson
    )
    keep yarn4 "$dir" yarn.lock yarn-info.ndjson
    # The cache folder is a machine path and not part of the fixture.
    sed -i "/^cacheFolder:/d" "$OUT/yarn4/.yarnrc.yml"
}

# bun_install <fixture name> <dir>: installs and lists with bun, keeping the given lockfile.
bun_install() {
    local manager="$1" dir="$2" lockfile="$3"
    (
        cd "$dir"
        bun install --ignore-scripts --no-progress >&2
        listing bun pm ls --all >bun-pm-ls.txt
        listing bun pm ls --all --prod >bun-pm-ls-prod.txt
    )
    if [[ ! -f "$dir/$lockfile" ]]; then
        printf 'error: bun %s did not write %s\n' "$(bun --version)" "$lockfile" >&2
        return 1
    fi
    keep "$manager" "$dir" bunfig.toml "$lockfile" bun-pm-ls.txt bun-pm-ls-prod.txt
}

generate_bun() {
    local dir="$WORK/bun"
    template "$dir" 'workspace:*' no
    log "bun $(bun --version)"
    bun_install bun "$dir" bun.lock
    # bun >= 1.2 writes the text bun.lock by default; `saveTextLockfile = false` still makes
    # it write a new binary bun.lockb.
    dir="$WORK/bun-lockb"
    template "$dir" 'workspace:*' no
    printf '[install]\nsaveTextLockfile = false\n' >"$dir/bunfig.toml"
    bun_install bun-lockb "$dir" bun.lockb ||
        printf 'note: binary bun.lockb fixture skipped\n' >&2
}

managers=("$@")
if ((${#managers[@]} == 0)); then
    managers=(npm npm-v2 npm-v1 npm-shrinkwrap pnpm7 pnpm8 pnpm9 pnpm10 yarn1 yarn4 bun)
fi
for manager in "${managers[@]}"; do
    case "$manager" in
    npm) generate_npm npm 3 ;;
    npm-v2) generate_npm npm-v2 2 ;;
    npm-v1) generate_npm npm-v1 1 ;;
    npm-shrinkwrap) generate_npm npm-shrinkwrap 3 shrinkwrap ;;
    pnpm7 | pnpm8 | pnpm9 | pnpm10) generate_pnpm "$manager" ;;
    yarn1) generate_yarn1 ;;
    yarn4) generate_yarn4 ;;
    bun) generate_bun ;;
    *)
        printf 'error: unknown manager `%s`\n' "$manager" >&2
        exit 2
        ;;
    esac
done
