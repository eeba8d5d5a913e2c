#!/usr/bin/env bash
# `npm run etcd-snapshot -- <stack> [file]`: an etcd snapshot now, from the stack's first control
# plane, through `talosctl etcd snapshot` and the stack's talosconfig output.
# Default file: backups/etcd-<stack>-<UTC time>.snapshot (backups/ is ignored by git).
set -euo pipefail
stack="${1:?usage: npm run etcd-snapshot -- <stack> [file]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${2:-$root/backups/etcd-$stack-$(date -u +%Y%m%dT%H%M%SZ).snapshot}"
case "$file" in /*) ;; *) file="$PWD/$file" ;; esac
exec bash "$root/scripts/with-outputs.sh" "$stack" ops/etcd-snapshot.ts "$file"
