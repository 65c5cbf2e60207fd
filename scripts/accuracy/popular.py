#!/usr/bin/env python3
"""False positives of bulwark-analysis on popular npm packages.

Runs the engine's `analyze` example on every tarball downloaded by `download-popular.sh` and
reports how many come out malicious or suspicious (targets: none malicious, at most 5%
suspicious), listing each flagged package with the rules behind it, plus total analysis time.

Usage: scripts/accuracy/popular.py [CACHE_DIR] [--json OUT.json] [--no-build]
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, "target-analysis", "release", "examples", "analyze")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cache", nargs="?", default=os.environ.get("BULWARK_ACCURACY_CACHE", os.path.expanduser("~/.cache/bulwark-accuracy/popular")))
    parser.add_argument("--json")
    parser.add_argument("--no-build", action="store_true")
    arguments = parser.parse_args()
    if not arguments.no_build:
        env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target-analysis"))
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "bulwark-analysis", "--example", "analyze"], cwd=ROOT, env=env, check=True)
    tarballs = sorted(glob.glob(os.path.join(arguments.cache, "*.tgz")))
    if not tarballs:
        print(f"no tarballs in {arguments.cache}; run download-popular.sh first", file=sys.stderr)
        return 2
    started = time.monotonic()
    output = subprocess.run([ENGINE] + tarballs, capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - started
    size = sum(os.path.getsize(path) for path in tarballs)
    results = []
    for line in output.splitlines():
        record = json.loads(line)
        report = record.get("report") or {}
        package = report.get("package", {})
        findings = report.get("findings", [])
        results.append({
            "tarball": os.path.basename(record["input"]),
            "package": f"{package.get('name')}@{package.get('version')}",
            "verdict": report.get("verdict", "error"),
            "score": report.get("score"),
            "rules": sorted({f"{finding['rule_id']}:{finding['severity']}" for finding in findings if finding["severity"] in ("medium", "high", "critical")}),
            "error": record.get("error"),
        })
    counts = {verdict: sum(1 for result in results if result["verdict"] == verdict) for verdict in ("clean", "suspicious", "malicious", "error")}
    total = len(results)
    print(f"packages: {total} ({size / 1e6:.1f} MB of tarballs) analysed in {elapsed:.1f}s")
    print(f"clean {counts['clean']}, suspicious {counts['suspicious']} ({counts['suspicious'] / max(total, 1):.1%}), malicious {counts['malicious']}, errors {counts['error']}")
    for result in results:
        if result["verdict"] != "clean":
            print(f"  {result['package']}: {result['verdict']} {result['rules']} {result['error'] or ''}")
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump({"counts": counts, "seconds": elapsed, "results": results}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
