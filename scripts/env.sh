# Sourced by the scripts: the project's own toolchain and an embedded local default for state
# and secrets. Anything already set in the environment wins.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$root/.tools/bin:$PATH"
# Local file state inside the ignored .state folder, unless a backend is chosen.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$root/.state}"
# The committed stack files' encryption salt was made with this passphrase. It protects the
# demo stacks only: for a real cluster set your own PULUMI_CONFIG_PASSPHRASE (README, "Secrets").
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-talos-cluster-local-default}"
export PULUMI_HOME="${PULUMI_HOME:-$root/.pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "$root/.state"
