#!/usr/bin/env bash
# corps's HTTP servers against hostile requests, from the outside, as
# curl or a script would send them: the schema registry (`corps registry`),
# a metrics endpoint (`corps consume --metrics-port`), the embedded broker's
# control path (`corps broker`) and, when the pipeline
# is built, its page (`display`). Each must give the documented refusal and
# stay up and small (tests/http/hostile.py says what each check sends).
#   hostile_test.sh CORPS SOURCE_DIR [DISPLAY]
set -uo pipefail
corps=$1 source_dir=$2 display=${3:-}
hostile=$source_dir/tests/http/hostile.py
work=$(mktemp -d)
export CORPS_BROKER_FILE=$work/broker CORPS_LOG_LEVEL=warning
unset CORPS_BROKERS
pids=()
checkers=()
cleanup() {
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME URL PID [PATH]
  if /usr/bin/python3 "$hostile" "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
wait_for() {  # wait_for FILE PATTERN: until FILE holds a line matching PATTERN
  for _ in $(seq 300); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "FAIL: no line matching '$2' in $1:"; cat "$1"; exit 1
}

"$corps" broker --topic Orders:1 >"$work/broker.out" 2>"$work/broker.log" & pids+=($!)
wait_for "$work/broker.out" '^127\.0\.0\.1:'

"$corps" registry --port 0 >"$work/registry.out" 2>"$work/registry.log" & registry_pid=$!
pids+=($registry_pid)
wait_for "$work/registry.out" '^http://'
registry=$(head -1 "$work/registry.out")

"$corps" consume Orders -T Orders=corps.proto.Prediction -G hostile --metrics-port 0 \
  >/dev/null 2>"$work/consume.log" & metrics_pid=$!
pids+=($metrics_pid)
wait_for "$work/consume.log" '^corps: metrics at '
metrics=$(sed -n 's|^corps: metrics at \(http://[^/]*\)/metrics|\1|p' "$work/consume.log")

# The broker's control path (`corps topics create` on the embedded broker):
# its URL is the address file's third line.
control=$(sed -n 3p "$CORPS_BROKER_FILE")
servers=("$registry $registry_pid /subjects/Any-value/versions" "$metrics $metrics_pid /metrics"
  "$control ${pids[0]} /topics/Hostile")
if [[ -n $display ]]; then
  "$display" --brokers "$(head -1 "$work/broker.out")" --instance hostile --port 0 \
    >"$work/display.out" 2>"$work/display.log" & display_pid=$!
  pids+=($display_pid)
  wait_for "$work/display.out" '^display: http://'
  page=$(sed -n 's|^display: \(http://[^/]*\)/$|\1|p' "$work/display.out")
  servers+=("$page $display_pid /")
fi

# The servers are separate processes: each is checked on its own, all at
# once, each check after the one before on its server.
check deep-schema "$registry" "$registry_pid"
check encoded-subject "$registry" "$registry_pid"
n=0
for server in "${servers[@]}"; do
  n=$((n + 1))
  (
    read -r url pid path <<<"$server"
    for kind in gzip-bomb huge-body many-headers long-header slow-client; do
      /usr/bin/python3 "$hostile" "$kind" "$url" "$pid" "$path" && echo pass >>"$work/verdicts" ||
        echo fail >>"$work/verdicts"
    done
  ) >"$work/server$n.out" 2>&1 &
  checkers+=($!)
done
wait "${checkers[@]}"
cat "$work"/server*.out
passed=$((passed + $(grep -c pass "$work/verdicts")))
failed=$((failed + $(grep -c fail "$work/verdicts")))
echo "$passed passed, $failed failed"
((failed == 0))
