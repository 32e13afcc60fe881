#!/usr/bin/env bash
# A registration whose write to _schemas outlives the registry's wait (the
# broker paused past it) answers 500, and may land all the same once the
# broker runs again. Its id must not go to the next schema: the registry
# fences and reads _schemas to its end before it hands out an id. Before,
# B took A's id, and a restarted registry showed A under B's subject.
#   registry_unknown_write_test.sh CORPS SOURCE_DIR   (fixture kafka: cluster 'test')
set -uo pipefail
corps=$1 source_dir=$2
kafka=("$source_dir/scripts/kafka.sh")
work=$(mktemp -d)
registry_pid=
paused=
cleanup() {
  [[ -n $paused ]] && "${kafka[@]}" resume 1 --name test >/dev/null
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -20 "$work/registry.log" 2>/dev/null; exit 1; }

brokers=$("${kafka[@]}" bootstrap --name test) || fail "no cluster test"
export CORPS_BROKERS=$brokers
"$CORPS_TEST_CLEAR_CLUSTER" "$brokers" || fail "cannot empty the cluster"

start_registry() {
  "$corps" registry --port 0 >"$work/url" 2>>"$work/registry.log" &
  registry_pid=$!
  for _ in $(seq 300); do [[ -s $work/url ]] && break; sleep 0.1; done
  [[ -s $work/url ]] || fail "the registry printed no URL"
  url=$(head -1 "$work/url")
}
stop_registry() { kill -TERM "$registry_pid"; wait "$registry_pid"; registry_pid=; : >"$work/url"; }
schema() { printf '{"schema": "syntax = \\"proto3\\"; message M { string %s = 1; }", "schemaType": "PROTOBUF"}' "$1"; }
register() {  # register SUBJECT FIELD: prints the HTTP status, then the body
  curl -s -m 60 -o "$work/body" -w '%{http_code}\n' -X POST \
    -H 'Content-Type: application/vnd.schemaregistry.v1+json' -d "$(schema "$2")" \
    "$url/subjects/$1/versions"
  cat "$work/body"
}
id_in() { sed -n 's/.*"id":\([0-9]*\).*/\1/p' <<<"$1"; }

start_registry
answer=$(register warm-value warm)
[[ ${answer%%$'\n'*} == 200 ]] || fail "registering a first schema: $answer"

"${kafka[@]}" pause 1 --name test >/dev/null || fail "pausing node 1"
paused=1
answer=$(register A-value a)
"${kafka[@]}" resume 1 --name test >/dev/null || fail "resuming node 1"
paused=
[[ ${answer%%$'\n'*} == 500 ]] || fail "registering A with the broker paused answered: $answer"
echo "ok   A, registered with the broker paused past the registry's wait, answered 500"

answer=$(register B-value b)
[[ ${answer%%$'\n'*} == 200 ]] || fail "registering B: $answer"
b_id=$(id_in "$answer")
a_latest=$(curl -s "$url/subjects/A-value/versions/latest")
if grep -q '"id"' <<<"$a_latest"; then
  a_id=$(id_in "$a_latest")
  [[ $a_id != "$b_id" ]] || fail "A landed with id $a_id, and B got the same id"
  echo "ok   A landed after all, under id $a_id; B got id $b_id"
else
  echo "ok   A did not land; B got id $b_id"
fi
stop_registry

start_registry
grep -q 'string b' <<<"$(curl -s "$url/schemas/ids/$b_id")" || fail "after a restart id $b_id is not B"
grep -q 'string b' <<<"$(curl -s "$url/subjects/B-value/versions/latest")" ||
  fail "after a restart B-value does not show B"
if [[ -n ${a_id:-} ]]; then
  grep -q 'string a' <<<"$(curl -s "$url/schemas/ids/$a_id")" || fail "after a restart id $a_id is not A"
fi
echo "ok   a restarted registry reads the same ids back"
stop_registry
echo "3 passed, 0 failed"
