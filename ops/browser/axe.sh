#!/usr/bin/env bash
# axe-core (Deque's accessibility rules engine) for the browser tests: installed with npm into
# the project's data folder, never into the repository.
#
#   bash ops/browser/axe.sh        # prints the path of axe.min.js
#
# tests/browser/test_accessibility_browser.py injects that file into each page through the
# driver and fails on "serious" or "critical" violations; without it the test is skipped
# (failed under COMMERCE_REQUIRE_BROWSER=1).
set -euo pipefail
AXE_VERSION=4.14.1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA_DIR=${COMMERCE_DATA_DIR:-$ROOT/var}
BROWSER_DIR=$DATA_DIR/browser
mkdir -p "$BROWSER_DIR"
[[ -f $BROWSER_DIR/.gitignore ]] || echo '*' >"$BROWSER_DIR/.gitignore"
AXE=$BROWSER_DIR/node_modules/axe-core/axe.min.js

if [[ ! -f $AXE ]] || ! grep -q "axe v$AXE_VERSION" "$AXE"; then
    command -v npm >/dev/null || { echo "npm is not installed (apt-get install npm)" >&2; exit 1; }
    npm install --silent --no-audit --no-fund --prefix "$BROWSER_DIR" "axe-core@$AXE_VERSION" >&2
fi
echo "$AXE"
