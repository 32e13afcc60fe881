#!/usr/bin/env bash
# The embedded schema registry on three real Kafka brokers: it keeps its
# schemas in a compacted _schemas on every broker, so a registry started
# again while the broker that led _schemas is down (kill -9) still has every
# schema under its id.
#   registry_test.sh CORPS SOURCE_DIR   (fixture kafka3: cluster 'test3')
set -uo pipefail
corps=$1 source_dir=$2
kafka=("$source_dir/scripts/kafka.sh")
work=$(mktemp -d)
registry_pid=
killed=
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null
  [[ -n $killed ]] && "${kafka[@]}" restart "$killed" --name test3 >/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$work"/*.log 2>/dev/null | tail -20; exit 1; }

brokers=$("${kafka[@]}" bootstrap --name test3) || fail "no cluster test3"
export CORPS_BROKERS=$brokers
"$CORPS_TEST_CLEAR_CLUSTER" "$brokers" || fail "cannot empty the cluster"

start_registry() {
  "$corps" registry --port 0 >"$work/url" 2>"$work/registry.log" &
  registry_pid=$!
  for _ in $(seq 300); do [[ -s $work/url ]] && break; sleep 0.1; done
  [[ -s $work/url ]] || fail "the registry printed no URL"
  url=$(head -1 "$work/url")
}
stop_registry() { kill -TERM "$registry_pid"; wait "$registry_pid"; registry_pid=; : >"$work/url"; }

start_registry
id=$(curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
  -d '{"schema": "syntax = \"proto3\"; message A { int32 x = 1; }", "schemaType": "PROTOBUF"}' \
  "$url/subjects/A-value/versions") || fail "registering a schema"
[[ $id == '{"id":1}' ]] || fail "registered as $id"
stop_registry

"$corps" topics describe _schemas >"$work/describe" 2>&1 || fail "describing _schemas: $(cat "$work/describe")"
grep -q $'partition 0\tleader [123]\treplicas [123],[123],[123]\t' "$work/describe" ||
  fail "_schemas is not on all three brokers: $(cat "$work/describe")"
grep -qx '  cleanup.policy=compact' "$work/describe" || fail "_schemas is not compacted"
echo "ok   _schemas: compacted, on three brokers"

leader=$(sed -n $'s/.*partition 0\tleader \\([0-9]\\).*/\\1/p' "$work/describe")
"${kafka[@]}" kill "$leader" --name test3 >/dev/null || fail "kill -9 of node $leader"
killed=$leader
start_registry
schema=$(curl -sf "$url/schemas/ids/1") || fail "schema 1 is gone with node $leader"
grep -q 'message A' <<<"$schema" || fail "schema 1 is now: $schema"
echo "ok   a registry started again with _schemas's leader (node $leader) killed has schema 1"
stop_registry
echo "2 passed, 0 failed"
