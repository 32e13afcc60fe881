#!/usr/bin/env bash
# Apache Kafka on loopback, one command away: a single combined KRaft node or a
# three-node cluster, for development, the real-Kafka tests and the soak.
#
#   scripts/kafka.sh start [--nodes 1|3] [--name NAME] [--port BASE] [--heap MB]
#                          [--set KEY=VALUE]...  (a broker setting, when the cluster is made)
#   scripts/kafka.sh stop [NODE]          every node (or one), cleanly
#   scripts/kafka.sh kill NODE            kill -9
#   scripts/kafka.sh restart NODE         start a stopped or killed node again
#   scripts/kafka.sh pause NODE | resume NODE     SIGSTOP / SIGCONT
#   scripts/kafka.sh isolate NODE | rejoin NODE   cut a node off the network (root)
#   scripts/kafka.sh status               which nodes run, and the bootstrap list
#   scripts/kafka.sh bootstrap            the bootstrap list alone (for -b / CORPS_BROKERS)
#   scripts/kafka.sh dir                  the cluster's directory (nodeN/pid, nodeN/server.log)
#   scripts/kafka.sh log NODE             the node's log file's path
#   scripts/kafka.sh tool CLASS ARGS...   run one of Kafka's own tools, e.g.
#                                         org.apache.kafka.tools.LeaderElectionCommand
#   scripts/kafka.sh fetch                only fetch the jars
#   scripts/kafka.sh destroy              stop and remove the cluster's data
#
# Every command but start takes --name too. NODE is a node id (1, 2, 3) or
# node1, node2, node3.
#
# The version is pinned in scripts/kafka/pom.xml; the jars are resolved by
# Maven once into $CORPS_KAFKA_CACHE (default ~/.cache/corps/kafka-VERSION)
# and used offline afterwards. Each cluster lives in
# $CORPS_KAFKA_HOME/NAME (default /tmp/corps-kafka/kafka): per node its
# server.properties, data, pid and server.log.
#
# Ports: node i listens for clients on BASE + 10*(i-1) and for its
# controller quorum on the port after it (default BASE 19092: one node is
# 127.0.0.1:19092; three are :19092, :19102, :19112).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/scripts/kafka
pom=$here/pom.xml
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache=${CORPS_KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/corps/kafka-$version}
home=${CORPS_KAFKA_HOME:-${TMPDIR:-/tmp}/corps-kafka}

say() { echo "kafka: $*"; }
die() { echo "kafka: $*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# --- the jars ------------------------------------------------------------------
need_java() {
  command -v java >/dev/null ||
    die "no Java: Kafka needs Java 17 or later (scripts/setup.sh --kafka installs it)"
  local major
  major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')
  [[ ${major%%.*} -ge 17 ]] 2>/dev/null ||
    die "Java $major found; Kafka $version needs 17 or later (scripts/setup.sh --kafka installs it)"
}

# The jars, fetched once: a stamp holding the pom's digest says they are
# complete and match it.
fetch() {
  local stamp=$cache/complete digest
  digest=$(sha256sum "$pom" | cut -d' ' -f1)
  [[ -f $stamp && $(cat "$stamp") == "$digest" ]] && return 0
  need_java
  command -v mvn >/dev/null ||
    die "no Maven: the broker's jars come from Maven Central (scripts/setup.sh --kafka installs it)"
  say "fetching Apache Kafka $version's jars into $cache (once)"
  rm -rf "$cache"
  mkdir -p "$cache"
  if ! mvn -q -B -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$cache/libs" >"$cache/fetch.log" 2>&1; then
    tail -20 "$cache/fetch.log" >&2
    die "Maven could not fetch Kafka $version's jars (log: $cache/fetch.log)"
  fi
  cp "$here"/log4j2*.properties "$cache/"
  echo "$digest" >"$stamp"
}

java_run() {  # java_run CLASS ARGS...: a Kafka class on the cached classpath
  local class=$1
  shift
  java -Xmx256m -Dlog4j2.configurationFile="$cache/log4j2-tools.properties" \
    -cp "$cache/libs/*" "$class" "$@"
}

# --- the cluster's layout --------------------------------------------------------
name=kafka
nodes=1
base=19092
heap=
settings=()
parse_common() {
  rest=()
  while (($#)); do
    case $1 in
      --name) name=$2; shift 2 ;;
      --nodes) nodes=$2; shift 2 ;;
      --port) base=$2; shift 2 ;;
      --heap) heap=$2; shift 2 ;;
      --set)
        [[ ${2:-} == *=* ]] || die "--set takes KEY=VALUE, not '${2:-}'"
        settings+=("$2"); shift 2 ;;
      -h | --help) usage ;;
      *) rest+=("$1"); shift ;;
    esac
  done
}

