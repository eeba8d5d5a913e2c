#!/usr/bin/env bash
# The main job: `bash scripts/stack.sh [command] [stack] [--yes]` (default: preview homelab).
#   preview                  pulumi preview (works on the demo passphrase: the README's main job)
#   up | refresh             Pulumi's preview, then its confirmation on a terminal; without a terminal
#                            it needs --yes (the GitHub workflow passes it)
#   destroy                  the destroy plan and the number of machines it resets, then asks for the
#                            stack name on a terminal; without a terminal it needs --yes
#   secret <stack> <key>     `pulumi config set --secret <key>` with the value read from stdin
#   rekey <stack> [provider] re-encrypt the stack (config secrets and state) with your own passphrase
#                            (asked on the terminal) or another secrets provider (awskms://… etc.)
# up, destroy, refresh and secret are refused while the stack's secrets would be encrypted with the
# public demo passphrase of scripts/env.sh (ops/secrets-guard.ts says why and how to re-key).
set -euo pipefail
usage() { echo "usage: $0 [preview|up|destroy|refresh] [stack] [--yes] | secret <stack> <key> | rekey <stack> [secrets-provider]" >&2; exit 2; }
yes=false
positional=()
for arg in "$@"; do
  case "$arg" in
    --yes|-y) yes=true ;;
    -*) usage ;;
    *) positional+=("$arg") ;;
  esac
done
cmd="${positional[0]:-preview}"
stack="${positional[1]:-homelab}"
extra="${positional[2]:-}"
case "$cmd" in
  preview|up|destroy|refresh) [ "${#positional[@]}" -le 2 ] || usage ;;
  secret) [ -n "$extra" ] && [ "${#positional[@]}" -eq 3 ] || usage ;;
  rekey) [ "${#positional[@]}" -le 3 ] || usage ;;
  *) usage ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
node toolchain/setup.mjs
source scripts/env.sh
ts() { TS_NODE_TRANSPILE_ONLY=true node -r ts-node/register "$@"; }
on_terminal() { [ -t 0 ] && [ -t 1 ]; }

# Confirmation: Pulumi's own prompt (up, refresh) or ours (destroy) needs a terminal; without one,
# --yes is the confirmation.
case "$cmd" in
  up|destroy|refresh)
    if ! $yes && ! on_terminal; then
      echo "refused: \`$cmd\` without a terminal needs an explicit --yes (bash scripts/stack.sh $cmd $stack --yes)" >&2
      exit 2
    fi ;;
esac
# Before anything is created or selected: a new stack would get the demo passphrase's salt.
case "$cmd" in up|destroy|refresh|secret) ts ops/secrets-guard.ts "$stack" "$cmd" ;; esac

if [ "$cmd" = rekey ]; then
  # The current key: the demo passphrase while the stack's salt belongs to it, else yours.
  if ts ops/secrets-guard.ts "$stack" --demo-salt; then export PULUMI_CONFIG_PASSPHRASE="$TALOS_CLUSTER_DEMO_PASSPHRASE"; fi
  pulumi stack select --create "$stack" --non-interactive >/dev/null
  # Pulumi asks for the new passphrase on the terminal (without one, it reads a line from stdin).
  pulumi stack change-secrets-provider --stack "$stack" "${extra:-passphrase}"
  if ts ops/secrets-guard.ts "$stack" --demo-salt; then
    echo "stack $stack is still encrypted with the demo passphrase: re-key it with another one" >&2
    exit 3
  fi
  echo "stack $stack re-keyed: export PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) with the new passphrase before up."
  exit 0
fi

pulumi stack select --create "$stack" --non-interactive >/dev/null
case "$cmd" in
  preview)
    exec pulumi preview --non-interactive --stack "$stack" ;;
  secret)
    # From stdin, so the value never shows up in the shell history or the process list.
    on_terminal && echo "value of $extra (end with Ctrl-D):" >&2
    exec pulumi config set --secret --stack "$stack" "$extra" ;;
  up|refresh)
    if $yes; then exec pulumi "$cmd" --yes --non-interactive --stack "$stack"; fi
    # Pulumi shows its preview and asks before it changes anything.
    exec pulumi "$cmd" --stack "$stack" ;;
  destroy)
    pulumi destroy --preview-only --non-interactive --stack "$stack"
    state="$(mktemp)"
    trap 'rm -f "$state"' EXIT
    pulumi stack export --stack "$stack" >"$state"
    echo
    ts ops/destroy-plan.ts "$state"
    if ! $yes; then
      read -r -p "Type the stack name ($stack) to destroy it: " answer </dev/tty
      if [ "$answer" != "$stack" ]; then
        echo "not destroyed" >&2
        exit 1
      fi
    fi
    pulumi destroy --yes --skip-preview --non-interactive --stack "$stack" ;;
esac
