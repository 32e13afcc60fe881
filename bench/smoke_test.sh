#!/usr/bin/env bash
# Smoke test of corps_bench: a --quick run prints both tables with their
# corps/raw rows and writes JSON that parses. Speeds are not checked: they
# depend on the machine.
set -euo pipefail
bench=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bench" --quick --json "$work/results.json" >"$work/table.md"
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
echo "bench smoke test: ok"
