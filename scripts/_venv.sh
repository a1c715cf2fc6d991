# Shared by scripts/run and scripts/test: a project-local .venv with the hotline installed.
# Usage: . scripts/_venv.sh EXTRAS   (EXTRAS: "" for the product, "test" for the test suite)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "hotline needs Python >= 3.11 (found: $("$PY" --version 2>&1))" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            # Debian's python3 ships venv/ensurepip separately
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
            "$PY" -m venv .venv
        else
            echo "cannot create .venv: install python3-venv (Debian) and retry" >&2
            exit 1
        fi
    fi
fi
stamp=".venv/.installed-${1:-base}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    if [ -n "${1:-}" ]; then .venv/bin/python -m pip install -q -e ".[$1]"
    else .venv/bin/python -m pip install -q -e .; fi
    # compile the simulation engine once now (~10 s of CPU), not in the first forecast
    .venv/bin/python -m queue_engine.sim
    touch "$stamp"
fi
