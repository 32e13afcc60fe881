#!/usr/bin/env bash
# CTest's fixtures `kafka` and `kafka3`: the real clusters the tests labelled
# kafka run on.
#
#   cluster.sh start [single|trio]   a fresh cluster (scripts/kafka.sh): single,
#                                    one node at 127.0.0.1:29092, named 'test';
#                                    trio, three at :29192,:29202,:29212, named
#                                    'test3' (the soak's). For single, when
#                                    CORPS_TEST_BROKERS names a cluster of your
#                                    own, checks that it answers instead
#   cluster.sh stop [single|trio]    stops and removes what start made
#
# The tests empty the cluster before each test (corps::testing::clear_cluster):
# never point CORPS_TEST_BROKERS at a cluster whose topics you want to keep.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kafka=$root/scripts/kafka.sh
shape=${2:-single}
case $shape in
  single) name=test port=29092 nodes=1 ;;
  trio) name=test3 port=29192 nodes=3 ;;
  *) echo "usage: tests/kafka/cluster.sh start|stop [single|trio]" >&2; exit 2 ;;
esac
external=
[[ $shape == single && -n ${CORPS_TEST_BROKERS:-} ]] && external=$CORPS_TEST_BROKERS
case ${1:-} in
  start)
    if [[ -n $external ]]; then
      host=${external%%,*}
      if ! (exec 3<>"/dev/tcp/${host%:*}/${host##*:}") 2>/dev/null; then
        echo "kafka tests: nothing answers at $host (CORPS_TEST_BROKERS=$external)" >&2
        exit 1
      fi
      echo "kafka tests: on the cluster at $external (CORPS_TEST_BROKERS)"
      exit 0
    fi
    "$kafka" destroy --name "$name" >/dev/null
    # Two settings of the tests' own, each for the suites that run on both
    # brokers: records up to 64 MiB, as the embedded broker takes (Kafka's
    # default is 1 MiB; tests of that limit set a topic's max.message.bytes),
    # and a log cleaner that looks for work every half second, not every 15,
    # so a compaction test waits seconds.
    exec "$kafka" start --name "$name" --port "$port" --nodes "$nodes" \
      --set message.max.bytes=67108864 --set log.cleaner.backoff.ms=500
    ;;
  stop)
    [[ -z $external ]] || exit 0
    exec "$kafka" destroy --name "$name"
    ;;
  *)
    echo "usage: tests/kafka/cluster.sh start|stop [single|trio]" >&2
    exit 2
    ;;
esac
