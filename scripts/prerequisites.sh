#!/usr/bin/env bash
# What sealgate needs on this machine, checked before anything else runs. Missing Debian packages are installed
# with apt-get where that is possible (root, apt); otherwise the script stops in its first seconds with one line
# naming what to install. Nothing is downloaded beyond the package manager. Used by `npm run quickstart`,
# `npm test` and .ci/run.
#
#   scripts/prerequisites.sh quickstart   Node.js, Python with PyTorch and NumPy (the trainer), Redis
#   scripts/prerequisites.sh test         the same, pytest, and PostgreSQL with a `test` database and Redis
#                                         running (started here when they are installed but stopped)
set -euo pipefail
purpose="${1:-quickstart}"
case "$purpose" in quickstart | test) ;; *) echo "usage: $0 quickstart|test" >&2 && exit 2 ;; esac
export DEBIAN_FRONTEND=noninteractive
PYTHON="${SEALGATE_PYTHON:-/usr/bin/python3}"

say() { echo "[prerequisites] $*" >&2; }

if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit((a === 20 && b >= 19) || a >= 22 ? 0 : 1)'; then
  say "sealgate needs Node.js 20.19+ or 22+ (this is $(node --version)): install it, then run this again"
  exit 1
fi

missing=()  # what is missing, in words
packages=() # the Debian packages that bring it
if ! "$PYTHON" -c 'import torch, numpy' >/dev/null 2>&1; then
  if [ "$PYTHON" != /usr/bin/python3 ]; then
    say "SEALGATE_PYTHON=$PYTHON has no PyTorch or NumPy: install them into it, or unset SEALGATE_PYTHON to use Debian's python3"
    exit 1
  fi
  missing+=("PyTorch and NumPy for $PYTHON (the LoRA trainer)")
  packages+=(python3-torch python3-numpy)
fi
# Debian's torch runs on the reference BLAS without OpenBLAS, some 50x slower on matrix products.
if command -v dpkg >/dev/null && ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  packages+=(libopenblas0-pthread)
fi
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null && ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1); then
  missing+=("Redis (redis-server)")
  packages+=(redis-server)
fi
if [ "$purpose" = test ]; then
  if ! "$PYTHON" -c 'import pytest' >/dev/null 2>&1; then
    missing+=("pytest for $PYTHON (the gpu/ tests)")
    packages+=(python3-pytest)
  fi
  if [ -z "${TEST_DATABASE_URL:-}" ] && ! command -v pg_ctlcluster >/dev/null && ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432); then
    missing+=("PostgreSQL (the integration tests)")
    packages+=(postgresql)
  fi
fi

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${packages[*]}"
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}" >/dev/null
  elif [ ${#missing[@]} -gt 0 ]; then
    say "sealgate needs $(IFS=';' && echo "${missing[*]}" | sed 's/;/, /g'): install them with: sudo apt-get install -y ${packages[*]}"
    exit 1
  fi
fi

[ "$purpose" = test ] || exit 0

# The tests' services: PostgreSQL with database `test` (user postgres, password postgres, as the tests' default
# TEST_DATABASE_URL says) and Redis, both on 127.0.0.1, started here when installed but not running.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'test'\"" | grep -q 1 ||
      su postgres -c "createdb test"
  fi
fi
if [ -z "${TEST_REDIS_URL:-}" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
