#!/usr/bin/env bash
# Creates (or refreshes) the virtual environment for the Python interop tests at
# target/venv, with the packages pinned in requirements.txt. Idempotent: when the venv
# already matches requirements.txt it does nothing. Prints the venv's path on success.
#
#   bash interop/python/setup.sh && target/venv/bin/python -m pytest interop/python
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${MCP_INTEROP_VENV:-$root/target/venv}"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$venv"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
echo "$want" > "$stamp"
echo "$venv"
