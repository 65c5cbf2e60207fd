#!/usr/bin/env python3
"""Accuracy of bulwark-analysis on the shared malware corpora.

Unpacks ../shared/corpora/*.zip (password `infected`) into a temporary directory that is deleted
afterwards, runs the engine's `analyze` example on every sample (never executing any sample),
and reports recall (share of malicious samples given `malicious` or `suspicious`, listing the
misses) and false positives on the clean samples.

Samples:
- malcontent-samples: each `npm|javascript|typescript/<sample>/` directory is one malicious
  package, except `javascript/clean/` (each file a clean sample), `javascript/2024.obfuscated/`
  (each file a malicious sample) and the fixed `@solana/web3.js` 1.95.8 build (clean, analysed
  alone; 1.95.7 is the backdoored one). `node-telegram/telegram.clean.js` is *not* clean despite
  its name: diffed against `telegram.js` it is the same backdoor with another SSH key and
  callback domain, so it stays part of the malicious sample.
- guarddog-tests: the npm rule tests (`*.js`, `*.json` under `tests/analyzer/sourcecode/` and
  `semgrep-era/...`); files in `benign/` are clean samples. JSON tests are package manifests and
  are analysed as `package.json`.

Usage: scripts/accuracy/corpus.py [--engine PATH] [--json OUT.json]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
DEFAULT_ENGINE = os.path.join(ROOT, "target-analysis", "release", "examples", "analyze")


def build_engine():
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(ROOT, "target-analysis"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "bulwark-analysis", "--example", "analyze"], cwd=ROOT, env=env, check=True)


def single_file_package(staging, source, name):
    """Copies one sample file into its own package directory (so the engine sees one file)."""
    directory = tempfile.mkdtemp(dir=staging)
    shutil.copyfile(source, os.path.join(directory, name))
    return directory


def collect(workdir):
    staging = os.path.join(workdir, "staging")
    os.makedirs(staging)
    samples = []  # (label, expected, path)
    base = os.path.join(workdir, "malcontent-samples")
    for language in ("npm", "javascript", "typescript"):
        language_dir = os.path.join(base, language)
        if not os.path.isdir(language_dir):
            continue
        for sample in sorted(os.listdir(language_dir)):
            sample_dir = os.path.join(language_dir, sample)
            if not os.path.isdir(sample_dir):
                continue
            label = f"malcontent/{language}/{sample}"
            if sample == "clean" or sample == "2024.obfuscated":
                expected = "clean" if sample == "clean" else "malicious"
                for name in sorted(os.listdir(sample_dir)):
                    path = single_file_package(staging, os.path.join(sample_dir, name), name)
                    samples.append((f"{label}/{name}", expected, path))
                continue
            twins = []
            for current, _, files in os.walk(sample_dir):
                for name in files:
                    if name == "v1.95.8.index.browser.esm.js":
                        twins.append(os.path.join(current, name))
            for twin in twins:
                name = os.path.basename(twin)
                samples.append((f"{label}/{name}", "clean", single_file_package(staging, twin, name)))
                os.remove(twin)
            if any(files for _, _, files in os.walk(sample_dir)):
                samples.append((label, "malicious", sample_dir))
    for era, sourcecode in (("head", "tests/analyzer/sourcecode"), ("semgrep-era", "semgrep-era/tests/analyzer/sourcecode")):
        directory = os.path.join(workdir, "guarddog", sourcecode)
        for expected, folder in (("malicious", directory), ("clean", os.path.join(directory, "benign"))):
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                path = os.path.join(folder, name)
                if not os.path.isfile(path) or not (name.endswith(".js") or name.endswith(".json")):
                    continue
                target = "package.json" if name.endswith(".json") else name
                samples.append((f"guarddog/{era}/{'benign/' if expected == 'clean' else ''}{name}", expected, single_file_package(staging, path, target)))
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default=DEFAULT_ENGINE)
    parser.add_argument("--json", help="write the per-sample results here")
    parser.add_argument("--no-build", action="store_true")
    arguments = parser.parse_args()
    if not arguments.no_build:
        build_engine()
    with tempfile.TemporaryDirectory(prefix="bulwark-corpus-") as workdir:
        with zipfile.ZipFile(os.path.join(SHARED, "corpora", "malcontent-samples.zip")) as archive:
            archive.extractall(workdir, pwd=b"infected")
        with zipfile.ZipFile(os.path.join(SHARED, "corpora", "guarddog-tests.zip")) as archive:
            archive.extractall(os.path.join(workdir, "guarddog"), pwd=b"infected")
        samples = collect(workdir)
        output = subprocess.run([arguments.engine] + [path for _, _, path in samples], capture_output=True, text=True, check=True).stdout
        reports = {}
        for line in output.splitlines():
            record = json.loads(line)
            reports[record["input"]] = record
    results = []
    for label, expected, path in samples:
        record = reports.get(path, {})
        report = record.get("report") or {}
        verdict = report.get("verdict", "error")
        rules = sorted({finding["rule_id"] for finding in report.get("findings", []) if finding["severity"] in ("medium", "high", "critical")})
        results.append({"sample": label, "expected": expected, "verdict": verdict, "score": report.get("score"), "rules": rules})
    malicious = [result for result in results if result["expected"] == "malicious"]
    clean = [result for result in results if result["expected"] == "clean"]
    detected = [result for result in malicious if result["verdict"] in ("malicious", "suspicious")]
    flagged = [result for result in clean if result["verdict"] in ("malicious", "suspicious")]
    summary = {
        "malicious_samples": len(malicious),
        "detected": len(detected),
        "recall": round(len(detected) / max(len(malicious), 1), 4),
        "detected_as_malicious": sum(1 for result in malicious if result["verdict"] == "malicious"),
        "clean_samples": len(clean),
        "clean_flagged_malicious": sum(1 for result in clean if result["verdict"] == "malicious"),
        "clean_flagged_suspicious": sum(1 for result in clean if result["verdict"] == "suspicious"),
    }
    print(f"recall: {summary['detected']}/{summary['malicious_samples']} = {summary['recall']:.1%} (malicious verdict: {summary['detected_as_malicious']})")
    print(f"clean: {len(clean)} samples, {summary['clean_flagged_malicious']} malicious, {summary['clean_flagged_suspicious']} suspicious")
    print("misses:")
    for result in malicious:
        if result not in detected:
            print(f"  {result['sample']}: {result['verdict']} {result['rules']}")
    print("false positives:")
    for result in flagged:
        print(f"  {result['sample']}: {result['verdict']} {result['rules']}")
    if arguments.json:
        with open(arguments.json, "w") as handle:
            json.dump({"summary": summary, "results": results}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
