#!/usr/bin/env python3
"""Runs DataDog GuardDog on the same sets as corpus.py and popular.py, for comparison.

GuardDog (PyPI `guarddog`) must be installed, e.g. `python3 -m venv /tmp/gd && /tmp/gd/bin/pip
install guarddog`, and is passed with --guarddog. A sample counts as flagged by GuardDog when a
`threat-*` (or pre-3.0 non-capability) rule matched; `capability-*` rules are informational
(they fire on any `require('https')`) and are counted separately.

Usage: scripts/accuracy/guarddog.py --guarddog /tmp/gd/bin/guarddog [--corpus] [--popular CACHE] [--limit N] [--json OUT]
"""

import argparse
import concurrent.futures
import glob
import json
import os
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402


def scan(guarddog, path, timeout):
    try:
        output = subprocess.run([guarddog, "npm", "scan", path, "--output-format", "json"], capture_output=True, text=True, timeout=timeout).stdout
        data = json.loads(output)
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        return {"error": type(error).__name__}
    results = data.get("results") or {}
    threats = sorted(rule for rule, matches in results.items() if matches and not rule.startswith("capability-"))
    capabilities = sorted(rule for rule, matches in results.items() if matches and rule.startswith("capability-"))
    return {"threats": threats, "capabilities": capabilities}


def run_all(guarddog, items, timeout, workers):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(scan, guarddog, path, timeout): (label, expected) for label, expected, path in items}
        results = []
        for future in concurrent.futures.as_completed(futures):
            label, expected = futures[future]
            results.append({"sample": label, "expected": expected, **future.result()})
    return sorted(results, key=lambda result: result["sample"])


def summarize(name, results):
    malicious = [result for result in results if result["expected"] == "malicious"]
    clean = [result for result in results if result["expected"] == "clean"]
    errors = sum(1 for result in results if "error" in result)
    hit = lambda result: bool(result.get("threats"))  # noqa: E731
    any_hit = lambda result: bool(result.get("threats") or result.get("capabilities"))  # noqa: E731
    print(f"[{name}] guarddog errors/timeouts: {errors}")
    if malicious:
        print(f"[{name}] recall (threat rules): {sum(map(hit, malicious))}/{len(malicious)}; (any rule incl. capabilities): {sum(map(any_hit, malicious))}/{len(malicious)}")
    if clean:
        print(f"[{name}] clean flagged (threat rules): {sum(map(hit, clean))}/{len(clean)}; (any rule): {sum(map(any_hit, clean))}/{len(clean)}")
    for result in results:
        if result["expected"] == "malicious" and not hit(result):
            print(f"  miss: {result['sample']} {result.get('error', '')}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--guarddog", required=True)
    parser.add_argument("--corpus", action="store_true")
    parser.add_argument("--popular")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json")
    arguments = parser.parse_args()
    report = {}
    if arguments.corpus:
        with tempfile.TemporaryDirectory(prefix="bulwark-guarddog-") as workdir:
            with zipfile.ZipFile(os.path.join(corpus.SHARED, "corpora", "malcontent-samples.zip")) as archive:
                archive.extractall(workdir, pwd=b"infected")
            with zipfile.ZipFile(os.path.join(corpus.SHARED, "corpora", "guarddog-tests.zip")) as archive:
                archive.extractall(os.path.join(workdir, "guarddog"), pwd=b"infected")
            results = run_all(arguments.guarddog, corpus.collect(workdir), arguments.timeout, arguments.workers)
        summarize("corpus", results)
        report["corpus"] = results
    if arguments.popular:
        tarballs = sorted(glob.glob(os.path.join(arguments.popular, "*.tgz")))
        if arguments.limit:
            tarballs = tarballs[: arguments.limit]
        results = run_all(arguments.guarddog, [(os.path.basename(path), "clean", path) for path in tarballs], arguments.timeout, arguments.workers)
        summarize("popular", results)
        for result in results:
            if result.get("threats"):
                print(f"  flagged: {result['sample']} {result['threats']}")
        report["popular"] = results
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump(report, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
