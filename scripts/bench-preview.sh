#!/usr/bin/env bash
# `bash scripts/bench-preview.sh [runs]` (default 3): times `pulumi preview` of the homelab stack
# beside the preview of an empty Pulumi TypeScript program, alternating in the same run, and
# prints both medians and their ratio. Both use a throwaway local backend; nothing is created.
set -euo pipefail
runs="${1:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs >/dev/null
source scripts/env.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export PULUMI_BACKEND_URL="file://$tmp/state"
mkdir -p "$tmp/state" "$tmp/empty"

# The empty program: a standard Pulumi TypeScript program (runtime nodejs, typescript: true, so
# ts-node, here transpile-only through this project's tsconfig) with no resources: what any
# TypeScript program costs. The homelab stack runs through program.js (Pulumi.yaml main).
printf 'name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n' >"$tmp/empty/Pulumi.yaml"
printf 'export {};\n' >"$tmp/empty/index.ts"
printf '{ "name": "empty", "main": "index.ts", "private": true }\n' >"$tmp/empty/package.json"
node -e 'const t=require("./tsconfig.json"); t.include=["index.ts"]; delete t.exclude; console.log(JSON.stringify(t))' >"$tmp/empty/tsconfig.json"
ln -s "$root/node_modules" "$tmp/empty/node_modules"

(cd "$tmp/empty" && pulumi stack init bench --non-interactive >/dev/null)
pulumi stack select --create homelab --non-interactive >/dev/null

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }

homelab=(); empty=()
for i in $(seq "$runs"); do
  empty+=("$(cd "$tmp/empty" && seconds pulumi preview --non-interactive --stack bench)")
  homelab+=("$(seconds pulumi preview --non-interactive --stack homelab)")
  echo "run $i: empty ${empty[-1]}s, homelab ${homelab[-1]}s"
done
h="$(printf '%s\n' "${homelab[@]}" | median)"
e="$(printf '%s\n' "${empty[@]}" | median)"
echo "homelab preview: ${h}s (median of $runs)"
echo "empty program preview: ${e}s (median of $runs)"
echo "ratio: $(awk -v h="$h" -v e="$e" 'BEGIN { printf "%.2f", h / e }')x (target: at most 1.5x)"
