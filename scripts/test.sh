#!/usr/bin/env bash
# The test command: sets up the toolchain when needed, with the test-only binaries of a real
# control plane (--test-tools: etcd, kube-*, kubectl, kwok), type-checks, then runs every test
# (unit tests with Pulumi mocks, engine tests through the real pulumi) with mocha.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs --test-tools
source scripts/env.sh
# The test-only binaries (the real control plane of tests/support/control-plane.ts), for the tests only.
export PATH="$root/.tools/test-bin:$PATH"
start=$(date +%s)
npx tsc --noEmit -p .
echo "typecheck: ok in $(( $(date +%s) - start ))s"
exec npx mocha "$@"
