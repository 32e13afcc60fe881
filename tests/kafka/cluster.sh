#!/usr/bin/env bash
# CTest's fixture `kafka`: the real cluster the tests labelled kafka run on.
#
#   cluster.sh start   a fresh single node (scripts/kafka.sh, cluster 'test',
#                      127.0.0.1:29092); or, when CORPS_TEST_BROKERS names a
#                      cluster of your own, checks that it answers
#   cluster.sh stop    stops and removes the node start made
#
# The tests empty the cluster before each test (corps::testing::clear_cluster):
# never point CORPS_TEST_BROKERS at a cluster whose topics you want to keep.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kafka=$root/scripts/kafka.sh
case ${1:-} in
  start)
    if [[ -n ${CORPS_TEST_BROKERS:-} ]]; then
      host=${CORPS_TEST_BROKERS%%,*}
      if ! (exec 3<>"/dev/tcp/${host%:*}/${host##*:}") 2>/dev/null; then
        echo "kafka tests: nothing answers at $host (CORPS_TEST_BROKERS=$CORPS_TEST_BROKERS)" >&2
        exit 1
      fi
      echo "kafka tests: on the cluster at $CORPS_TEST_BROKERS (CORPS_TEST_BROKERS)"
      exit 0
    fi
    "$kafka" destroy --name test >/dev/null
    # Two settings of the tests' own, each for the suites that run on both
    # brokers: records up to 64 MiB, as the embedded broker takes (Kafka's
    # default is 1 MiB; tests of that limit set a topic's max.message.bytes),
    # and a log cleaner that looks for work every half second, not every 15,
    # so a compaction test waits seconds.
    exec "$kafka" start --name test --port 29092 \
      --set message.max.bytes=67108864 --set log.cleaner.backoff.ms=500
    ;;
  stop)
    [[ -z ${CORPS_TEST_BROKERS:-} ]] || exit 0
    exec "$kafka" destroy --name test
    ;;
  *)
    echo "usage: tests/kafka/cluster.sh start|stop" >&2
    exit 2
    ;;
esac
