#!/usr/bin/env bash
# The one command that runs corps's main job from a bare machine: installs
# what is missing, builds, and runs the image pipeline on an embedded broker:
# capture (opencv-doc's vtest.avi and Megamind.avi) -> two predict workers
# (HOG people + Haar faces) -> display (http://127.0.0.1:8080/) and store
# (SQLite, pipeline.db). It stops after the videos end, or on Ctrl-C, and
# prints a summary. Arguments go to the pipeline launcher, e.g.
#   scripts/run.sh --frames 50 --fps 2 --linger
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh" --build-only
"$root/scripts/build.sh" demo  # what the pipeline needs, not the tests
exec env CORPS_LOG_LEVEL="${CORPS_LOG_LEVEL:-warning}" "$build/apps/pipeline/pipeline" "$@"
