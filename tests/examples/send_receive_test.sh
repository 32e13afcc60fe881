#!/usr/bin/env bash
# Runs MessageCorps's two examples as a user would, as separate programs:
# `corps broker` in the background, the receiver waiting for 100 frames, the
# sender sending them. The receiver finds the broker through its address file.
# With CORPS_TEST_TARGET=kafka, on the real cluster CORPS_TEST_BROKERS names
# instead, found through CORPS_BROKERS.
set -euo pipefail
corps=$1 send_frames=$2 receive_frames=$3
target=${CORPS_TEST_TARGET:-embedded}

work=$(mktemp -d)
export CORPS_BROKER_FILE=$work/broker
unset CORPS_BROKERS
cleanup() { kill "${broker_pid:-}" "${receiver_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [[ $target == kafka ]]; then
  export CORPS_BROKERS=${CORPS_TEST_BROKERS:-127.0.0.1:29092}
  "$CORPS_TEST_CLEAR_CLUSTER" "$CORPS_BROKERS"
  "$corps" topics create VideoStream --partitions 1 >/dev/null
else
  "$corps" broker --topic VideoStream:1 >"$work/broker.out" 2>"$work/broker.log" &
  broker_pid=$!
  for _ in $(seq 100); do [[ -s $CORPS_BROKER_FILE ]] && break; sleep 0.1; done
  [[ -s $CORPS_BROKER_FILE ]] || { echo "corps broker wrote no address file"; cat "$work/broker.log"; exit 1; }
fi

"$receive_frames" --count 100 >"$work/received.txt" 2>"$work/receiver.log" &
receiver_pid=$!
"$send_frames" --count 100 --interval-ms 0 >"$work/sent.txt" 2>"$work/sender.log"
grep -q "sent 100 of 100 frames" "$work/sent.txt"

if ! timeout 60 tail --pid="$receiver_pid" -f /dev/null; then
  echo "receiver did not finish"; cat "$work/receiver.log"; exit 1
fi
wait "$receiver_pid"
frames=$(grep -c '^--- VideoStream\[0\]@' "$work/received.txt")
uuids=$(grep -c '  uuid: "' "$work/received.txt")
last=$(grep '^frame: ' "$work/received.txt" | tail -1)
echo "received $frames frames, $uuids with metadata; last: $last"
[[ $frames == 100 && $uuids == 100 && $last == "frame: 99" ]]

if [[ $target != kafka ]]; then
  kill -TERM "$broker_pid"; wait "$broker_pid"
  [[ ! -e $CORPS_BROKER_FILE ]] || { echo "corps broker left its address file behind"; exit 1; }
fi
echo "1 passed, 0 failed"
