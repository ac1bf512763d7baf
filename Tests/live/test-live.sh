#!/usr/bin/env bash
# Live tests of `execwatch run` in every source mode (root; real kernel audit, real auditd, real
# netcat). Usage: Tests/live/test-live.sh PATH/TO/execwatch
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/test_live.py" "$@"
