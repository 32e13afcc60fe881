#!/usr/bin/python3
"""Validates what can be validated of docker/ without a Docker engine: the
compose file parses, every corps service runs a program the Dockerfile
installs, and they all reach Kafka through CORPS_BROKERS."""
import pathlib
import sys

import yaml

root = pathlib.Path(sys.argv[1])
compose = yaml.safe_load((root / "docker/docker-compose.yml").read_text())
dockerfile = (root / "docker/Dockerfile").read_text()
installed = {"corps", "send_frames", "receive_frames", "capture", "predict", "display", "store", "pipeline"}
failures = []
services = compose["services"]
if "kafka" not in services or "KRaft" not in (root / "docker/docker-compose.yml").read_text():
    failures.append("no Kafka service in KRaft mode")
if services["kafka"]["environment"].get("KAFKA_PROCESS_ROLES") != "broker,controller":
    failures.append("kafka is not a combined KRaft broker/controller")
for name in ("capture", "predict", "display", "store"):
    service = services.get(name)
    if service is None:
        failures.append(f"service {name} missing")
        continue
    program = service["command"][0]
    if program not in installed:
        failures.append(f"{name} runs {program}, which the image does not install")
    if service.get("environment", {}).get("CORPS_BROKERS") != "kafka:9092":
        failures.append(f"{name} does not point CORPS_BROKERS at kafka:9092")
if "cmake --install" not in dockerfile or "setup.sh --build-only" not in dockerfile:
    failures.append("the Dockerfile does not install corps with its own setup script")
for failure in failures:
    print("FAIL:", failure)
print(f"{0 if failures else 1} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
