#!/usr/bin/env bash
# Installs what corps needs on Debian bookworm (or a close relative), using
# apt. Idempotent: installs only what is missing.
#
#   scripts/setup.sh               everything: build, run, and test
#   scripts/setup.sh --build-only  what building and running need (no test tools,
#                                  so no Chromium to screenshot the page with)
#   scripts/setup.sh --kafka       only what a real Apache Kafka needs
#                                  (scripts/kafka.sh): Java 17+ and Maven
#
# Java and Maven are installed only when `java` or `mvn` is missing (a JDK
# of another make on PATH will do); when they cannot be had, the real-Kafka
# tests are skipped with one line saying so, and the rest still run.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  # the library's dependencies
  libprotobuf-dev libprotoc-dev protobuf-compiler librdkafka-dev zlib1g-dev libdeflate-dev libzstd-dev liblz4-dev libspdlog-dev libyaml-cpp-dev
  # SHA-256 digests of the values truncated dead letters leave out
  libssl-dev
  # the schema registry client (HTTP), the HTTP servers (the embedded
  # registry, the metrics endpoint, the pipeline's page), JSON
  libcpp-httplib-dev libmicrohttpd-dev nlohmann-json3-dev
  # the corps tool and the examples
  libcli11-dev
  # the image pipeline: OpenCV with Debian's videos (opencv-doc) and Haar
  # cascades (opencv-data), SQLite, an HTTP server
  libopencv-dev opencv-data opencv-doc libsqlite3-dev libcpp-httplib-dev
  # corps_bench --instructions: instructions per record, counted by callgrind
  valgrind
)
test_packages=(
  libgtest-dev kcat sqlite3 curl
  # interoperability tests: other people's Kafka clients, decoding as MessageCorps does
  python3 python3-kafka python3-confluent-kafka python3-protobuf python3-yaml
  # confluent-kafka's schema_registry serializers import requests
  python3-requests
  # the pipeline's page, in a real browser
  chromium
  # the sanitizer builds and the fuzzers (scripts/sanitize.sh, scripts/fuzz.sh):
  # Clang, and its runtime libraries (ASan, UBSan, TSan, libFuzzer), which
  # Debian packages apart from the compiler
  clang libclang-rt-dev
)
# A real Apache Kafka for the tests labelled kafka: Java 17 or later to run
# it, Maven to fetch its jars (scripts/kafka.sh), iptables to cut one node
# off (scripts/kafka.sh isolate).
kafka_packages=(iptables)
command -v java >/dev/null || kafka_packages+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || kafka_packages+=(maven)
optional=()
case ${1:-} in
  --build-only) ;;
  --kafka) packages=() optional=("${kafka_packages[@]}") ;;
  *) packages+=("${test_packages[@]}") optional=("${kafka_packages[@]}") ;;
esac

missing_of() {  # the packages named that are not installed
  local package status
  for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || echo "$package"
  done
}
mapfile -t missing < <(missing_of "${packages[@]}")
mapfile -t missing_optional < <(missing_of "${optional[@]}")

if ((${#missing[@]} + ${#missing_optional[@]} == 0)); then
  echo "setup: all $((${#packages[@]} + ${#optional[@]})) packages present"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install packages" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Kafka's needs may fail to install without failing the rest: its tests
# then say they were skipped, and why.
if ((${#missing_optional[@]})); then
  echo "setup: installing ${missing_optional[*]} (for a real Apache Kafka)"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing_optional[@]}" ||
    echo "setup: could not install ${missing_optional[*]}: the real-Kafka tests will be skipped" >&2
fi
