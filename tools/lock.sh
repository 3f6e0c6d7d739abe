#!/usr/bin/env bash
# Re-pin every package the course installs, transitive ones included, into
# constraints.txt: `make lock` (or `bash tools/lock.sh`). Run it after changing a pin.
#
# One lock serves every supported Python (3.11 to 3.13) and platform: uv resolves
# requirements-dev.txt (which includes requirements.txt) for all of them at once
# ("universal"), and where a package needs another version, or is needed at all,
# only on some of them, the line says so with an environment marker that pip
# evaluates. Versions already pinned are kept wherever they still fit, so a lock
# changes only what a changed pin requires. `make`, Binder and CI install with it.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-.venv/bin/uv}
"$uv" pip compile --universal --python-version 3.11 --no-annotate --quiet \
    --no-emit-package ipc-course-helpers --custom-compile-command "make lock" \
    requirements-dev.txt -o constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
