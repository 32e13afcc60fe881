#!/usr/bin/env bash
# Every `corps` subcommand end to end, as a user runs them, checked against
# kcat and Python where someone else's tool can say: on a `corps broker` it
# starts, or with CORPS_TEST_TARGET=kafka on the real cluster
# CORPS_TEST_BROKERS names (emptied first by $CORPS_TEST_CLEAR_CLUSTER).
set -uo pipefail
corps=$1 source_dir=$2 python_dir=$3
target=${CORPS_TEST_TARGET:-embedded}
here=$source_dir/tests/cli
work=$(mktemp -d)
export CORPS_BROKER_FILE=$work/broker
unset CORPS_BROKERS
cleanup() { kill "${broker_pid:-}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...: passes if COMMAND succeeds
  local name=$1; shift
  if "$@" >"$work/last.out" 2>"$work/last.err"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$work/last.out" "$work/last.err" | tail -15
  fi
}
json() { /usr/bin/python3 -c "import json,sys; $1" ; }

# --- broker -------------------------------------------------------------------
if [[ $target == kafka ]]; then
  brokers=${CORPS_TEST_BROKERS:-127.0.0.1:29092}
  "$CORPS_TEST_CLEAR_CLUSTER" "$brokers" || exit 1
  export CORPS_BROKERS=$brokers
  for topic in Predictions:2 VideoStream:1 Orders:1; do
    check "topics create ${topic%:*} on Kafka" \
      "$corps" topics create "${topic%:*}" --partitions "${topic#*:}" --replication-factor 1
  done
  check "kcat sees the topics created" \
    bash -c "kcat -b '$brokers' -L | grep -q 'topic \"Predictions\" with 2 partitions'"
else
  "$corps" broker --topic Predictions:2 --topic VideoStream:1 --topic Orders:1 >"$work/address" 2>"$work/broker.log" &
  broker_pid=$!
  for _ in $(seq 100); do [[ -s $CORPS_BROKER_FILE ]] && break; sleep 0.1; done
  brokers=$(cat "$work/address")
  check "broker prints its address and writes the address file" \
    bash -c "[[ '$brokers' == 127.0.0.1:* && \$(head -1 '$CORPS_BROKER_FILE') == '$brokers' ]]"
  check "kcat sees the topics the broker was started with" \
    bash -c "kcat -b '$brokers' -L | grep -q 'topic \"Predictions\" with 2 partitions'"
  check "a second broker is refused, naming the first, which goes on serving" bash -c "
    timeout 10 '$corps' broker >/dev/null 2>'$work/second.err'; test \$? -eq 1 &&
    grep -q 'a corps broker already runs at $brokers' '$work/second.err' &&
    test \$(head -1 '$CORPS_BROKER_FILE') == '$brokers' && '$corps' topics list >/dev/null"
  check "a second broker runs beside it with --no-address-file" bash -c "
    timeout 3 '$corps' broker --no-address-file >'$work/second.out' 2>/dev/null
    grep -q '^127.0.0.1:' '$work/second.out' && test \$(head -1 '$CORPS_BROKER_FILE') == '$brokers'"
fi

# --- topics -------------------------------------------------------------------
check "topics list" bash -c "'$corps' topics list | grep -qx \$'Predictions\tpartitions=2'"
check "topics describe shows partitions, leaders and replicas" \
  bash -c "'$corps' topics describe Predictions --timeout 1000 | grep -q \$'partition 1\tleader 1\treplicas 1'"
if [[ $target == kafka ]]; then
check "topics create with configs, then describe shows them and exits 0" bash -c "
  '$corps' topics create Extra --partitions 3 --config-entry retention.ms=3600000 --config-entry cleanup.policy=compact &&
  '$corps' topics describe Extra >'$work/extra' &&
  grep -q 'topic Extra with 3 partitions' '$work/extra' && grep -qx '  retention.ms=3600000' '$work/extra' &&
  grep -qx '  cleanup.policy=compact' '$work/extra'"
check "topics create of a topic that exists fails, naming it" bash -c "
  '$corps' topics create Extra 2>&1; test \$? -eq 1" 
grep -q "'Extra'" "$work/last.out" || { failed=$((failed + 1)); echo "FAIL the refusal names the topic"; }
check "topics alter adds partitions and changes configs" bash -c "
  '$corps' topics alter Extra --partitions 5 --config-entry retention.ms=7200000 &&
  '$corps' topics describe Extra >'$work/extra' &&
  grep -q 'topic Extra with 5 partitions' '$work/extra' && grep -qx '  retention.ms=7200000' '$work/extra'"
check "topics alter cannot shrink a topic, and says so" bash -c "
  '$corps' topics alter Extra --partitions 2 2>&1; test \$? -eq 1"
check "topics delete removes a topic" bash -c "
  '$corps' topics delete Extra && ! '$corps' topics list | grep -q '^Extra'"
