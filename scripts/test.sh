#!/usr/bin/env bash
# The one command that runs every test from a bare machine: installs what is
# missing, builds, and runs the whole CTest suite (unit, integration on the
# embedded broker, examples, and the find_package consumer project). Then,
# on a full run, the unit and integration tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer
# (scripts/sanitize.sh), and a bounded fuzz run (scripts/fuzz.sh, 30 s per
# target), each in a build of its own.
#
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`; such a partial
# run skips the sanitizer and fuzz stages unless CORPS_SANITIZERS=1 (then the
# arguments go to the sanitized ctest runs too). CORPS_SANITIZERS=0 skips
# them always, for a quick local run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure --parallel "${CORPS_JOBS:-$(nproc)}" "$@")

sanitizers=${CORPS_SANITIZERS:-}
[[ -n $sanitizers ]] || { (($# == 0)) && sanitizers=1 || sanitizers=0; }
if [[ $sanitizers == 0 ]]; then
  echo "test: sanitizer and fuzz stages skipped (CORPS_SANITIZERS=0, or ctest arguments given)"
  exit 0
fi
for kind in asan tsan; do
  echo "test: the unit and integration tests under $kind (scripts/sanitize.sh $kind)"
  "$root/scripts/sanitize.sh" "$kind" "$@"
done
echo "test: a bounded fuzz run (scripts/fuzz.sh)"
"$root/scripts/fuzz.sh"
