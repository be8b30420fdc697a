#!/usr/bin/env bash
# Run `brownie run SCRIPT ARGS...` for this project, wherever the project lies.
#
# brownie imports a script as the module named after its absolute path (/a/b/scripts/x.py is
# imported as a.b.scripts.x), so it cannot run the scripts of a project whose path has a dot in a
# folder name (a clone in /tmp/tmp.Xy12AB, a home folder like /home/jane.doe): the import fails
# with "No module named ...". In such a place this runs brownie in a dot-free copy of the brownie
# project (brownie-config.yaml, contracts/, scripts/ and the OpenZeppelin sources it imports), made
# anew on every run under /tmp. The scripts import munibond from the project's own checkout
# (installed editable in .venv-brownie), so they read examples/ and write deployments/ there as
# usual. Elsewhere brownie runs in place.
#
# Environment: as for brownie itself (see scripts/brownie-setup.sh): SOLCX_BINARY_PATH and PATH
# with node_modules/.bin. Usage: scripts/brownie-run.sh scripts/deploy_bond.py --network development
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
BROWNIE="${BROWNIE:-$ROOT/.venv-brownie/bin/brownie}"

if [[ "$ROOT" != *.* ]]; then
  cd "$ROOT"
  exec "$BROWNIE" run "$@"
fi

copy="/tmp/munibond-brownie-$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)"
rm -rf "$copy"
mkdir -p "$copy/node_modules"
cp -a "$ROOT/brownie-config.yaml" "$ROOT/contracts" "$ROOT/scripts" "$copy/"
cp -a "$ROOT/node_modules/@openzeppelin" "$copy/node_modules/"
echo "brownie-run: the project path $ROOT has a dot, which brownie's script import cannot take;" \
     "running in a copy at $copy" >&2
cd "$copy"
status=0
MUNIBOND_DEPLOYMENTS="${MUNIBOND_DEPLOYMENTS:-$ROOT/deployments}" "$BROWNIE" run "$@" || status=$?
rm -rf "$copy"
exit "$status"