check "topics delete of a topic that does not exist exits 1, naming it" bash -c "
  '$corps' topics delete Extra 2>&1; test \$? -eq 1"
grep -q "no such topic" "$work/last.out" || { failed=$((failed + 1)); echo "FAIL the refusal says there is no such topic"; }
else
check "topics create on a corps broker creates the topic there, as kcat sees it" bash -c "
  '$corps' topics create Extra --partitions 3 | grep -qx 'created Extra with 3 partitions, replication the cluster'\\''s default' &&
  kcat -b '$brokers' -L | grep -q 'topic \"Extra\" with 3 partitions'"
check "topics create of a topic that is there fails, naming it" bash -c "
  '$corps' topics create Extra 2>'$work/exists.err'; test \$? -eq 1 && grep -q 'already exists' '$work/exists.err'"
check "topics create with configs on the embedded broker fails at once, naming the limit" bash -c "
  timeout 30 '$corps' topics create Kept --config-entry retention.ms=1000 --timeout 60000 2>'$work/configs.err'
  test \$? -eq 1 && grep -q 'keeps no topic configs' '$work/configs.err'"
check "topics describe on the embedded broker exits 0, saying it keeps no configs" bash -c "
  '$corps' topics describe Predictions | grep -q '^configs: none (the embedded broker keeps no topic configs)'"
check "topics alter on the embedded broker fails naming the limit" bash -c "
  '$corps' topics alter Predictions --partitions 4 --timeout 1000 2>&1 | grep -q 'CreatePartitions'"
fi
# A refused connection is final: said at once in one line, whatever
# --timeout is. The 20 s bound is a watchdog against the 60 s wait, not a
# speed figure.
for command in "consume Predictions -e" "produce Predictions" "topics list" "lag readers" "replay"; do
  check "a refused connection: $command exits 1 at once, in one line" bash -c "
    timeout 20 '$corps' $command -b 127.0.0.1:1 --timeout 60000 </dev/null 2>'$work/refused.err'
    test \$? -eq 1 && test \$(wc -l <'$work/refused.err') -eq 1 &&
    grep -q 'nothing listens at 127.0.0.1:1 (connection refused)' '$work/refused.err'"
done
check "a broker name that does not resolve is named as the cause" bash -c "
  '$corps' produce Predictions -b no-such-host.invalid:9092 --timeout 1000 </dev/null 2>&1 | tail -1 |
    grep -q 'Failed to resolve'"

check "usage lines name the command corps, not the path it was run by" bash -c "
  '$corps' consume --help | grep -q '^Usage: corps consume '"

# --- produce and consume, JSON ------------------------------------------------
printf '{"object":["person"],"frame":1}\ncam-2|{"frame":2,"object":["face","person"]}\n' >"$work/in.json"
check "produce JSON lines with keys" bash -c "'$corps' produce Predictions -F '$work/in.json' -K '|' -H origin=test"
"$corps" consume Predictions -o beginning -e >"$work/out.json" 2>/dev/null
check "consume prints one JSON object per record with coordinates, key, headers, metadata" json "
lines = [json.loads(l) for l in open('$work/out.json')]
assert len(lines) == 2, lines
by_frame = {int(l['message']['frame']): l for l in lines}
assert by_frame[2]['key'] == 'cam-2' and by_frame[1]['key'] is None
assert by_frame[2]['message']['object'] == ['face', 'person']
for l in lines:
    assert l['topic'] == 'Predictions' and l['type'] == 'corps.proto.Prediction'
    assert l['headers']['origin'] == 'test' and l['headers']['corps-type'] == 'corps.proto.Prediction'
    md = l['message']['message_data']
    assert len(md['uuid']) == 36 and len(md['trace_id']) == 32 and md['timestamp'] > 0
    assert int(md.get('offset', 0)) == l['offset'] and int(md.get('partition', 0)) == l['partition']
"

# --- produce and consume, text and format strings -----------------------------
printf 'frame: 7 object: "cat"\n' | "$corps" produce VideoStream --input text -T VideoStream=corps.proto.Prediction >/dev/null 2>&1
check "a send of the wrong type is refused by the consumer's channel type" bash -c "
  '$corps' consume VideoStream -o beginning -e 2>/dev/null | grep -q '\"stage\":\"type\"'"
printf 'frame: 9 width: 2 height: 1 image_data: "abcdef"\n' >"$work/image.txt"
check "produce protobuf text" "$corps" produce VideoStream --input text -F "$work/image.txt"
check "consume prints protobuf text" bash -c "
  '$corps' consume VideoStream -o -1 -e --output text 2>/dev/null | grep -q '^frame: 9$'"
check "consume -f prints a kcat-style format" bash -c "
  '$corps' consume VideoStream -o -1 -e -f '%t|%p|%o|%y|%S\n' 2>/dev/null | grep -qE '^VideoStream\|0\|1\|corps.proto.Image\|[0-9]+$'"
