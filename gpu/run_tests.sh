#!/usr/bin/env bash
# Runs the gpu/ test suite with Debian's python3 (python3-torch, python3-pytest); exits non-zero on failure.
# Override the interpreter with PYTHON=... (e.g. a virtualenv with PyTorch 2.x on a GPU host).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-/usr/bin/python3}"
exec "$PYTHON" -m pytest -q tests "$@"
