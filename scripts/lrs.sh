#!/usr/bin/env bash
# Install the open-source LRS the tests run against (ralph-malph) in its own virtual
# environment, .venv-lrs, so its pins never meet the workbench's. Idempotent: pip runs only
# when the pinned requirement below changed. Usage: scripts/lrs.sh  (make test calls it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
REQ="ralph-malph[lrs,cli]==5.1.0 requests>=2.31"
stamp=.venv-lrs/.installed-$(echo "$REQ" | sha1sum | cut -c1-12)
if [ -f "$stamp" ]; then exit 0; fi
if [ ! -x .venv-lrs/bin/python ]; then
  "$PY" -m venv .venv-lrs
fi
.venv-lrs/bin/python -m pip install -q --upgrade pip
# shellcheck disable=SC2086
.venv-lrs/bin/python -m pip install -q $REQ
rm -f .venv-lrs/.installed-* && touch "$stamp"
