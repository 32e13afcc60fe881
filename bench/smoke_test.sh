#!/usr/bin/env bash
# Smoke test of corps_bench: a --quick run prints both tables with their
# corps/raw rows and writes JSON that parses. Speeds are not checked: they
# depend on the machine.
# With CORPS_TEST_TARGET=kafka, on the real cluster CORPS_TEST_BROKERS names
# (emptied first by $CORPS_TEST_CLEAR_CLUSTER), and the run must delete the
# topics it made.
set -euo pipefail
bench=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
on=()
if [[ ${CORPS_TEST_TARGET:-embedded} == kafka ]]; then
  brokers=${CORPS_TEST_BROKERS:-127.0.0.1:29092}
  "$CORPS_TEST_CLEAR_CLUSTER" "$brokers"
  on=(--brokers "$brokers")
fi
bench() { "$bench" "${on[@]}" "$@"; }

bench --quick --json "$work/results.json" >"$work/table.md"
cat "$work/table.md"

for expected in '### Throughput' '### Latency and memory' '| small | raw librdkafka |' \
    '| small | corps |' '| frame | corps |' '**corps / raw**' '| small | codec only |' '| small | codec only, after a bomb |'; do
  grep -qF -- "$expected" "$work/table.md" || { echo "missing from the table: $expected" >&2; exit 1; }
done
/usr/bin/python3 -c '
import json, sys
results = json.load(open(sys.argv[1]))
assert len(results["rows"]) == 6, results["rows"]
assert {r["payload"] for r in results["ratios"]} == {"small", "frame"}, results["ratios"]
' "$work/results.json"

# Values framed for a schema registry: the run registers its schemas in an
# embedded registry and sends and reads them framed, checked like the rest.
bench --quick --payload small --codec confluent --json "$work/confluent.json" >"$work/confluent.md"
grep -qF '| small | **corps / raw** |' "$work/confluent.md" || { echo "no confluent ratio row" >&2; exit 1; }
/usr/bin/python3 -c '
import json, sys
results = json.load(open(sys.argv[1]))
assert results["setup"]["codec"] == "confluent", results["setup"]
assert len(results["rows"]) == 3, results["rows"]
small = results["payloads"][0]
assert small["value_bytes"] > small["serialized_bytes"], small
' "$work/confluent.json"
if ((${#on[@]})); then
  left=$(/usr/bin/python3 -c '
import sys
from confluent_kafka.admin import AdminClient
topics = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=10).topics
print(" ".join(t for t in topics if t.startswith("corps-bench-")))' "${on[1]}")
  [[ -z $left ]] || { echo "the run left its topics behind: $left" >&2; exit 1; }
fi
# Instructions per record under valgrind: every phase counted, each count
# above zero (the counts themselves depend on the build).
if ((${#on[@]} == 0)); then
  bench --instructions --quick --payload small >"$work/instructions.md"
  cat "$work/instructions.md"
  for phase in '| small | raw librdkafka | produce |' '| small | raw librdkafka | consume |' \
      '| small | corps | produce |' '| small | corps | consume |' '| small | codec only | encode |' \
      '| small | codec only | load |' '| small | consume |'; do
    grep -qF -- "$phase" "$work/instructions.md" || { echo "missing from the counts: $phase" >&2; exit 1; }
  done
  if grep -E '^\| small \| [a-z ]+ \| [a-z]+ \| [0-9]+ \| 0 \|' "$work/instructions.md"; then
    echo "a phase counted no instructions" >&2
    exit 1
  fi
fi
echo "bench smoke test: ok"
