#!/usr/bin/env bash
# Creates the virtual environment and installs the project with its test and lint extras.
# Installs Debian's python3-venv first when the interpreter cannot make a venv.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11+ is needed ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" 2>/dev/null; then
    echo "installing python3-venv with apt-get" >&2
    apt-get update -qq && apt-get install -y -qq python3-venv
    rm -rf "$venv"
    "$python" -m venv "$venv"
  fi
fi
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e '.[test,lint]'
# Bytecode for the project's own packages (they run from the checkout, not site-packages). Temporal's
# workflow sandbox imports a workflow's module afresh for every new workflow run; with
# PYTHONDONTWRITEBYTECODE=1 (the image sets it) and no .pyc on disk, each new cart, checkout or
# order would compile its module's source again (about 6 ms for the cart's).
"$venv/bin/python" -m compileall -q -j 0 infra domains projections workers storefront fixtures tests >/dev/null
