#!/usr/bin/env bash
# The one command that runs every test from a bare machine: installs what is
# missing, builds, and runs the whole CTest suite (unit, integration on the
# embedded broker, examples, and the find_package consumer project).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --parallel "${CORPS_JOBS:-$(nproc)}" "$@"