check "produce reports a line that is not the channel's type and exits 3" bash -c "
  echo 'not json' | '$corps' produce Predictions 2>&1; test \$? -eq 3"
grep -q "stdin:1: not a corps.proto.Prediction in json" "$work/last.out" \
  || { failed=$((failed + 1)); echo "FAIL the refusal names the line and the type"; }

# --- codecs beyond zlib, named in a header ---------------------------------------
# The padding takes each record past 256 bytes: zstd and lz4 send shorter
# values uncompressed, under codec none (HandlerOptions::uncompressed_below).
padding=$(printf 'x%.0s' $(seq 300))
for codec in none zstd lz4; do
  echo '{"frame": 31, "object": ["'$codec'", "'$padding'"]}' \
    | "$corps" produce Predictions -p 1 --codec $codec >/dev/null
  "$corps" consume Predictions -o -1 -e >"$work/codec.json" 2>/dev/null
  check "produce --codec $codec: the record names its codec and consumes as usual" json "
lines = [json.loads(l) for l in open('$work/codec.json')]
line = [l for l in lines if l['partition'] == 1][0]
assert line['headers']['corps-codec'] == '$codec', line
assert line['message']['object'] == ['$codec', '$padding'], line
"
done
check "produce refuses a codec it does not know" bash -c "
  echo '{}' | '$corps' produce Predictions --codec brotli 2>&1; test \$? -ne 0"

# --- records from MessageCorps, and corrupt ones ------------------------------
PYTHONPATH=$python_dir /usr/bin/python3 "$source_dir/tests/interop/messagecorps_client.py" write \
  --brokers "$brokers" --topic VideoStream --count 1 >/dev/null
echo "not-zlib-at-all" | kcat -b "$brokers" -P -t VideoStream -p 0
PYTHONPATH=$python_dir /usr/bin/python3 "$source_dir/tests/interop/messagecorps_client.py" write \
  --brokers "$brokers" --topic VideoStream --count 1 >/dev/null
"$corps" consume VideoStream -o 2 -e >"$work/mixed.json" 2>/dev/null
echo $? >"$work/mixed.rc"
check "a MessageCorps record decodes, a corrupt one is an error line with hex, the next still prints" json "
lines = [json.loads(l) for l in open('$work/mixed.json')]
assert [l['offset'] for l in lines] == [2, 3, 4], lines
assert lines[0]['message']['image_data'] and lines[0]['headers'] == {} and lines[0]['key'] is None
assert lines[1]['error']['stage'] == 'decompress' and lines[1]['error']['code'] == 'corrupt_data'
assert lines[1]['value_hex'] == b'not-zlib-at-all'.hex(), lines[1]
assert lines[2]['message']['width'] == 10
assert open('$work/mixed.rc').read().strip() == '3'
"

# Keys and header values are bytes; the JSON line must stay JSON (RFC 8259: UTF-8).
printf 'k\xff:not-zlib\n' | kcat -b "$brokers" -P -t VideoStream -p 0 -K : -H $'bin=a\xffb'
"$corps" consume VideoStream -o -1 -e >"$work/bytes.json" 2>/dev/null
check "bytes that are not UTF-8 make a JSON line: a key as U+FFFD, a header value in base64" json "
line = json.loads(open('$work/bytes.json', encoding='utf-8', errors='strict').read())
assert line['key'] == 'k\\ufffd' and line['headers']['bin'] == {'base64': 'Yf9i'}, line
assert line['error']['code'] == 'corrupt_data', line
"
check "produce refuses a string field that is not UTF-8, naming it, and exits 3" bash -c "
  printf 'frame: 3 source: \"cam\\\\377\"\\n' | '$corps' produce VideoStream --input text 2>&1; test \$? -eq 3"
grep -q "string field 'source' is not valid UTF-8" "$work/last.out" \
  || { failed=$((failed + 1)); echo "FAIL the refusal names the field"; }

# --- schemas corps was never compiled with -------------------------------------
echo '{"item":"tea","quantity":3}' >"$work/order.json"
check "produce a type from a .proto given on the command line" \
  "$corps" produce Orders --proto "$here/proto/shop/order.proto" -T Orders=shop.Order -F "$work/order.json"
check "consume it through --proto -I" bash -c "
  '$corps' consume Orders --proto '$here/proto/shop/order.proto' -I '$here/proto' -T Orders=shop.Order \
    -o beginning -e -f '%y %s\n' 2>/dev/null | grep -q '^shop.Order {\"item\":\"tea\",\"quantity\":3'"
check "--proto takes a name under -I, as protoc does, from any directory" bash -c "
  cd '$work' && '$corps' consume Orders -I '$here/proto' --proto shop/order.proto -T Orders=shop.Order \
    -o beginning -e -f '%y\n' 2>/dev/null | grep -qx shop.Order"
