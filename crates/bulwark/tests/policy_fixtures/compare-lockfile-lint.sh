#!/usr/bin/env bash
# Compares what lockfile-lint and bulwark's policy catch on the same npm and yarn 1
# lockfiles: the fixtures npm and yarn 1 wrote (crates/bulwark-lockfile/tests/fixtures/
# generated/{npm,yarn1}), untouched and with one planted problem each (the plantings of
# tests/policy.rs). lockfile-lint is installed into /tmp, never into the repository.
#
#   crates/bulwark/tests/policy_fixtures/compare-lockfile-lint.sh [path/to/bulwark]
#
# Prints one Markdown table row per scenario and lockfile: caught (exit != 0) or not.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../../.." && pwd)"
BULWARK="${1:-$REPO/target/release/bulwark}"
LINT_PREFIX=/tmp/lockfile-lint
if [[ ! -x "$LINT_PREFIX/node_modules/.bin/lockfile-lint" ]]; then
    npm install --prefix "$LINT_PREFIX" --no-audit --no-fund lockfile-lint@5.0.1 >&2
fi
LINT="$LINT_PREFIX/node_modules/.bin/lockfile-lint"
WORK="$(mktemp -d /tmp/bulwark-vs-lockfile-lint.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# The strict policy of tests/policy.rs, plus a deny list and an install-script allowlist
# without esbuild (so its install script is reported).
policy() {
    cat <<'TOML'
[registries]
level = "deny"
allow = ["registry.npmjs.org", "registry.yarnpkg.com"]
[sources]
git = "deny"
remote-tarball = "deny"
file = "deny"
link = "deny"
allow = [
  { name = "is-odd", reason = "pinned tarball URL dependency" },
  { name = "bulwark-local-dep", reason = "our vendored helper" },
]
[integrity]
missing = "deny"
weak = "deny"
ignore = [{ name = "is-odd", reason = "yarn 1 records only the sha1 of URL dependencies" }]
[resolved-url]
level = "deny"
[pinning]
dependencies = "deny"
[drift]
level = "deny"
[packages]
deny = [{ name = "semver", version = "7.6.0", reason = "example deny entry" }]
[install-scripts]
level = "deny"
allow = [{ name = "esbuild", version = "0.20.2", reason = "its binary" }]
TOML
}

SRI="sha512-oKnbhFyRIXpUuez8iBMmyEa4nbj4IOQyuhc/wy9kY7/WVPcwIO9VA668Pu8RkO7+0G76SLROeyw9CpQ061i4mA=="
SHA1="sha1-qsTit3NKdAhnrrFr8CqtVWoeegE="

# plant <dir> <manager> <scenario>
plant() {
    local dir="$1" manager="$2" scenario="$3" lock
    if [[ "$manager" == npm ]]; then lock="$dir/package-lock.json"; else lock="$dir/yarn.lock"; fi
    local chalk_url='https://registry.npmjs.org/chalk/-/chalk-4.1.2.tgz'
    [[ "$manager" == yarn1 ]] && chalk_url='https://registry.yarnpkg.com/chalk/-/chalk-4.1.2.tgz'
    case "$scenario" in
        untouched) ;;
        http) sed -i "s#\"${chalk_url}#\"${chalk_url/https:/http:}#" "$lock" ;;
        evil-host) sed -i "s#\"${chalk_url}#\"https://npm.evil.example/chalk/-/chalk-4.1.2.tgz#" "$lock" ;;
        name-swap) sed -i "s#\"${chalk_url}#\"${chalk_url%/chalk/-/chalk-4.1.2.tgz}/chalk-evil/-/chalk-evil-4.1.2.tgz#" "$lock" ;;
        version-swap) sed -i "s#\"${chalk_url}#\"${chalk_url%-4.1.2.tgz}-4.1.3.tgz#" "$lock" ;;
        no-integrity) grep -v "integrity.*$SRI" "$lock" >"$lock.new" && mv "$lock.new" "$lock" ;;
        sha1) sed -i "s#$SRI#$SHA1#" "$lock" ;;
        range) sed -i 's#"chalk": "4.1.2"#"chalk": "^4.1.2"#' "$dir/package.json" ;;
        drift) sed -i 's#"chalk": "4.1.2"#"chalk": "5.0.0"#' "$dir/package.json" ;;
        install-script) policy | sed "/example deny entry/d" | sed 's#version = "0.20.2", reason = "its binary"#version = "0.19.x", reason = "an older pin"#' >"$dir/bulwark.toml" ;;
        denied) ;;
    esac
}

printf '| lockfile | planted | lockfile-lint | bulwark |\n| --- | --- | --- | --- |\n'
for manager in npm yarn1; do
    for scenario in untouched http evil-host name-swap version-swap no-integrity sha1 range drift install-script denied; do
        dir="$WORK/$manager-$scenario"
        mkdir -p "$dir"
        cp -r "$REPO/crates/bulwark-lockfile/tests/fixtures/generated/$manager/." "$dir/"
        policy >"$dir/bulwark.toml"
        [[ "$scenario" == denied ]] || sed -i '/example deny entry/d' "$dir/bulwark.toml"
        plant "$dir" "$manager" "$scenario"
        if [[ "$manager" == npm ]]; then lock=package-lock.json; type=npm; else lock=yarn.lock; type=yarn; fi
        if (cd "$dir" && "$LINT" --path "$lock" --type "$type" --validate-https --allowed-hosts npm yarn \
            --validate-package-names --validate-integrity --allowed-package-name-aliases strip:strip-ansi \
            >"$dir/lint.txt" 2>&1); then lint="-"; else lint="caught"; fi
        if "$BULWARK" scan "$dir" --offline --no-db --no-analysis --format json >"$dir/bulwark.json" 2>/dev/null; then
            ours="-"
        else
            ours="caught: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(", ".join(sorted({v["check"] for v in r["policy"]["violations"] if v["level"]=="deny"})))' "$dir/bulwark.json")"
        fi
        printf '| %s | %s | %s | %s |\n' "$lock ($manager)" "$scenario" "$lint" "$ours"
    done
done
