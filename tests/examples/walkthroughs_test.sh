#!/usr/bin/env bash
# The walkthroughs, run as a user would, each against one `corps broker`, or
# with CORPS_TEST_TARGET=kafka on the real cluster CORPS_TEST_BROKERS names
# (emptied first by $CORPS_TEST_CLEAR_CLUSTER; acks needs the embedded
# broker's outage and is left out there).
#   walkthroughs_test.sh CORPS EXAMPLES_DIR SOURCE_DIR [chain|numbers|page_views|acks|schema_registry]
set -uo pipefail
corps=$1 bin=$2 source_dir=$3 only=${4:-all}
target=${CORPS_TEST_TARGET:-embedded}
work=$(mktemp -d)
export CORPS_BROKER_FILE=$work/broker CORPS_LOG_LEVEL=warning
unset CORPS_BROKERS
pids=()
broker_pid=
# Programs first, the broker last: a consumer closing while its broker is
# already gone waits out its close timeout.
cleanup() {
  if ((${#pids[@]} > 0)); then kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; fi
  [[ -n $broker_pid ]] && kill "$broker_pid" 2>/dev/null
  wait 2>/dev/null; rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
verdict() {  # verdict NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; return; fi
  failed=$((failed + 1))
  echo "FAIL $name"
  show_logs
}
show_logs() {  # what each program said, for a failure that does not repeat
  local log
  for log in "$work"/*.log; do
    echo "--- $(basename "$log") (last 40 lines)"
    tail -n 40 "$log"
  done
}
start_broker() {  # start_broker --topic NAME:PARTITIONS ...
  if [[ $target == kafka ]]; then
    export CORPS_BROKERS=${CORPS_TEST_BROKERS:-127.0.0.1:29092}
    "$CORPS_TEST_CLEAR_CLUSTER" "$CORPS_BROKERS" || return 1
    while (($# >= 2)); do
      [[ $1 == --topic ]] && "$corps" topics create "${2%:*}" --partitions "${2#*:}" >/dev/null
      shift 2
    done
    return
  fi
  "$corps" broker "$@" >/dev/null 2>"$work/broker.log" &
  broker_pid=$!
  for _ in $(seq 100); do [[ -s $CORPS_BROKER_FILE ]] && break; sleep 0.1; done
}
wait_for() {  # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local seconds=$1 deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || { echo "gave up after $seconds s waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}
joined() { grep -q "assigned:" "$1" 2>/dev/null; }

chain() {
  start_broker --topic Requests:2 --topic Results:1 --topic Broadcast:1
  local config=$source_dir/examples/chain/chain.yaml n=40
  CORPS_LOG_LEVEL=info "$bin/chain" compute --config "$config" --instance w-1 >"$work/w1" 2>"$work/w1.log" & pids+=($!)
  CORPS_LOG_LEVEL=info "$bin/chain" compute --config "$config" --instance w-2 >"$work/w2" 2>"$work/w2.log" & pids+=($!)
  CORPS_LOG_LEVEL=info "$bin/chain" relay --config "$config" --count $n >"$work/relay" 2>"$work/relay.log" & pids+=($!)
  CORPS_LOG_LEVEL=info "$bin/chain" square --config "$config" --count $n >"$work/square" 2>"$work/square.log" & local square=$!
  CORPS_LOG_LEVEL=info "$bin/chain" negate --config "$config" --count $n >"$work/negate" 2>"$work/negate.log" & local negate=$!
  pids+=($square $negate)
  wait_for 60 bash -c "grep -q 'w-1.*assigned' '$work/w1.log' && grep -q 'w-2.*assigned' '$work/w2.log' &&
    grep -q assigned '$work/relay.log' && grep -q assigned '$work/square.log' && grep -q assigned '$work/negate.log' &&
    test \$(grep -ho 'Requests\[[0-9]\]' '$work/w1.log' '$work/w2.log' | sort -u | wc -l) -eq 2"
  "$bin/chain" request --config "$config" --count $n >/dev/null
  wait_for 60 bash -c "! kill -0 $square 2>/dev/null && ! kill -0 $negate 2>/dev/null"
  /usr/bin/python3 - "$work" $n <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
def rows(name):
    return [line.split() for line in open(f"{work}/{name}")]
for name, f in (("square", lambda v: v * v), ("negate", lambda v: -v)):
    seen = {}
    for _, i, result, transformed, *_ in rows(name):
        i = int(i)
        assert i not in seen, f"{name} saw request {i} twice"
        x, y = i, 2 * i + 1
        assert float(result) == (x + y if i % 2 == 0 else x - y), (name, i, result)
        assert float(transformed) == f(float(result))
        seen[i] = result
    assert sorted(seen) == list(range(n)), f"{name} saw {len(seen)} of {n}"
computed = [line.split()[0] for name in ("w1", "w2") for line in open(f"{work}/{name}")]
assert len(computed) == n, f"{len(computed)} answers for {n} requests"
assert computed.count("w-1") > 0 and computed.count("w-2") > 0, "both workers share the requests"
print(f"chain: {n} requests, one correct answer each ({computed.count('w-1')} by w-1, {computed.count('w-2')} by w-2); square and negate both saw all {n}")
PY
  verdict "chain: one correct answer per request, two workers, fan-out to two groups" test $? -eq 0
}

numbers() {
  start_broker --topic Numbers:1
  "$bin/numbers" send --count 500 --pause-ms 20 >"$work/sent.log" 2>&1 & local sender=$!
  pids+=($sender)
  # Another program reading the table (as the check below does) holds a
  # lock now and then: the store waits for it rather than giving up.
  /usr/bin/python3 -c "import sqlite3, time; c = sqlite3.connect('$work/numbers.db', isolation_level=None)
c.execute('BEGIN EXCLUSIVE'); open('$work/locked', 'w').close(); time.sleep(1.5)" & local locker=$!
  wait_for 10 test -e "$work/locked"
  "$bin/numbers" store --db "$work/numbers.db" --until 500 >"$work/store1.log" 2>&1 & local store=$!
  wait $locker
  wait_for 60 bash -c "test \$(sqlite3 '$work/numbers.db' 'select count(*) from numbers' 2>/dev/null || echo 0) -ge 300"
  kill -9 $store; wait $store 2>/dev/null
  local at_crash=$(sqlite3 "$work/numbers.db" "select count(*) from numbers")
  "$bin/numbers" store --db "$work/numbers.db" --until 500 >"$work/store2.log" 2>&1
  wait $sender
  local total=$(sqlite3 "$work/numbers.db" "select count(*), min(value), max(value) from numbers")
  echo "numbers: $at_crash stored when killed; $(head -1 "$work/store2.log"); $(tail -1 "$work/store2.log"); table: $total"
  verdict "numbers: every number stored once after kill -9 and restart" test "$total" = "500|0|499"
  verdict "numbers: the restart resumed from the last commit, not from 0" \
    bash -c "grep -q 'resuming at offset' '$work/store2.log' && ! grep -q 'resuming at offset 0 ' '$work/store2.log'"
}

page_views() {
  start_broker --topic PageViews:4
  CORPS_LOG_LEVEL=info "$bin/page_views" consume --group readers --instance a >"$work/a" 2>"$work/a.log" & pids+=($!)
  CORPS_LOG_LEVEL=info "$bin/page_views" consume --group audit --instance c --count 200 >"$work/c" 2>"$work/c.log" & local audit=$!
  pids+=($audit)
  wait_for 60 joined "$work/a.log"
  CORPS_LOG_LEVEL=info "$bin/page_views" consume --group readers --instance b >"$work/b" 2>"$work/b.log" & pids+=($!)
  wait_for 60 bash -c "grep -q 'assigned' '$work/b.log' && test \$(grep -c 'assigned' '$work/a.log') -ge 2 && grep -q assigned '$work/c.log'"
  "$bin/page_views" produce --count 200 --users 5 >/dev/null
  wait_for 60 bash -c "! kill -0 $audit 2>/dev/null && test \$(cat '$work/a' '$work/b' | wc -l) -ge 200"
  /usr/bin/python3 - "$work" <<'PY'
import sys, collections
work = sys.argv[1]
def rows(name):
    return [line.split() for line in open(f"{work}/{name}")]
a, b, c = rows("a"), rows("b"), rows("c")
assert len(a) + len(b) == 200 and len(c) == 200, (len(a), len(b), len(c))
assert a and b, "the second consumer took partitions over"
pa, pb = {r[1] for r in a}, {r[1] for r in b}
assert not pa & pb, f"readers shared a partition: {pa & pb}"
partition_of, last = {}, collections.defaultdict(lambda: -1)
for topic, p, offset, key, page, seq in c:
    assert partition_of.setdefault(key, p) == p, f"{key} on two partitions"
    n = int(seq[1:])
    assert n == last[key] + 1, f"{key}: #{n} after #{last[key]}"
    last[key] = n
print(f"page views: a read {len(a)} from partitions {sorted(pa)}, b read {len(b)} from {sorted(pb)}; "
      f"audit read all 200; each user on one partition, in order")
PY
  verdict "page views: keys keep partition and order; two members split; another group reads all" test $? -eq 0
}

acks() {
  "$bin/acks" --count 200 --outage-ms 1500 >"$work/acks" 2>&1
  cat "$work/acks"
  /usr/bin/python3 - "$work/acks" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.split("|")]
    if cells[0] in ("0", "1", "all"):
        rows[cells[0]] = list(map(int, cells[1:7]))
assert set(rows) == {"0", "1", "all"}, rows
for acks, (sent, ok, failed, stored, lost, dup) in rows.items():
    assert ok + failed == sent, f"acks={acks}: every record gets one report"
sent, ok, failed, stored, lost, dup = rows["all"]
# Duplicates are not checked: the embedded broker de-duplicates only
# transactional producers, so an idempotent retry can land twice here.
assert lost == 0 and ok == sent, "acks=all loses nothing"
PY
  verdict "acks: every record reported; acks=all lost nothing" test $? -eq 0
}

schema_registry() {
  if [[ $target == kafka ]]; then
    # The registry on its own, storing in _schemas on the cluster.
    start_broker --topic Orders:1
    echo "$CORPS_BROKERS" >"$work/broker.out"
    "$corps" registry --port 0 >>"$work/broker.out" 2>"$work/broker.log" &
  else
    "$corps" broker --topic Orders:1 --registry --registry-port 0 >"$work/broker.out" 2>"$work/broker.log" &
  fi
  pids+=($!)
  wait_for 20 bash -c "test \$(wc -l <'$work/broker.out') -ge 2"
  local registry=$(sed -n 2p "$work/broker.out") versions=$source_dir/examples/schema_registry
  "$bin/schema_evolution" produce --registry "$registry" --proto "$versions/v1/shop/order.proto" \
    >"$work/v1.out" 2>"$work/v1.log"
  local v1=$?
  "$bin/schema_evolution" consume --registry "$registry" --proto "$versions/v2/shop/order.proto" \
    >"$work/v2.out" 2>"$work/v2.log"
  local v2=$?
  "$bin/schema_evolution" produce --registry "$registry" --proto "$versions/v3/shop/order.proto" \
    >"$work/v3.out" 2>"$work/v3.log"
  local v3=$?
  cat "$work/v1.out" "$work/v2.out" "$work/v3.log"
  verdict "schema_registry: v1 is registered as version 1 and sent" \
    bash -c "test $v1 -eq 0 && grep -q '^Orders-value version 1 is schema id' '$work/v1.out' &&
             test \$(grep -c '^sent ' '$work/v1.out') -eq 3"
  verdict "schema_registry: a v2 reader reads v1's records, the new field empty, the metadata from its header" \
    bash -c "test $v2 -eq 0 && grep -q '^read {\"id\":\"order-2\",\"cents\":\"500\"} (schema id 1, from orders-producer)' '$work/v2.out'"
  verdict "schema_registry: v3 is refused before anything is sent, naming the subject and the field" \
    bash -c "test $v3 -eq 1 && test ! -s '$work/v3.out' &&
             grep -q \"incompatible with subject 'Orders-value'\" '$work/v3.log' &&
             grep -q \"FIELD_SCALAR_KIND_CHANGED at shop.Order field 2 'cents': int64 is now string\" '$work/v3.log' &&
             test \$(kcat -b \"\$(head -1 '$work/broker.out')\" -C -t Orders -e -q -f '%o\\n' | wc -l) -eq 3"
}

for example in chain numbers page_views acks schema_registry; do
  [[ $example == acks && $target == kafka ]] && continue
  [[ $only == all || $only == "$example" ]] && $example
done
echo "$passed passed, $failed failed"
((failed == 0))
