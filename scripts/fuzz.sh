#!/usr/bin/env bash
# Builds corps's libFuzzer targets (fuzz/) with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs each for a bounded time over its seed
# corpus; any crash, sanitizer report or broken check fails the run.
#
#   scripts/fuzz.sh                           every target, $CORPS_FUZZ_SECONDS each (30: CI)
#   CORPS_FUZZ_SECONDS=3600 scripts/fuzz.sh   the longer run: an hour per target
#   scripts/fuzz.sh decode_fuzzer             one target
#   scripts/fuzz.sh --make-corpus             regenerate fuzz/corpus/ (fuzz/make_corpus.cpp)
#
# The build is in build-fuzz (or $CORPS_FUZZ_BUILD_DIR). Each target reads
# the committed seeds in fuzz/corpus/<target>/ and writes what it discovers
# to $build/corpus/<target>/, which later runs start from, so repeated long
# runs go deeper. A failing input is saved as $build/artifacts/<target>-*;
# replay it with `$build/fuzz/<target> FILE`. The full libFuzzer log of each
# run is $build/logs/<target>.log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${CORPS_FUZZ_SECONDS:-30}
jobs=${CORPS_JOBS:-$(nproc)}
cxx=${CORPS_FUZZ_CXX:-clang++}
all_targets=(decode_fuzzer dead_letter_fuzzer cli_input_fuzzer registry_http_fuzzer)

make_corpus=false
targets=()
for arg in "$@"; do
  case $arg in
    --make-corpus) make_corpus=true ;;
    decode_fuzzer | dead_letter_fuzzer | cli_input_fuzzer | registry_http_fuzzer) targets+=("$arg") ;;
    *)
      echo "usage: scripts/fuzz.sh [--make-corpus] [${all_targets[*]}]" >&2
      exit 2
      ;;
  esac
done
((${#targets[@]} > 0)) || targets=("${all_targets[@]}")
command -v "$cxx" >/dev/null || { echo "fuzz: no $cxx; scripts/setup.sh installs clang" >&2; exit 1; }

# corps itself is instrumented for coverage (fuzzer-no-link); only the
# fuzz targets link libFuzzer's main (fuzz/CMakeLists.txt).
sanitize="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cmake -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="-O1 -g -fno-omit-frame-pointer $sanitize" \
  -DCORPS_BUILD_FUZZERS=ON -DCORPS_BUILD_TOOLS=ON \
  -DCORPS_BUILD_TESTS=OFF -DCORPS_BUILD_EXAMPLES=OFF -DCORPS_BUILD_PIPELINE=OFF \
  -DCORPS_BUILD_BENCH=OFF -DCORPS_INSTALL=OFF >/dev/null
cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" fuzz_make_corpus

if $make_corpus; then
  fresh=$(mktemp -d)
  trap 'rm -rf "$fresh"' EXIT
  "$build/fuzz/fuzz_make_corpus" "$fresh"
  for target in decode dead_letter cli_input; do
    rm -rf "$root/fuzz/corpus/$target"
    mkdir -p "$root/fuzz/corpus"
    cp -r "$fresh/$target" "$root/fuzz/corpus/$target"
    echo "fuzz: wrote $(ls "$root/fuzz/corpus/$target" | wc -l) seeds to fuzz/corpus/$target"
  done
  exit 0
fi

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
mkdir -p "$build/artifacts" "$build/logs"
status=0
for target in "${targets[@]}"; do
  name=${target%_fuzzer}
  corpus=$build/corpus/$target
  log=$build/logs/$target.log
  mkdir -p "$corpus"
  rm -f "$build/artifacts/$target-"*
  echo "fuzz: $target for ${seconds} s (seeds: fuzz/corpus/$name, dictionary: fuzz/$name.dict)"
  # The first corpus directory receives new inputs; the committed seeds are
  # only read.
  if "$build/fuzz/$target" "$corpus" "$root/fuzz/corpus/$name" \
    -dict="$root/fuzz/$name.dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/artifacts/$target-" -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" |
      sed 's/^/  /'
  else
    status=1
    echo "fuzz: $target FAILED; the end of $log:" >&2
    tail -n 60 "$log" >&2
    ls "$build/artifacts/$target-"* 2>/dev/null | sed 's/^/  failing input: /' >&2 || true
  fi
done
exit "$status"
