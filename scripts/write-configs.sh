#!/usr/bin/env bash
# `bash scripts/write-configs.sh [stack]` (or `npm run write-configs -- [stack]`): merges the
# stack's talosconfig and kubeconfig into ~/.talos/config and ~/.kube/config.
set -euo pipefail
stack="${1:-homelab}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs >/dev/null
source scripts/env.sh
umask 077
outputs="$(mktemp)"
trap 'rm -f "$outputs"' EXIT
pulumi stack output --stack "$stack" --json --show-secrets >"$outputs"
npx ts-node ops/write-configs.ts "$outputs"
