#!/usr/bin/env bash
# Installs what corps needs on Debian bookworm (or a close relative), using
# apt. Idempotent: installs only what is missing.
#
#   scripts/setup.sh               everything: build, run, and test
#   scripts/setup.sh --build-only  what building and running need (no test tools)
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  # the library's dependencies
  libprotobuf-dev libprotoc-dev protobuf-compiler librdkafka-dev zlib1g-dev libdeflate-dev libzstd-dev liblz4-dev libspdlog-dev libyaml-cpp-dev
  # SHA-256 digests of the values truncated dead letters leave out
  libssl-dev
  # the schema registry client and the embedded registry: HTTP and JSON
  libcpp-httplib-dev nlohmann-json3-dev
  # the corps tool and the examples
  libcli11-dev
  # the image pipeline: OpenCV with Debian's videos (opencv-doc) and Haar
  # cascades (opencv-data), SQLite, an HTTP server
  libopencv-dev opencv-data opencv-doc libsqlite3-dev libcpp-httplib-dev
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
[[ ${1:-} == --build-only ]] || packages+=("${test_packages[@]}")

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install packages" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
