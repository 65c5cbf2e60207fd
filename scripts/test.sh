#!/usr/bin/env bash
# The whole test suite: installs what the tests need, then runs every test of the workspace.
# This is what .ci/run runs and what the README tells a newcomer to run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-tests.sh
cargo test --workspace --locked "$@"
