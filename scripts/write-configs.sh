#!/usr/bin/env bash
# `bash scripts/write-configs.sh [stack]` (or `npm run write-configs -- [stack]`): merges the
# stack's talosconfig and kubeconfig into ~/.talos/config and ~/.kube/config.
set -euo pipefail
stack="${1:-homelab}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec bash "$root/scripts/with-outputs.sh" "$stack" ops/write-configs.ts
