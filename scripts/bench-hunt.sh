#!/usr/bin/env bash
# Benchmark of `bulwark hunt` against ripgrep's directory walk (`rg --files`) over the same
# generated tree of at least 500,000 files, with hyperfine; prints both medians and the ratio
# (target: hunt within 1.5x of ripgrep).
#
# The tree looks like a developer machine: many projects, each with a package.json, a
# lockfile and an installed node_modules tree (packages with a package.json and source
# files), an npm cache index, a .git directory and a few workflow files. Generated once under
# /tmp (reused while its file count matches), never inside the repository.
#
# Usage: scripts/bench-hunt.sh [TREE_DIR]   (env: PROJECTS, PACKAGES, FILES, RUNS)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TREE="${1:-/tmp/bulwark-hunt-bench}"
PROJECTS="${PROJECTS:-1000}"      # projects
PACKAGES="${PACKAGES:-40}"        # installed packages per project
FILES="${FILES:-12}"              # files per package besides package.json
RUNS="${RUNS:-7}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target-hunt}"

for tool in hyperfine rg python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done

MARKER="$TREE/.generated-$PROJECTS-$PACKAGES-$FILES"
if [[ ! -e "$MARKER" ]]; then
    echo "generating $TREE ..." >&2
    rm -rf "$TREE"
    python3 - "$TREE" "$PROJECTS" "$PACKAGES" "$FILES" <<'PY'
import hashlib, json, os, sys
root, projects, packages, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
count = 0
for p in range(projects):
    project = os.path.join(root, f"group{p % 20}", f"project{p}")
    names = [f"pkg-{(p * 7 + i) % 600}" for i in range(packages)]
    deps = {n: "1.0.0" for n in names}
    write(os.path.join(project, "package.json"), json.dumps({"name": f"project{p}", "version": "1.0.0", "dependencies": deps}))
    lock = {"name": f"project{p}", "lockfileVersion": 3, "packages": {"": {"dependencies": deps}}}
    for n in names:
        lock["packages"][f"node_modules/{n}"] = {"version": "1.0.0", "resolved": f"https://registry.npmjs.org/{n}/-/{n}-1.0.0.tgz"}
    write(os.path.join(project, "package-lock.json"), json.dumps(lock, indent=2))
    write(os.path.join(project, "src", "index.js"), "module.exports = 1;\n")
    write(os.path.join(project, ".git", "HEAD"), "ref: refs/heads/main\n")
    write(os.path.join(project, ".github", "workflows", "ci.yml"), "on: push\n")
    count += 5
    for n in names:
        pkg = os.path.join(project, "node_modules", n)
        write(os.path.join(pkg, "package.json"), json.dumps({"name": n, "version": "1.0.0", "main": "index.js"}))
        for f in range(files):
            sub = "lib" if f % 2 else "dist"
            name = "index.js" if f == 0 else f"file{f}.js"
            write(os.path.join(pkg, sub if f else "", name), "exports.x = %d;\n" % f)
        count += files + 1
index = os.path.join(root, "home", ".npm", "_cacache", "index-v5")
for i in range(2000):
    key = f"make-fetch-happen:request-cache:https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.0.0.tgz"
    entry = json.dumps({"key": key, "integrity": "sha512-x", "time": 0, "size": 1})
    line = hashlib.sha1(entry.encode()).hexdigest() + "\t" + entry
    write(os.path.join(index, f"{i % 256:02x}", f"{i % 97:02x}", f"{i:060x}"), "\n" + line)
    count += 1
print(f"{count} files", file=sys.stderr)
PY
    touch "$MARKER"
fi
files_in_tree=$(rg --files -uuu "$TREE" | wc -l)
echo "tree: $TREE, $files_in_tree files" >&2
if (( files_in_tree < 500000 )); then
    echo "the tree must hold at least 500,000 files" >&2
    exit 2
fi

cargo build --release -p bulwark >&2
BULWARK="$CARGO_TARGET_DIR/release/bulwark"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

hyperfine --warmup 2 --runs "$RUNS" --export-json "$OUT/bench.json" \
    -n "rg --files -uuu" "rg --files -uuu $TREE" \
    -n "bulwark hunt" "$BULWARK hunt $TREE --no-db -q --format json -o /dev/null" >&2

python3 - "$OUT/bench.json" <<'PY'
import json, sys
results = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
rg, hunt = results["rg --files -uuu"], results["bulwark hunt"]
print(f"median rg --files -uuu: {rg * 1000:.0f} ms")
print(f"median bulwark hunt:    {hunt * 1000:.0f} ms")
print(f"ratio: {hunt / rg:.2f}x (target <= 1.5x)")
PY