dir() { echo "$home/$name"; }
node_dir() { echo "$(dir)/node$1"; }
client_port() { echo $((base + 10 * ($1 - 1))); }
controller_port() { echo $((base + 10 * ($1 - 1) + 1)); }
bootstrap() {
  local list=() id
  for ((id = 1; id <= nodes; id++)); do list+=("127.0.0.1:$(client_port "$id")"); done
  (IFS=,; echo "${list[*]}")
}

load() {  # reads the layout `start` wrote
  local env_file
  env_file=$(dir)/cluster.env
  [[ -f $env_file ]] || die "no cluster '$name' (scripts/kafka.sh start${name:+ --name $name} makes it)"
  # shellcheck source=/dev/null
  source "$env_file"
}

node_id() {  # node_id NODE: 2 from "2" or "node2"
  local id=${1#node}
  [[ $id =~ ^[0-9]+$ ]] && ((id >= 1 && id <= nodes)) ||
    die "no node '$1' in cluster '$name' (it has nodes 1 to $nodes)"
  echo "$id"
}

pid_of() {  # the node's pid if it runs, else nothing
  local file
  file=$(node_dir "$1")/pid
  [[ -f $file ]] || return 0
  local pid
  pid=$(cat "$file")
  kill -0 "$pid" 2>/dev/null && echo "$pid" || true
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A node's group id, when run as root: its packets carry it, so `isolate`
# can drop them (iptables's owner match) without touching anyone else's.
node_gid() { echo $((61000 + $1)); }

# --- configuration -----------------------------------------------------------------
write_properties() {
  local id=$1 voters=() i rf=$((nodes < 3 ? nodes : 3)) isr
  isr=$((rf > 1 ? 2 : 1))
  for ((i = 1; i <= nodes; i++)); do voters+=("$i@127.0.0.1:$(controller_port "$i")"); done
  cat >"$(node_dir "$id")/server.properties" <<EOF
# Written by scripts/kafka.sh for node $id of cluster '$name'.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$(IFS=,; echo "${voters[*]}")
listeners=PLAINTEXT://127.0.0.1:$(client_port "$id"),CONTROLLER://127.0.0.1:$(controller_port "$id")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$id")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$(node_dir "$id")/data
# The internal topics on every node there is (up to 3), and one partition
# each: fifty make a first group join or transaction slow on two cores.
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
default.replication.factor=$rf
group.initial.rebalance.delay.ms=0
# Few threads: the machine is small and shared with the clients under test.
num.network.threads=2
num.io.threads=4
background.threads=4
num.replica.fetchers=1
log.cleaner.threads=1
num.recovery.threads.per.data.dir=1
EOF
  if ((${#settings[@]})); then
    echo "# Given with --set." >>"$(node_dir "$id")/server.properties"
    printf '%s\n' "${settings[@]}" >>"$(node_dir "$id")/server.properties"
  fi
}

start_node() {  # start_node ID: launches the JVM in the background
  local id=$1 ndir pid
  ndir=$(node_dir "$id")
  pid=$(pid_of "$id")
  [[ -z $pid ]] || { say "node $id already runs (pid $pid)"; return 0; }
  local port
  for port in "$(client_port "$id")" "$(controller_port "$id")"; do
    if port_open "$port"; then
      die "port $port (node $id) is in use by another program: stop it, or start with --port BASE"
    fi
  done
  local launcher=()
  # As root, each node runs with a group of its own, so that isolate can
  # tell its packets apart on loopback; it stays root otherwise.
  ((EUID == 0)) && command -v setpriv >/dev/null &&
    launcher=(setpriv --regid "$(node_gid "$id")" --clear-groups)
  local mb=${heap:-$((nodes > 1 ? 384 : 512))}
  echo "=== $(date -u +%FT%TZ) start" >>"$ndir/server.log"
  # setsid: the node outlives this script and is not in its process group,
  # so a test runner's Ctrl-C or timeout does not take the cluster down.
  setsid "${launcher[@]}" java -Xms128m -Xmx"${mb}"m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$cache/log4j2.properties" \
    -cp "$cache/libs/*" kafka.Kafka "$ndir/server.properties" \
    >>"$ndir/server.log" 2>&1 </dev/null &
  echo $! >"$ndir/pid"
}

started_since_last_start() {  # the log says "Kafka Server started" after its last start marker
  awk '/^=== .* start$/ { up = 0 } /Kafka Server started/ { up = 1 } END { exit !up }' "$1"
}

# Ready when every running node logged "Kafka Server started" since its
# last start and its client port answers (it opens once the broker is
# unfenced); then, where kcat is at hand, when a metadata request lists
# every broker.
wait_ready() {
  local wanted=("$@") timeout=${CORPS_KAFKA_START_TIMEOUT:-90} started=$SECONDS id
  for id in "${wanted[@]}"; do
    local ndir
    ndir=$(node_dir "$id")
    until started_since_last_start "$ndir/server.log" && port_open "$(client_port "$id")"; do
      [[ -n $(pid_of "$id") ]] ||
        die "node $id stopped while starting; the end of its log ($ndir/server.log):
$(tail -15 "$ndir/server.log")"
      ((SECONDS - started < timeout)) ||
        die "node $id not ready after ${timeout}s; the end of its log ($ndir/server.log):
$(tail -15 "$ndir/server.log")"
      sleep 0.5
    done
  done
  command -v kcat >/dev/null || return 0
  local running=0
  for ((id = 1; id <= nodes; id++)); do [[ -n $(pid_of "$id") ]] && running=$((running + 1)); done
  until (($(kcat -b "$(bootstrap)" -L -m 5 2>/dev/null | grep -c '^  broker ') >= running)); do
    ((SECONDS - started < timeout)) || die "the cluster does not list its $running brokers after ${timeout}s"
    sleep 0.5
  done
}

cmd_start() {
  [[ $nodes == 1 || $nodes == 3 ]] || die "--nodes is 1 or 3, not $nodes"
  need_java
  fetch
  local cdir id cluster_id
  cdir=$(dir)
  if [[ -f $cdir/cluster.env ]]; then
    local wanted_nodes=$nodes wanted_base=$base
    load
    [[ $nodes == "$wanted_nodes" && $base == "$wanted_base" ]] ||
      die "cluster '$name' exists with $nodes node(s) from port $base; scripts/kafka.sh destroy${name:+ --name $name} first, or give another --name"
  else
    mkdir -p "$cdir"
    cluster_id=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    for ((id = 1; id <= nodes; id++)); do
      mkdir -p "$(node_dir "$id")"
      write_properties "$id"
      java_run kafka.tools.StorageTool format -t "$cluster_id" \
        -c "$(node_dir "$id")/server.properties" >"$(node_dir "$id")/format.log" 2>&1 ||
        die "formatting node $id's storage failed: $(tail -3 "$(node_dir "$id")/format.log")"
    done
    printf 'nodes=%s\nbase=%s\ncluster_id=%s\nheap=%s\n' "$nodes" "$base" "$cluster_id" "$heap" \
      >"$cdir/cluster.env"
  fi
  local ids=()
  for ((id = 1; id <= nodes; id++)); do start_node "$id"; ids+=("$id"); done
  wait_ready "${ids[@]}"
  say "cluster '$name' ready: $nodes node(s), bootstrap $(bootstrap)"
}

stop_node() {  # stop_node ID GRACE: SIGTERM, then SIGKILL after GRACE seconds
  local id=$1 grace=$2 pid
  pid=$(pid_of "$id")
  [[ -n $pid ]] || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  local until=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < until)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    say "node $id did not stop within ${grace}s: kill -9"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

cmd_stop() {
  load
  if ((${#rest[@]})); then
    stop_node "$(node_id "${rest[0]}")" 60
    return
  fi
  # All at once: one by one, the last ones would wait on a controller
  # quorum that the first took away.
  local id pids=()
  for ((id = 1; id <= nodes; id++)); do
    rejoin_node "$id" 2>/dev/null || true
    stop_node "$id" 30 &
    pids+=($!)
  done
  wait "${pids[@]}"
  say "cluster '$name' stopped"
}

cmd_kill() {
  load
  local id pid
  id=$(node_id "${rest[0]:?kill NODE}")
  pid=$(pid_of "$id")
  [[ -n $pid ]] || die "node $id does not run"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  say "node $id killed (kill -9)"
}

cmd_restart() {
  load
  local id
  id=$(node_id "${rest[0]:?restart NODE}")
  stop_node "$id" 60
  start_node "$id"
  wait_ready "$id"
  say "node $id started again"
}

cmd_signal() {  # pause / resume
  load
  local id pid
  id=$(node_id "${rest[0]:?$1 NODE}")
  pid=$(pid_of "$id")
  [[ -n $pid ]] || die "node $id does not run"
  if [[ $1 == pause ]]; then kill -STOP "$pid"; say "node $id paused"; else kill -CONT "$pid"; say "node $id resumed"; fi
}

# Isolation drops, on loopback, every packet the node sends (by its group,
# see start_node) and every packet sent to its ports: to the others it is as
# if its network cable were pulled; connections stay open and time out.
iptables_rules() {  # iptables_rules -A|-D ID
  local action=$1 id=$2 tag="corps-kafka-$name-node$2"
  iptables "$action" OUTPUT -o lo -m owner --gid-owner "$(node_gid "$id")" \
    -m comment --comment "$tag" -j DROP &&
    iptables "$action" OUTPUT -o lo -p tcp -m multiport \
      --dports "$(client_port "$id"),$(controller_port "$id")" -m comment --comment "$tag" -j DROP
}

rejoin_node() {
  local id=$1 tag="corps-kafka-$name-node$1"
  command -v iptables >/dev/null || return 0
  while iptables -S OUTPUT 2>/dev/null | grep -q -- "$tag"; do
    iptables_rules -D "$id" 2>/dev/null || break
  done
}

cmd_isolate() {
  load
  local id
  id=$(node_id "${rest[0]:?isolate NODE}")
  ((EUID == 0)) && command -v iptables >/dev/null ||
    die "isolate needs root and iptables (to drop the node's packets on loopback); this shell has $( ((EUID == 0)) && echo 'no iptables' || echo 'no root')"
  [[ -n $(pid_of "$id") ]] || die "node $id does not run"
  grep -q "^Gid:.*$(node_gid "$id")" "/proc/$(pid_of "$id")/status" ||
    die "node $id was not started as root with a group of its own; restart it as root to isolate it"
  rejoin_node "$id"
  iptables_rules -A "$id" || die "iptables refused the rules"
  say "node $id isolated (scripts/kafka.sh rejoin $id ends it)"
}

cmd_rejoin() {
  load
  local id
  id=$(node_id "${rest[0]:?rejoin NODE}")
  rejoin_node "$id"
  say "node $id rejoined"
}

cmd_status() {
  load
  local id pid state any=0
  for ((id = 1; id <= nodes; id++)); do
    pid=$(pid_of "$id")
    if [[ -z $pid ]]; then
      state=stopped
    else
      any=1
      state="running (pid $pid)"
      grep -q '^State:.*stopped' "/proc/$pid/status" 2>/dev/null && state="paused (pid $pid)"
      command -v iptables >/dev/null && iptables -S OUTPUT 2>/dev/null |
        grep -q -- "corps-kafka-$name-node$id" && state="$state, isolated"
    fi
    echo "node $id  127.0.0.1:$(client_port "$id")  $state"
  done
  echo "bootstrap $(bootstrap)"
  ((any)) || return 3
}

main() {
  (($#)) || usage
  local command=$1
  shift
  # A tool's arguments are the tool's own.
  if [[ $command == tool ]]; then rest=("$@"); else parse_common "$@"; fi
  case $command in
    start) cmd_start ;;
    stop) cmd_stop ;;
    kill) cmd_kill ;;
    restart) cmd_restart ;;
    pause | resume) cmd_signal "$command" ;;
    isolate) cmd_isolate ;;
    rejoin) cmd_rejoin ;;
    status) cmd_status ;;
    bootstrap) load; bootstrap ;;
    dir) load; dir ;;
    log) load; echo "$(node_dir "$(node_id "${rest[0]:?log NODE}")")/server.log" ;;
    tool) need_java; fetch; java_run "${rest[@]}" ;;
    fetch) need_java; fetch; say "jars in $cache/libs" ;;
    destroy)
      if [[ -f $(dir)/cluster.env ]]; then cmd_stop; fi
      rm -rf "$(dir)"
      say "cluster '$name' removed"
      ;;
    -h | --help | help) usage ;;
    *) echo "kafka: no command '$command'" >&2; usage ;;
  esac
}

main "$@"
