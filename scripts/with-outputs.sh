#!/usr/bin/env bash
# `bash scripts/with-outputs.sh <stack> <ops/script.ts> [args...]`: runs the ops script with the
# path of a private temporary file holding the stack's outputs (secrets shown, so talosconfig and
# kubeconfig are usable), then its own arguments. The file is readable only by you and removed
# on exit, however the script ends.
set -euo pipefail
stack="${1:?usage: with-outputs.sh <stack> <ops/script.ts> [args...]}"
script="${2:?usage: with-outputs.sh <stack> <ops/script.ts> [args...]}"
shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs >/dev/null
source scripts/env.sh
umask 077
outputs="$(mktemp)"
trap 'rm -f "$outputs"' EXIT
pulumi stack output --stack "$stack" --json --show-secrets >"$outputs"
npx ts-node "$script" "$outputs" "$@"
