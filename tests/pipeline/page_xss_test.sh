#!/usr/bin/env bash
# The pipeline's page shows what records say as text, in a real browser:
# a Prediction whose source and label are HTML, and a service status whose
# instance and counter are HTML, must render as their characters, run no
# script, and make no element. Headless Chromium loads the page and dumps
# the DOM it built.
#   page_xss_test.sh CORPS DISPLAY SOURCE_DIR
set -uo pipefail
corps=$1 display=$2 source_dir=$3
work=$(mktemp -d)
export CORPS_BROKER_FILE=$work/broker CORPS_LOG_LEVEL=warning
unset CORPS_BROKERS
pids=()
cleanup() { ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
wait_for() {
  for _ in $(seq 300); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "no line matching '$2' in $1: $(cat "$1")"
}

"$corps" broker --topic VideoStream:1 --topic Predictions:1 --topic PipelineStatus:1 \
  >"$work/broker.out" 2>"$work/broker.log" & pids+=($!)
wait_for "$work/broker.out" '^127\.0\.0\.1:'
brokers=$(head -1 "$work/broker.out")
"$display" --brokers "$brokers" --instance xss --port 0 >"$work/display.out" 2>"$work/display.log" &
pids+=($!)
wait_for "$work/display.out" '^display: http://'
page=$(sed -n 's|^display: \(http://[^ ]*\)$|\1|p' "$work/display.out")

# Each payload would set the page's title if it ran as HTML.
img='<img src=x onerror="document.title=\"pwned\"">'
/usr/bin/python3 - "$img" "$work" <<'PY'
import json, sys
img, work = sys.argv[1], sys.argv[2]
with open(f"{work}/prediction.json", "w") as out:
    print(json.dumps({"source": "<b>cam</b>", "frame": 1, "detections": [{"label": img}]}), file=out)
with open(f"{work}/status.json", "w") as out:
    print(json.dumps({"service": "predict", "instance": img,
                      "counters": {"<svg onload=alert(1)>": 1}}), file=out)
PY
"$corps" produce Predictions -b "$brokers" -F "$work/prediction.json" || fail "producing the prediction"
"$corps" produce PipelineStatus -b "$brokers" -T PipelineStatus=corps.pipeline.ServiceStatus \
  -I "$source_dir/apps/pipeline/proto" -I "$source_dir/proto" --proto pipeline/status.proto \
  -F "$work/status.json" || fail "producing the status"
for _ in $(seq 100); do
  curl -sf "$page/stats.json" | grep -q 'svg onload' && break
  sleep 0.2
done

chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chromium" --virtual-time-budget=4000 --dump-dom "$page/" \
  >"$work/dom.html" 2>/dev/null
grep -q '<title>corps pipeline</title>' "$work/dom.html" || fail "the title changed: a payload ran"
grep -q '&lt;img src=x onerror=' "$work/dom.html" || fail "the label is not shown as text"
grep -q '&lt;b&gt;cam&lt;/b&gt;' "$work/dom.html" || fail "the source is not shown as text"
grep -q '&lt;svg onload=alert(1)&gt;' "$work/dom.html" || fail "the counter is not shown as text"
! grep -qE '<(img src="x"|b>cam|svg)' "$work/dom.html" || fail "a payload became an element"
curl -sfI "$page/" | grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" ||
  fail "the page has no Content-Security-Policy"

# Names come from records: a stream of new ones cannot grow the page's maps.
/usr/bin/python3 -c '
import json
for n in range(100): print(json.dumps({"source": f"s{n}", "frame": 1}))' >"$work/sources.json"
"$corps" produce Predictions -b "$brokers" -F "$work/sources.json" 2>/dev/null || fail "producing 100 sources"
for _ in $(seq 100); do
  curl -sf "$page/stats.json" >"$work/stats.json" && grep -q '"errors":8[5-9]\|"errors":9' "$work/stats.json" && break
  sleep 0.2
done
/usr/bin/python3 -c '
import json, sys
stats = json.load(open(sys.argv[1]))
sources = len(stats.get("sources", []))
assert sources == 16, f"{sources} sources kept, not the cap of 16"
assert isinstance(stats.get("errors"), int) and stats["errors"] >= 85, stats.get("errors")
' "$work/stats.json" || fail "the sources are not capped: $(head -c 300 "$work/stats.json")"
echo "2 passed, 0 failed"