check "a --proto found nowhere is named in the error, with where it was looked for" bash -c "
  cd '$work' && '$corps' consume Orders -I '$here/proto' --proto shop/nothing.proto -T Orders=shop.Order -e 2>&1 |
    grep -q \"shop/nothing.proto (no such file from $work, nor under the include directories $here/proto)\""
check "a --proto under no -I says there was no include directory to look under" bash -c "
  cd '$work' && '$corps' consume Orders --proto shop/order.proto -T Orders=shop.Order -e 2>&1 |
    grep -q 'and no include directory (-I DIR) to look under'"
protoc --descriptor_set_out="$work/order.desc" --include_imports -I "$here/proto" -I "$source_dir/proto" shop/order.proto
check "consume it through a descriptor set" bash -c "
  '$corps' consume Orders --descriptor-set '$work/order.desc' -T Orders=shop.Order -o beginning -e \
    -f '%y\n' 2>/dev/null | grep -qx shop.Order"
printf 'channels:\n  Orders: shop.Order\n' >"$work/corps.yaml"
check "the channel's type can come from a YAML config" bash -c "
  '$corps' consume Orders --config '$work/corps.yaml' --proto '$here/proto/shop/order.proto' -o beginning -e \
    -f '%y\n' 2>/dev/null | grep -qx shop.Order"
check "produce to a channel with no type is refused, naming the fix" bash -c "
  '$corps' produce Orders -F '$work/order.json' 2>&1 | grep -q \"channel 'Orders' has no type: bind it with --type\""
check "consume of a channel with no type decodes each record as its corps-type header names" bash -c "
  '$corps' consume Orders --proto '$here/proto/shop/order.proto' -o beginning -e -f '%y %s\n' 2>/dev/null |
    grep -q '^shop.Order {\"item\":\"tea\",\"quantity\":3'"
check "a header naming a type this process lacks: printed undecoded, exit 3, the fix said once" bash -c "
  '$corps' consume Orders -o beginning -e >'$work/untyped.out' 2>'$work/untyped.err'; test \$? -eq 3 &&
  grep -q \"corps-type header names shop.Order, a type channel 'Orders' does not carry here\" '$work/untyped.out' &&
  test \$(grep -c 'give --proto FILE' '$work/untyped.err') -eq 1"
check "--raw prints every record's value in base64, decoding nothing, and exits 0" bash -c "
  '$corps' consume Orders --raw -o beginning -e >'$work/raw.out' &&
  grep -q '\"headers\":{\"corps-type\":\"shop.Order\"' '$work/raw.out' &&
  grep -q '\"value_base64\":\"eA' '$work/raw.out' && ! grep -q '\"error\"' '$work/raw.out'"
check "--raw -f '%s' prints the value's bytes as they are, as kcat does" bash -c "
  cmp <('$corps' consume Orders --raw -o beginning -e -f '%s') \
      <(kcat -b '$brokers' -C -t Orders -o beginning -e -q -f '%s')"
printf 'import "corps/metadata.proto";\nmessage Note { optional string text = 1; optional corps.proto.MessageData metadata = 2; }\n' >"$work/note.proto"
check "a .proto without a syntax line is read as proto2 with corps's warning, not protobuf's raw log line" bash -c "
  echo '{\"text\":\"hi\"}' | '$corps' produce Orders --proto '$work/note.proto' -T Orders=Note 2>'$work/note.err' &&
  ! grep -q 'libprotobuf' '$work/note.err' && grep -q 'warning.*No syntax specified for the proto file: note.proto' '$work/note.err'"

# --- dead letters ----------------------------------------------------------------
# A letter as a consumer writes it: a record of VideoStream ("not zlib") with
# a header; replay puts those bytes back on VideoStream.
printf '%s\n' '{"topic":"VideoStream","partition":0,"offset":7,"value":"bm90IHpsaWI=","headers":[{"name":"origin","value":"bGV0dGVy"}],"stage":"decompress","code":"corrupt_data","attempts":1}' >"$work/letter.json"
check "a dead letter is written to DeadLetters" "$corps" produce DeadLetters -F "$work/letter.json"
check "replay sends it back and says so" bash -c "
  '$corps' replay | grep -qx 'replayed 1 of 1 dead letter(s) from DeadLetters (0 skipped, 0 failed)'"
check "the replayed bytes and headers are on VideoStream (kcat)" bash -c "
  kcat -b '$brokers' -C -t VideoStream -o -1 -e -q -f '%s|%h' | grep -qx 'not zlib|origin=letter,corps-replayed-from=DeadLetters\[.\]@0'"
check "replay --only another channel replays nothing" bash -c "
  '$corps' replay --only Predictions | grep -q 'replayed 0 of 1 dead letter(s) from DeadLetters (1 skipped'"

