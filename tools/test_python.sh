#!/usr/bin/env bash
# Run the course under another Python: `bash tools/test_python.sh 3.13`.
#
# Builds .venv-3.13 with the learner's environment (requirements.txt and the lock,
# as Binder does), verifies every notebook there, then adds the developers' tools
# and runs the unit tests. The interpreter is `python3.13` on PATH, or pyenv's.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: tools/test_python.sh 3.X}
python=$(command -v "python$version" || true)
if [ -z "$python" ] && command -v pyenv >/dev/null 2>&1; then
    python=$(ls -d "$(pyenv root)"/versions/"$version".*/bin/python 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$python" ] || [ ! -x "$python" ]; then
    echo "no Python $version found (python$version on PATH, or pyenv's)" >&2
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
echo "== Python $version: unit tests"
"$venv/bin/python" -m pytest helpers tests -q
