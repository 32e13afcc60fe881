#!/usr/bin/env bash
# The one command that runs the demo from a bare machine: installs what is
# missing, builds, then runs MessageCorps's send/receive examples as two
# programs on an embedded broker (`corps broker`): 100 Image frames sent on
# VideoStream, each printed by the receiver with its metadata.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CORPS_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

work=$(mktemp -d)
export CORPS_BROKER_FILE=$work/broker
cleanup() { kill "${broker_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$build/tools/corps" broker --topic VideoStream:1 >/dev/null &
broker_pid=$!
for _ in $(seq 100); do [[ -s $CORPS_BROKER_FILE ]] && break; sleep 0.1; done

"$build/examples/receive_frames" --count 100 &
receiver_pid=$!
"$build/examples/send_frames" --count 100 "$@"
wait "$receiver_pid"
echo "demo: 100 frames sent and received through the embedded broker"
