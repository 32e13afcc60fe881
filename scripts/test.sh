#!/usr/bin/env bash
# The one command that runs every test from a bare machine: installs what is
# missing, builds, and runs, stage by stage:
#
#   embedded   the whole CTest suite on the embedded broker (unit,
#              integration, mock, examples, CLI, pipeline, soak, bench, the
#              find_package consumer project): ctest -LE kafka
#   kafka      the same suites on a real Apache Kafka, which CTest's fixtures
#              start (scripts/kafka.sh), and the soak on a three-node cluster:
#              ctest -L kafka. Without Java it is skipped, saying so.
#   asan, tsan the unit, integration and mock tests again under
#              AddressSanitizer + UndefinedBehaviorSanitizer and under
#              ThreadSanitizer (scripts/sanitize.sh), each in a build of its
#              own
#   fuzz       a bounded fuzz run (scripts/fuzz.sh, 20 s per target), in the
#              ASan build
#
# Each stage's time is printed as it ends, and all of them at the end.
#
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`; such a partial
# run is one ctest run of the plain build and skips the other stages unless
# CORPS_SANITIZERS=1 (then the arguments go to the sanitized ctest runs too).
# CORPS_SANITIZERS=0 skips the sanitizer and fuzz stages always;
# CORPS_KAFKA=0 skips the real-Kafka stage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_BUILD_DIR:-$root/build}
jobs=${CORPS_JOBS:-$(nproc)}

timings=()
stage_started=$SECONDS
stage_done() {  # stage_done NAME: notes how long the stage since the last took
  local took=$((SECONDS - stage_started))
  timings+=("$(printf '%-9s %5d s' "$1" "$took")")
  echo "test: stage $1 took ${took} s"
  stage_started=$SECONDS
}
summary() {
  echo "test: time by stage"
  printf '  %s\n' "${timings[@]}"
  echo "  total     $((SECONDS)) s"
}
trap summary EXIT

"$root/scripts/setup.sh"
stage_done setup
"$root/scripts/build.sh"
stage_done build

ctest_in() { (cd "$build" && ctest --output-on-failure "$@"); }

if (($# > 0)); then
  ctest_in --parallel "$jobs" "$@"
  stage_done ctest
else
  ctest_in --parallel "$jobs" -LE kafka
  stage_done embedded
  if [[ ${CORPS_KAFKA:-1} == 0 ]]; then
    echo "test: the real-Kafka stage is skipped (CORPS_KAFKA=0)"
  elif missing=$(for tool in java mvn; do command -v $tool >/dev/null || printf '%s ' $tool; done) &&
    [[ -n $missing ]]; then
    echo "test: the real-Kafka stage is skipped: no ${missing% } on PATH (scripts/setup.sh --kafka installs Java and Maven)"
  else
    # One at a time: each test empties the cluster it shares.
    ctest_in -L kafka
    stage_done kafka
  fi
fi

sanitizers=${CORPS_SANITIZERS:-}
[[ -n $sanitizers ]] || { (($# == 0)) && sanitizers=1 || sanitizers=0; }
if [[ $sanitizers == 0 ]]; then
  echo "test: sanitizer and fuzz stages skipped (CORPS_SANITIZERS=0, or ctest arguments given)"
  exit 0
fi
for kind in asan tsan; do
  echo "test: the unit, integration and mock tests under $kind (scripts/sanitize.sh $kind)"
  "$root/scripts/sanitize.sh" "$kind" "$@"
  stage_done "$kind"
done
echo "test: a bounded fuzz run (scripts/fuzz.sh), in the ASan build"
CORPS_FUZZ_BUILD_DIR=${CORPS_SANITIZE_BUILD_PREFIX:-$build}-asan \
  CORPS_FUZZ_SECONDS=${CORPS_FUZZ_SECONDS:-20} "$root/scripts/fuzz.sh"
stage_done fuzz