# --- groups ------------------------------------------------------------------
# Predictions holds 5 records: 2 sent as JSON above, 3 by the codec checks.
check "a group reads everything once, then commits" bash -c "
  test \$('$corps' consume Predictions -G readers --from-beginning -e 2>/dev/null | wc -l) -eq 5"
check "the same group then has nothing new, and says why without -v" bash -c "
  test \$('$corps' consume Predictions -G readers -e 2>'$work/nothing.err' | wc -l) -eq 0 &&
  grep -q 'read nothing: every partition was already at its end: Predictions\\[0\\] from offset' '$work/nothing.err' &&
  grep -q \"group 'readers''s commit\" '$work/nothing.err'"
check "a new group reads what is there, as the library's consumers do" bash -c "
  test \$('$corps' consume Predictions -G newcomers -e 2>/dev/null | wc -l) -eq 5"
check "--from-end: a new group reads only what is sent from now, and says so" bash -c "
  test \$('$corps' consume Predictions -G latecomers --from-end -e 2>'$work/late.err' | wc -l) -eq 0 &&
  grep -q \"(its end: group 'latecomers' has no commit there)\" '$work/late.err'"
check "lag shows the group's partitions in kafka-consumer-groups's columns, none behind" bash -c "
  '$corps' lag readers >'$work/lag0' &&
  head -1 '$work/lag0' | grep -Eq '^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG\$' &&
  test \$(grep -Ec '^readers +Predictions +[01] +[-0-9]+ +[0-9]+ +[-0]\$' '$work/lag0') -eq 2 &&
  tail -1 '$work/lag0' | grep -qx 'total lag 0'"
check "lag of a group that committed nothing exits 3, saying so" bash -c "
  '$corps' lag nobody 2>'$work/lag.err'; test \$? -eq 3 && grep -q 'committed no offsets' '$work/lag.err'"

# A group's next run: on the embedded broker the group hands over in
# seconds (a 6 s session), not after Kafka's 45 s. The bound is a watchdog,
# not a speed figure: it fails only if the 45 s wait comes back. On Kafka the
# killed member holds its partitions until its session ends, so the members
# ask for a session of 6 s there.
session=()
[[ $target == kafka ]] && session=(-X session.timeout.ms=6000)
check "the same group runs again at once, even after its last member was killed" bash -c "
  timeout 30 '$corps' consume Predictions -G again -e ${session[*]} >/dev/null 2>&1 || exit 1
  timeout 30 '$corps' consume Predictions -G again -e ${session[*]} >/dev/null 2>&1 || exit 1
  '$corps' -v consume Predictions -G again ${session[*]} >/dev/null 2>'$work/killed.err' & member=\$!
  for _ in \$(seq 150); do grep -q assigned '$work/killed.err' && break; sleep 0.2; done
  kill -9 \$member; wait \$member 2>/dev/null
  timeout 30 '$corps' consume Predictions -G again -e ${session[*]} >/dev/null 2>&1"

# --- output a script can rely on -------------------------------------------------
echo '{"frame":41,"object":["a","b"]}' | "$corps" produce Predictions -p 0 -H a=1 -H a=2 -H b=3 2>/dev/null
check "lag moves with the traffic: caught up, then one record behind" bash -c "
  '$corps' consume Orders -T Orders=corps.proto.Prediction -G lagger --from-beginning -e >/dev/null 2>&1
  '$corps' lag lagger | grep -Eq '^lagger +Orders +0 +([0-9]+) +\\1 +0\$' &&
  echo '{\"frame\":3}' | '$corps' produce Orders -T Orders=corps.proto.Prediction 2>/dev/null &&
  '$corps' lag lagger >'$work/lag1' &&
  grep -Eq '^lagger +Orders +0 +[0-9]+ +[0-9]+ +1\$' '$work/lag1' && tail -1 '$work/lag1' | grep -qx 'total lag 1'"
check "lag TOPIC shows each of its partitions, counting all of one with no commit as behind" bash -c "
  '$corps' lag readers VideoStream >'$work/lag2' 2>'$work/lag2.err' &&
  end=\$(awk '\$2 == \"VideoStream\" {print \$5}' '$work/lag2') && test \"\$end\" -gt 0 &&
  grep -Eq \"^readers +VideoStream +0 +- +\$end +\$end\\\$\" '$work/lag2' &&
  tail -1 '$work/lag2' | grep -q '^total lag [1-9]' && grep -q 'has no commit' '$work/lag2.err'"
