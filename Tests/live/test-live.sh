#!/usr/bin/env bash
# Live tests of `execwatch run` in every source mode (root; real kernel audit, real auditd, real
# netcat), then the faults injected into a running agent (test_faults.py).
# Usage: Tests/live/test-live.sh PATH/TO/execwatch
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
status=0
python3 "$here/test_live.py" "$@" || status=1
python3 "$here/test_faults.py" "$@" || status=1
exit $status
