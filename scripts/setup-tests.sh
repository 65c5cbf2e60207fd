#!/usr/bin/env bash
# Installs what the test suite needs beyond Rust, into the repository's .tools/ (gitignored):
# the official CycloneDX 1.6 and SARIF 2.1.0 JSON schemas (from their npm packages) and the
# Python `jsonschema` validator, and the pinned package managers of scripts/install-tools.sh.
# Idempotent; safe to run on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.tools/schemas
cdx=@cyclonedx/cyclonedx-library@10.3.0
sarif=@microsoft/jest-sarif@1.0.0-beta.0
if [ ! -f "$tools/node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.6.SNAPSHOT.schema.json" ] \
  || [ ! -f "$tools/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json" ]; then
  mkdir -p "$tools"
  echo '{"name":"bulwark-test-schemas","private":true}' > "$tools/package.json"
  npm install --prefix "$tools" --ignore-scripts --no-audit --no-fund --silent "$cdx" "$sarif"
fi
if ! python3 -c 'import jsonschema, referencing' 2>/dev/null; then
  python3 -m pip install --quiet 'jsonschema>=4.18'
fi
# The package managers the registry gate's end-to-end tests install through (pnpm, yarn 1
# and 4, bun; npm is on the machine), pinned, from the npm registry.
scripts/install-tools.sh >/dev/null