check "top shows a consuming service's channels from its metrics endpoint" bash -c "
  '$corps' consume Predictions -G topgroup --from-beginning --metrics-port 0 >/dev/null 2>'$work/top.err' & member=\$!
  for _ in \$(seq 150); do grep -q 'metrics at' '$work/top.err' && break; sleep 0.2; done
  url=\$(sed -n 's/^corps: metrics at //p' '$work/top.err')
  for _ in \$(seq 20); do
    '$corps' top \"\$url\" -n 1 -i 0.5 >'$work/top.out' || break
    grep -Eq '^Predictions ' '$work/top.out' && break
  done
  kill -TERM \$member; wait \$member
  head -1 '$work/top.out' | grep -Eq '^CHANNEL +SENT/S +DELIVERED/S +CONSUMED/S +FAILED +DECODE-FAILED +DEAD-LETTERS +LAG\$' &&
  grep -Eq '^Predictions ' '$work/top.out'"
check "top with an endpoint that does not answer exits 1, naming it as an endpoint, not a broker" bash -c "
  '$corps' top http://127.0.0.1:1/metrics -n 1 2>'$work/top-down.err' >/dev/null; test \$? -eq 1 &&
  grep -q 'the metrics endpoint http://127.0.0.1:1/metrics cannot be reached' '$work/top-down.err' &&
  ! grep -q broker '$work/top-down.err'"
"$corps" consume Predictions -o -1 -e -f '%p %s\n' >/dev/null 2>&1
check "a JSON line has a fixed key order, fields in declaration order, and repeated headers kept" bash -c "
  first=\$('$corps' consume Predictions -o -1 -e 2>/dev/null | grep '\"partition\":0')
  for run in 1 2 3; do test \"\$('$corps' consume Predictions -o -1 -e 2>/dev/null | grep '\"partition\":0')\" = \"\$first\" || exit 1; done
  echo \"\$first\" | /usr/bin/python3 -c '
