#!/usr/bin/env python3
"""Validates a JSON document against an official JSON schema, resolving the schema's sibling
files offline (CycloneDX's bom schema refers to spdx and jsf schemas beside it).

usage: validate-json-schema.py SCHEMA.json DOCUMENT.json
Exit 0 when valid; 1 with every error printed when invalid; 2 on usage or missing tools.
"""
import json
import pathlib
import sys

try:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7
except ImportError as error:  # pragma: no cover - environment problem
    print(f"missing python package: {error}; run scripts/setup-tests.sh", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path = pathlib.Path(sys.argv[1])
    document = json.loads(pathlib.Path(sys.argv[2]).read_text(encoding="utf-8"))
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    resources = []
    for sibling in schema_path.parent.glob("*.json"):
        try:
            contents = json.loads(sibling.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(contents, dict):
            continue
        resource = Resource.from_contents(contents, default_specification=DRAFT7)
        base = contents.get("$id", "")
        if base:
            resources.append((base, resource))
            parent = base.rsplit("/", 1)[0]
            resources.append((f"{parent}/{sibling.name}", resource))
    registry = Registry().with_resources(resources)
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, registry=registry, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors[:50]:
        location = "/".join(str(p) for p in error.absolute_path) or "(root)"
        print(f"{sys.argv[2]}: {location}: {error.message[:300]}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} schema error(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
