#!/usr/bin/env bash
# Sigma rules end to end: the differential test against pySigma over every corpus rule, then the
# agent with the corpus rules loaded seeing real commands (root).
# Usage: Tests/sigma/test-sigma.sh PATH/TO/execwatch
#
# pySigma and its SQLite backend (pinned with their dependencies in requirements.txt) are
# installed from PyPI into a virtual environment under the build directory, .build/sigma-venv,
# made again when requirements.txt changes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.build/sigma-venv"
if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/requirements.txt"
fi
status=0
"$venv/bin/python" "$here/test_differential.py" "$@" || status=1
python3 "$here/test_live.py" "$@" || status=1
exit $status
