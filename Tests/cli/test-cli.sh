#!/usr/bin/env bash
# End-to-end tests of the execwatch command line: the built binary, real captured audit logs.
# Usage: Tests/cli/test-cli.sh PATH/TO/execwatch
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/test_cli.py" "$@"
