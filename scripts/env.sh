# Sourced by the scripts: the project's own toolchain and an embedded local default for state
# and secrets. Anything already set in the environment wins.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$root/.tools/bin:$PATH"
# Local file state inside the ignored .state folder, unless a backend is chosen.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$root/.state}"
# The committed stack files' encryption salt was made with this public demo passphrase. It is for
# previews only: scripts/stack.sh refuses up, destroy, refresh and secret with it (README, "Secrets").
export TALOS_CLUSTER_DEMO_PASSPHRASE="talos-cluster-local-default"
# Set only when neither a passphrase nor a passphrase file was given (Pulumi prefers the variable).
if [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-$TALOS_CLUSTER_DEMO_PASSPHRASE}"
fi
export PULUMI_HOME="${PULUMI_HOME:-$root/.pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$root/.state"
