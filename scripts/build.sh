#!/usr/bin/env bash
# Configures and builds corps in ./build (or $CORPS_BUILD_DIR), with
# $CORPS_JOBS parallel jobs (default: the number of cores): every target, or
# the ones named (scripts/build.sh demo: the image pipeline alone;
# scripts/build.sh corps: the library alone).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_BUILD_DIR:-$root/build}
jobs=${CORPS_JOBS:-$(nproc)}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${CORPS_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build" --parallel "$jobs" "${targets[@]}"
