#!/usr/bin/env bash
# The whole pipeline on the embedded broker, as a user runs it: a short clip
# from each default video, two predict workers. Checks that the counts
# reconcile, that the summary and the page give the latency of every stage,
# that the database holds every frame with its prediction, and that the live
# page renders in headless Chromium with boxes drawn. With
# CORPS_TEST_TARGET=kafka, on the real cluster CORPS_TEST_BROKERS names
# (emptied first by $CORPS_TEST_CLEAR_CLUSTER), as `scripts/run.sh --brokers`.
set -euo pipefail
bin=$1 checker=$2
work=$(mktemp -d)
brokers=()
if [[ ${CORPS_TEST_TARGET:-embedded} == kafka ]]; then
  brokers=(--brokers "${CORPS_TEST_BROKERS:-127.0.0.1:29092}")
  "$CORPS_TEST_CLEAR_CLUSTER" "${brokers[1]}"
fi
cleanup() { [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- pipeline output"; cat "$work/out.txt"; echo "--- log (tail)"; tail -40 "$work/err.txt"; exit 1; }

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
frames=8
CORPS_LOG_LEVEL=warning "$bin/pipeline" --frames $frames --fps 2 --workers 2 --db "$work/pipeline.db" \
  --port "$port" --linger "${brokers[@]}" >"$work/out.txt" 2>"$work/err.txt" &
pid=$!
for _ in $(seq 240); do grep -q "reconcile" "$work/out.txt" && break; kill -0 $pid 2>/dev/null || break; sleep 0.5; done
grep -q "^counts reconcile: $((2 * frames)) captured" "$work/out.txt" || fail "counts do not reconcile"
# Every consumer joins in seconds here: the launcher must see it, not wait
# out its 60 s.
! grep -q "not every consumer joined" "$work/err.txt" || fail "the launcher did not see its consumers join"
grep -q "frames predicted:     $((2 * frames)) by 2 workers" "$work/out.txt" || fail "two workers did not share the frames"
# Latency by stage: each of the five measured, in the summary and on the page.
stages=(capture-\>acked sent-\>fetched fetched-\>decoded inference prediction-\>stored)
for stage in "${stages[@]}"; do
  grep -Eq "^  $stage +[0-9.]+ / +[0-9.]+ ms$" "$work/out.txt" || fail "the summary has no latency for $stage"
done

# The page, in a real browser.
chromium_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/chromium" --window-size=1500,900 --virtual-time-budget=4000)
chromium "${chromium_flags[@]}" --screenshot="$work/page.png" "http://127.0.0.1:$port/" >/dev/null 2>&1
chromium "${chromium_flags[@]}" --dump-dom "http://127.0.0.1:$port/" >"$work/dom.html" 2>/dev/null
grep -q 'class="label">person' "$work/dom.html" || fail "the page lists no 'person' label"
grep -q 'class="label">face' "$work/dom.html" || fail "the page lists no 'face' label"
"$checker" "$work/page.png" || fail "the screenshot shows no frame with boxes"
for stage in "${stages[@]}"; do
  grep -q "<td>${stage/->/"-&gt;"}</td><td>[0-9.]*</td>" "$work/dom.html" || fail "the page shows no latency for $stage"
done
grep -q "<td>predict-1" "$work/dom.html" || fail "the page shows no service's counters"

kill -TERM $pid
wait $pid || fail "pipeline exited with $?"
pid=
grep -q "pipeline: stopped$" "$work/out.txt" || fail "a service failed to stop cleanly"

# The database: every frame with its prediction, queried by frame and label.
for source in vtest megamind; do
  for ((n = 0; n < frames; n++)); do
    "$bin/store" --db "$work/pipeline.db" --frame "$source:$n" | grep -q "detections:" \
      || fail "$source frame $n is not stored with its prediction"
  done
done
"$bin/store" --db "$work/pipeline.db" --label person | grep -q "^vtest frame" || fail "no vtest frame with a person"
"$bin/store" --db "$work/pipeline.db" --label face | grep -q "^megamind frame" || fail "no megamind frame with a face"
cat "$work/out.txt" | sed -n '/=== summary ===/,$p'
echo "1 passed, 0 failed"
