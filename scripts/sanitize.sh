#!/usr/bin/env bash
# Builds corps and its tests with sanitizers and runs the unit and
# integration tests under them:
#
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer (build-asan)
#   scripts/sanitize.sh tsan   ThreadSanitizer (build-tsan)
#
# Extra arguments go to ctest, e.g. `scripts/sanitize.sh tsan -R Shutdown`.
# Environment: CORPS_SANITIZE_BUILD_PREFIX (default ./build, giving build-asan
# and build-tsan), CORPS_SANITIZE_CXX (default clang++), CORPS_JOBS (default:
# the cores).
#
# Only corps is instrumented; Debian's protobuf, librdkafka, zlib and
# libstdc++ are not. That is enough for ASan and UBSan. For TSan two files
# make up for librdkafka: tests/sanitizers/c11_threads_shim.c, preloaded,
# routes its C11 threads and locks through the pthread calls TSan
# intercepts, and tests/sanitizers/tsan.supp drops the race reports on the
# library calls librdkafka makes itself on objects it passes between its
# threads with atomics, while keeping those calls' locking (never a corps
# frame alone). The image pipeline, the
# benchmark and the install test are left out: they are the slowest to build,
# and the pipeline's services run the Producer and Consumer the tests cover.
#
# Every instrumented process, including the tools and examples the tests
# start in the background, writes its reports to $build/sanitizer-reports/;
# any report there fails the run, even from a process whose exit status a
# test ignores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

kind=${1:-}
# The ASan build is also the fuzzers' (scripts/fuzz.sh builds them in it
# when told to: CORPS_FUZZ_BUILD_DIR), so it is instrumented for coverage
# too, with the very flags fuzz.sh gives; the tests run the same with it.
case $kind in
  asan)
    sanitize=(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
    fuzzers=ON
    ;;
  tsan) sanitize=(-fsanitize=thread) fuzzers=OFF ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac
shift
build=${CORPS_SANITIZE_BUILD_PREFIX:-$root/build}-$kind
jobs=${CORPS_JOBS:-$(nproc)}
cxx=${CORPS_SANITIZE_CXX:-clang++}
command -v "$cxx" >/dev/null || { echo "sanitize: no $cxx; scripts/setup.sh installs clang" >&2; exit 1; }

# -O1 keeps the tests quick and the stacks readable; Debug keeps assert().
cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer ${sanitize[*]}" \
  -DCORPS_BUILD_PIPELINE=OFF -DCORPS_BUILD_BENCH=OFF -DCORPS_BUILD_FUZZERS=$fuzzers \
  -DCORPS_BUILD_TESTS=ON -DCORPS_BUILD_EXAMPLES=ON -DCORPS_BUILD_TOOLS=ON \
  -DCORPS_INSTALL=OFF >/dev/null
cmake --build "$build" --parallel "$jobs"

reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
supp=$root/tests/sanitizers
case $kind in
  asan)
    # Freed memory is filled with garbage: libraries built without ASan
    # (libprotobuf, librdkafka) then crash on what they read after a free,
    # which ASan cannot see them read.
    export ASAN_OPTIONS="log_path=$reports/asan:halt_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1:max_free_fill_size=4096:free_fill_byte=190"
    export UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=1:print_stacktrace=1"
    ;;
  tsan)
    # librdkafka's threads and locks are C11 ones, which TSan does not
    # intercept: the shim routes them through pthreads (see its header).
    shim=$build/libc11_threads_shim.so
    "${CC:-cc}" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$shim" "$supp/c11_threads_shim.c"
    export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
    # die_after_fork=0: corps::testing::ChildProcess forks a consumer (to be
    # killed mid-batch) from a test that already runs the embedded broker's
    # threads, which TSan otherwise stops at the child's first thread.
    export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$supp/tsan.supp:print_suppressions=0"
    ;;
esac

status=0
# Everything labelled unit, integration or mock (on the embedded broker;
# the real-Kafka runs of the same suites are the plain build's), the
# walkthroughs (examples) and
# the CLI scenario (cli) included: each of their programs is instrumented
# too, and writes its reports here. (They were once left out: a consumer
# of the numbers walkthrough "stalled" past its wait under TSan. It was
# waiting out the session timeout of the member killed before it, 45 s by
# Kafka's default, not a sanitizer's doing; both sanitizers pass them.)
(cd "$build" && ctest --output-on-failure --parallel "$jobs" -L 'unit|integration|mock' -LE kafka "$@") ||
  status=$?

shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]} > 0)); then
  for report in "${found[@]}"; do
    echo "=== sanitizer report: $report"
    cat "$report"
  done
  echo "sanitize: ${#found[@]} sanitizer report(s) under $reports" >&2
  status=1
fi
exit "$status"
