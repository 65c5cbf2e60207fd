#!/usr/bin/env python3
"""Compares two golden.sh recordings: per input, the verdict, the score, every finding (rule,
file, line, column, severity, message, evidence) and the notes (except time-outs, which depend
on the machine's load). Exits 1 when anything differs.

Usage: scripts/accuracy/golden-compare.py BEFORE AFTER [OUT_DIR]
"""
import json
import sys


def load(path):
    results = {}
    with open(path) as lines:
        for line in lines:
            record = json.loads(line)
            report = record.get("report")
            if report is None:
                results[record["input"]] = ("error", record.get("error"))
                continue
            findings = sorted(
                (f["rule_id"], f["file"], f["line"], f["column"], f["severity"], f["message"], f.get("evidence"))
                for f in report["findings"]
            )
            notes = sorted((n["file"], n["kind"]) for n in report.get("notes", []) if n["kind"] != "timed_out")
            results[record["input"]] = (report["verdict"], report["score"], findings, notes)
    return results


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    before, after = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else "/tmp/bulwark-golden"
    differences = 0
    for part in ("bench", "popular"):
        old = load(f"{out}/{before}.{part}.jsonl")
        new = load(f"{out}/{after}.{part}.jsonl")
        for key in sorted(set(old) | set(new)):
            if old.get(key) == new.get(key):
                continue
            differences += 1
            if differences <= 15:
                print(f"DIFF {part} {key}")
                x, y = old.get(key), new.get(key)
                if x and y and len(x) == 4 and len(y) == 4:
                    print(f"  verdict {x[0]} -> {y[0]}, score {x[1]} -> {y[1]}")
                    print("  only before:", [f for f in x[2] if f not in y[2]][:5])
                    print("  only after:", [f for f in y[2] if f not in x[2]][:5])
        print(f"{part}: {len(new)} inputs")
    with open(f"{out}/{before}.corpus.json") as a, open(f"{out}/{after}.corpus.json") as b:
        if json.load(a) != json.load(b):
            differences += 1
            print("DIFF corpus results")
    print("differences:", differences)
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
