#!/usr/bin/env bash
# The main job: `bash scripts/stack.sh [preview|up|destroy|refresh] [stack]` (default: preview homelab).
# Sets up the toolchain when needed, then runs the Pulumi command on the stack.
set -euo pipefail
cmd="${1:-preview}"
stack="${2:-homelab}"
case "$cmd" in preview|up|destroy|refresh) ;; *) echo "usage: $0 [preview|up|destroy|refresh] [stack]" >&2; exit 2 ;; esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs
source scripts/env.sh
pulumi stack select --create "$stack" --non-interactive >/dev/null
args=(--non-interactive --stack "$stack")
[ "$cmd" = preview ] || args+=(--yes --skip-preview)
exec pulumi "$cmd" "${args[@]}"
