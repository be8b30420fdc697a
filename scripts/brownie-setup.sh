#!/usr/bin/env bash
# Prepare eth-brownie (in .venv-brownie) for this project. Offline and idempotent; `make brownie`
# runs it before `brownie compile` / `brownie run`.
#
# What brownie needs here, and why:
#  1. solc 0.8.37 without a download. brownie asks py-solc-x for installed compilers, and py-solc-x
#     lists `solc-v<version>` files in $SOLCX_BINARY_PATH (default ~/.solcx). This script writes
#     <project>/.solc/solc-v0.8.37 (the solc-js shim, or a link to a native solc 0.8.37) through
#     munibond.build.solc_binary_dir(); brownie must run with SOLCX_BINARY_PATH=<project>/.solc,
#     otherwise it tries to download solc from GitHub and fails ("Solc not installed and cannot
#     connect to GitHub").
#  2. anvil on PATH. brownie launches the development network's `cmd` by name and picks its anvil
#     driver only when the command starts with "anvil" (an absolute path would not work), so
#     <project>/node_modules/.bin must be on PATH when brownie runs.
#  3. the `development` network launching anvil with base fee 0 (brownie's development gas price
#     is 0, as on a permissioned chain). brownie 1.22 writes that as its default into
#     ~/.brownie/network-config.yaml; a ~/.brownie from an older brownie has ganache-cli, which is
#     not installed here, and is switched to anvil with `brownie networks modify`.
#
# Usage: scripts/brownie-setup.sh            (prints the environment to export for brownie)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BROWNIE_VENV="${BROWNIE_VENV:-$ROOT/.venv-brownie}"
PY="$BROWNIE_VENV/bin/python"
BROWNIE="$BROWNIE_VENV/bin/brownie"

die() { echo "brownie-setup: $*" >&2; exit 1; }

[ -x "$BROWNIE" ] || die "$BROWNIE not found: run \`make brownie\`"
[ -x "$ROOT/node_modules/.bin/anvil" ] || die "node_modules/.bin/anvil not found: run \`npm ci\`"
"$PY" -c 'import munibond.build' 2>/dev/null \
  || die "munibond is not installed in $BROWNIE_VENV: run \`make brownie\`"

# 1. compiler
SOLC_DIR="$("$PY" -c 'from munibond.build import solc_binary_dir; print(solc_binary_dir())')"
SOLC="$SOLC_DIR/solc-v$("$PY" -c 'from munibond.build import SOLC_VERSION; print(SOLC_VERSION)')"
"$SOLC" --version | grep -q '^Version: ' || die "$SOLC does not answer --version"
export SOLCX_BINARY_PATH="$SOLC_DIR"

# 2. anvil
export PATH="$ROOT/node_modules/.bin:$PATH"
anvil --version >/dev/null || die "anvil from node_modules does not run"

# 3. the development network (brownie creates ~/.brownie/network-config.yaml on first start)
cd "$ROOT"
"$BROWNIE" networks list >/dev/null
action="$("$PY" - <<'PYEOF'
from pathlib import Path

import yaml

config = yaml.safe_load((Path.home() / ".brownie" / "network-config.yaml").read_text())
dev = next((n for n in config.get("development") or [] if n.get("id") == "development"), None)
if dev is None:
    print("add")
else:
    settings = dev.get("cmd_settings") or {}
    changes = []
    if dev.get("cmd") != "anvil":
        changes.append("cmd=anvil")
    if settings.get("base_fee") != 0:
        changes.append("base_fee=0")
    # ganache-cli defaults that anvil cannot use: `--hardfork istanbul`, `--mnemonic brownie`
    if settings.get("evm_version") == "istanbul":
        changes.append("evm_version=None")
    if settings.get("mnemonic") == "brownie":
        changes.append("mnemonic=None")
    print(" ".join(["modify", *changes]) if changes else "ok")
PYEOF
)"
case "$action" in
  ok) ;;
  add)
    "$BROWNIE" networks add development development cmd=anvil host=http://127.0.0.1 \
      port=8545 gas_limit=12000000 accounts=10 base_fee=0 >/dev/null ;;
  modify\ *)
    # shellcheck disable=SC2086  # the key=value words are meant to split
    "$BROWNIE" networks modify development ${action#modify } >/dev/null ;;
  *) die "unexpected answer from the network check: $action" ;;
esac
echo "brownie-setup: development network uses anvil ($action)"
echo "brownie-setup: run brownie with:"
echo "  export SOLCX_BINARY_PATH=\"$SOLC_DIR\""
echo "  export PATH=\"$ROOT/node_modules/.bin:\$PATH\""
