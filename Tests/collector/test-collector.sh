#!/usr/bin/env bash
# The agent's forwarder against execwatch-collector, end to end (root; real TLS, real audit, real
# PostgreSQL, headless chromium). Usage: Tests/collector/test-collector.sh PATH/TO/execwatch PATH/TO/execwatch-collector
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/test_collector.py" "$@"
