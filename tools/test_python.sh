#!/usr/bin/env bash
# Run the course under another Python: `bash tools/test_python.sh 3.13`.
#
# Builds .venv-3.13 with the learner's environment (requirements.txt and the lock,
# as Binder does), verifies every notebook there, then adds the developers' tools
# and runs the unit tests. The interpreter is pyenv's 3.13, or `python3.13` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: tools/test_python.sh 3.X}
python=""
if command -v pyenv >/dev/null 2>&1; then
    python=$(ls -d "$(pyenv root)"/versions/"$version".*/bin/python 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$python" ]; then
    python=$(command -v "python$version" || true)
fi
# A pyenv shim exists for every version but runs only the selected ones: try it.
if [ -z "$python" ] || ! "$python" -c "" 2>/dev/null; then
    echo "no Python $version found (pyenv's, or python$version on PATH)" >&2
    exit 1
fi
venv=.venv-$version
if [ ! -f "$venv/.installed" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -r requirements.txt -c constraints.txt
    touch "$venv/.installed"
fi
echo "== Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'): notebooks, in the learner's environment"
"$venv/bin/python" -m pytest --nbval notebooks/ -q
if [ ! -f "$venv/.installed-dev" ]; then
    "$venv/bin/python" -m pip install -q -r requirements-dev.txt -c constraints.txt
    touch "$venv/.installed-dev"
fi
# Serially: on four workers, Python 3.12.1's resource tracker was called reentrantly
# from a garbage-collected queue's finalizer in test_queues.py, and left 8 semaphores.
echo "== Python $version: unit tests"
"$venv/bin/python" -m pytest helpers tests -q
