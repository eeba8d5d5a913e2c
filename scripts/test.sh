#!/usr/bin/env bash
# The test command: sets up the toolchain when needed, type-checks, then runs every test
# (unit tests with Pulumi mocks, engine tests through the real pulumi) with mocha.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs
source scripts/env.sh
start=$(date +%s)
npx tsc --noEmit -p .
echo "typecheck: ok in $(( $(date +%s) - start ))s"
exec npx mocha "$@"