import json, sys
from collections import OrderedDict
line = json.loads(sys.stdin.read(), object_pairs_hook=OrderedDict)
assert list(line)[:6] == [\"topic\", \"partition\", \"offset\", \"timestamp_ms\", \"key\", \"headers\"], list(line)
assert list(line)[6:] == [\"type\", \"message\"], list(line)
assert line[\"headers\"][\"a\"] == [\"1\", \"2\"] and line[\"headers\"][\"b\"] == \"3\", line[\"headers\"]
assert list(line[\"message\"])[:2] == [\"object\", \"frame\"], list(line[\"message\"])  # as declared
'"
check "consume without -o or -G reads the channel from its beginning" bash -c "
  test \$('$corps' consume Predictions -e 2>/dev/null | wc -l) -eq 6"
check "in text, a record that does not decode is an ERROR line on stderr, not stdout" bash -c "
  '$corps' consume VideoStream -o 3 -c 1 --output text >'$work/text.out' 2>'$work/text.err'
  test \$? -eq 3 && ! grep -q ERROR '$work/text.out' && grep -q '^ERROR .*corrupt_data' '$work/text.err'"
check "-f applies to a record that does not decode: %e is its error" bash -c "
  '$corps' consume VideoStream -o 3 -c 1 -f '%o|%y|%e\n' 2>/dev/null | grep -qE '^3\|\|decompress error \(corrupt_data\)'"
check "an unknown -f token is warned about" bash -c "
  '$corps' consume VideoStream -o -1 -e -f '%Z\n' 2>&1 >/dev/null | grep -q '%Z means nothing'"

check "consuming a topic that does not exist is refused, and creates nothing" bash -c "
  '$corps' consume Nowhere -T Nowhere=corps.proto.Prediction -e 2>&1 | grep -q \"no topic 'Nowhere'\" &&
  ! '$corps' topics list | grep -q Nowhere"
check "a type found nowhere names where the tool looked and the nearest name" bash -c "
  echo '{}' | '$corps' produce Predictions -T Predictions=corps.proto.Predction 2>&1 |
    grep -q \"no type 'corps.proto.Predction' among corps's own types.*did you mean 'corps.proto.Prediction'\""
check "a JSON message over several lines without --whole gets a hint" bash -c "
  printf '{\"frame\":\n 1}\n' | '$corps' produce Predictions 2>&1 | grep -q 'give --whole'"

# --- logs ------------------------------------------------------------------------
check "by default a command logs nothing but warnings and errors" bash -c "
  '$corps' consume Predictions -o -1 -e 2>&1 >/dev/null | (! grep -q '^corps: info: ')"
check "-v and CORPS_LOG_LEVEL=info log what the command does" bash -c "
  '$corps' consume Predictions -o -1 -e -v 2>&1 >/dev/null | grep -q '^corps: info: ' &&
  CORPS_LOG_LEVEL=info '$corps' consume Predictions -o -1 -e 2>&1 >/dev/null | grep -q '^corps: info: '"
check "-q silences warnings" bash -c "
  test -z \"\$('$corps' -q consume VideoStream -o -1 -e -f '%Z\n' 2>&1 >/dev/null)\""
check "--version names the version" bash -c "'$corps' --version | grep -qE '^corps [0-9]+\.[0-9]+\.[0-9]+$'"

# --- Ctrl-C ------------------------------------------------------------------------
# produce reading a pipe that stays open: SIGINT ends the input, what was read
# is sent, the summary is printed, and -v lines of delivered records are kept.
mkfifo "$work/lines"
# (A script's background job starts with SIGINT ignored; a terminal's Ctrl-C
# reaches a program whose SIGINT is at its default, as here.)
/usr/bin/python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
  "$corps" produce Predictions -v <"$work/lines" >"$work/int.out" 2>"$work/int.err" & producer=$!
exec 7>"$work/lines"
printf '{"frame":51}\n{"frame":52}\n{"frame":53}\n' >&7
for _ in $(seq 100); do test "$(wc -l <"$work/int.out")" -ge 3 && break; sleep 0.1; done
kill -INT $producer; wait $producer; echo $? >"$work/int.rc"; exec 7>&-
check "produce on SIGINT sends what it read, prints its summary and exits 0" bash -c "
  test \$(cat '$work/int.rc') -eq 0 && grep -q '3 records sent to Predictions' '$work/int.err' &&
  test \$(grep -c '^Predictions\[[01]\]@[0-9]' '$work/int.out') -eq 3"

# --- schema registry -------------------------------------------------------------
: >"$work/registry.url"  # emptied first: the wait below must not read the last registry's URL
"$corps" registry --port 0 >"$work/registry.url" 2>"$work/registry.log" & registry_pid=$!
for _ in $(seq 300); do [[ -s $work/registry.url ]] && break; sleep 0.1; done
registry=$(head -1 "$work/registry.url")
check "registry prints its URL and answers Confluent's REST API" bash -c "
  [[ '$registry' == http://127.0.0.1:* ]] &&
  curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    -d '{\"schema\": \"syntax = \\\"proto3\\\"; message A { int32 x = 1; }\", \"schemaType\": \"PROTOBUF\"}' \
    '$registry/subjects/A-value/versions' | grep -qx '{\"id\":1}' &&
  test \"\$(curl -sf '$registry/subjects')\" = '[\"A-value\"]'"
# A type with no metadata field travels framed, its metadata in a header.
mkdir -p "$work/plain/shop"
printf 'syntax = "proto3";\npackage shop;\nmessage Receipt { string item = 1; }\n' >"$work/plain/shop/receipt.proto"
echo '{"item":"tea"}' | "$corps" produce Orders -I "$work/plain" --proto shop/receipt.proto -T Orders=shop.Receipt \
  --registry "$registry" 2>/dev/null
"$corps" consume Orders --registry "$registry" -o -1 -e >"$work/metadata-header.json" 2>/dev/null
check "a registry-framed record's metadata header prints as its JSON, not as bytes" json "
line = json.loads(open('$work/metadata-header.json').read())
metadata = line['headers']['corps-metadata']
assert len(metadata['uuid']) == 36 and len(metadata['trace_id']) == 32, line
assert line['message']['item'] == 'tea', line
"
check "consume --registry takes -T with a type that has no metadata field (its records are framed)" bash -c "
  '$corps' consume Orders --registry '$registry' -I '$work/plain' --proto shop/receipt.proto \
    -T Orders=shop.Receipt -o -1 -e -f '%y %s\n' 2>'$work/receipt.err' | grep -q '^shop.Receipt {\"item\":\"tea\"}'"
kill -TERM $registry_pid; wait $registry_pid
: >"$work/registry.url"  # emptied first: the wait below must not read the last registry's URL
"$corps" registry --port 0 >"$work/registry.url" 2>"$work/registry.log" & registry_pid=$!
for _ in $(seq 300); do [[ -s $work/registry.url ]] && break; sleep 0.1; done
check "a registry started again on the same broker has the schema under the same id" bash -c "
  curl -sf \"\$(head -1 '$work/registry.url')/schemas/ids/1\" | grep -q 'message A' ||
  { cat '$work/registry.log' >&2; false; }"
kill -TERM $registry_pid; wait $registry_pid
check "registry refuses an unknown compatibility level as bad usage" bash -c "
  '$corps' registry --compatibility SIDEWAYS 2>/dev/null; test \$? -eq 2"

# A registry's records read by their schema ids, with no type given:
# written by Python's ProtobufSerializer, then by corps itself.
: >"$work/registry.url"  # emptied first: the wait below must not read the last registry's URL
"$corps" registry --port 0 >"$work/registry.url" 2>"$work/registry.log" & registry_pid=$!
for _ in $(seq 300); do [[ -s $work/registry.url ]] && break; sleep 0.1; done
registry=$(head -1 "$work/registry.url")
check "Python's ProtobufSerializer registers its schema and writes framed records" \
  env PYTHONPATH="$python_dir" /usr/bin/python3 "$source_dir/tests/interop/confluent_framing.py" \
  produce "$brokers" 2 "$registry"
"$corps" consume FramedPredictions --registry "$registry" -e >"$work/framed.json" 2>/dev/null
check "consume --registry prints Python's records as JSON, typed by their schema ids" json "
lines = [json.loads(l) for l in open('$work/framed.json')]
assert len(lines) == 2, lines
for l in lines:
    assert l['type'] == 'protobuf.image.Prediction', l
    assert l['message']['object'] == ['person', 'car'], l
"
check "produce --registry frames its channel's records and registers CHANNEL-value, no other" bash -c "
  printf '{\"frame\":5,\"object\":[\"cat\"]}\n' |
    '$corps' produce Framed --registry '$registry' -T Framed=corps.proto.Prediction 2>/dev/null &&
  curl -sf '$registry/subjects' | grep -q '\"Framed-value\"' &&
  ! curl -sf '$registry/subjects' | grep -q 'VideoStream'"
printf '\x00\x00\x00\x03\xe7\x00\x10\x05' | kcat -P -b "$brokers" -t Framed
"$corps" consume Framed --registry "$registry" -e >"$work/framed.json" 2>/dev/null
echo $? >"$work/framed.rc"
check "consume --registry reads corps's framed record, and names an unknown schema id (exit 3)" json "
lines = [json.loads(l) for l in open('$work/framed.json')]
assert open('$work/framed.rc').read().strip() == '3'
assert len(lines) == 2, lines
# Printed in partition order: the topic, made on demand, may have several.
typed = [l for l in lines if 'type' in l]
failed = [l for l in lines if 'error' in l]
assert len(typed) == 1 and len(failed) == 1, lines
assert typed[0]['type'] == 'corps.proto.Prediction' and typed[0]['message']['frame'] == '5', typed
md = typed[0]['message']['message_data']
assert len(md['uuid']) == 36 and int(md.get('offset', 0)) == typed[0]['offset'], md
error = failed[0]['error']
assert error['stage'] == 'schema' and error['code'] == 'schema_not_found', error
assert '999' in error['message'], error
"
kill -TERM $registry_pid; wait $registry_pid

# Last of the record checks: it adds two records to Predictions.
check "produce serves its metrics too: what it sent and had delivered" bash -c "
  (echo '{\"frame\":1}'; echo '{\"frame\":2}'; sleep 30) |
    '$corps' produce Predictions --metrics-port 0 2>'$work/produce-metrics.err' & producer=\$!
  for _ in \$(seq 150); do grep -q 'metrics at' '$work/produce-metrics.err' && break; sleep 0.2; done
  url=\$(sed -n 's/^corps: metrics at //p' '$work/produce-metrics.err')
  for _ in \$(seq 50); do
    curl -sf \"\$url\" >'$work/produce.metrics'
    grep -q '^corps_records_delivered_total{client=\"corps-produce\",channel=\"Predictions\",partition=\"[0-9]\"} [12]\$' '$work/produce.metrics' && break
    sleep 0.2
  done
  kill \$producer 2>/dev/null; pkill -P \$\$ sleep 2>/dev/null
  grep -q '^corps_records_sent_total{client=\"corps-produce\",channel=\"Predictions\"} 2\$' '$work/produce.metrics'"

# --- help and exit codes ---------------------------------------------------------
for sub in broker registry topics produce consume replay "topics list" "topics describe" "topics create" "topics alter"; do
  check "help for '$sub'" bash -c "'$corps' $sub --help | grep -q Usage"
done
check "--help shows the defaults" bash -c "
  '$corps' consume --help | grep -q -- '--output TEXT:{json,text}=json' &&
  '$corps' consume --help | grep -q 'Default: stored with -G, else beginning' &&
  '$corps' produce --help | grep -q -- '--input TEXT:{json,text}=json' &&
  '$corps' topics list --help | grep -q -- '--timeout INT:POSITIVE=5000'"
check "bad usage exits 2" bash -c "'$corps' consume 2>/dev/null; test \$? -eq 2"
for usage in "consume Predictions -o bogus" "consume Predictions -o stored" "consume Predictions -G g -o 3" \
    "consume Orders -T Orders" "produce Predictions -H novalue" "consume Predictions -X novalue"; do
  check "'corps $usage' is bad usage: exit 2, before any broker is asked" bash -c "
    CORPS_BROKER_FILE=/nonexistent '$corps' $usage </dev/null 2>&1; test \$? -eq 2"
done
check "no brokers exits 1 with one line on stderr" bash -c "
  CORPS_BROKER_FILE=/nonexistent env -u CORPS_BROKERS '$corps' topics list 2>'$work/err'
  test \$? -eq 1 && test \$(wc -l <'$work/err') -eq 1"

echo "$passed passed, $failed failed"
((failed == 0))
