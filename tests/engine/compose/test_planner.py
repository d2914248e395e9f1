"""A service's container: Compose's names, labels, config hash and settings (issue 15)."""

from __future__ import annotations

from pathlib import Path

from engine.compose.loader import LoadOptions, load_project
from engine.compose.planner import config_hash, container_config, container_name
from engine.containers.health import Healthcheck

TEXT = """
name: shop
services:
  web:
    image: busybox
    command: [sleep, "600"]
    environment: {A: "1"}
    labels: {team: blue}
    ports: ["8080:80"]
    volumes: [data:/data, ./conf:/conf:ro]
    tmpfs: [/run, "/cache:size=1m,exec"]
    expose: ["3000", "8000-8001/udp"]
    mem_limit: 64m
    cpus: 0.5
    pids_limit: 20
    restart: on-failure:3
    stop_grace_period: 1m30s
    stop_signal: SIGINT
    user: "1000"
    working_dir: /data
    hostname: front
    networks: {back: {aliases: [www]}}
    healthcheck:
      test: wget -q localhost
      interval: 10s
      retries: 2
  db:
    image: busybox
    deploy: {replicas: 2, resources: {limits: {memory: 1g, cpus: "2"}}}
    healthcheck: {disable: true}
networks:
  back: {}
volumes:
  data: {}
"""


def _project(tmp_path: Path, text: str = TEXT):  # type: ignore[no-untyped-def]
    (tmp_path / "compose.yaml").write_text(text)
    return load_project(LoadOptions(workdir=tmp_path, environ={}))


def test_a_service_becomes_the_container_compose_makes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    config = container_config(project, "web", "sha256:" + "1" * 64)
    assert container_name(project, "web", 1) == "shop-web-1"
    labels = config.labels
    assert labels["team"] == "blue"
    assert (labels["com.docker.compose.project"], labels["com.docker.compose.service"],
            labels["com.docker.compose.container-number"],
            labels["com.docker.compose.oneoff"]) == ("shop", "web", "1", "False")
    assert labels["com.docker.compose.config-hash"] == config_hash(project.services["web"])
    assert config.cmd == ["sleep", "600"] and config.env == ["A=1"]
    assert [(m.type, m.source, m.target, m.read_only) for m in config.mounts] == [
        ("volume", "shop_data", "/data", False), ("bind", str(tmp_path / "conf"), "/conf", True),
        ("tmpfs", "", "/run", False), ("tmpfs", "", "/cache", False)]
    assert (config.mounts[-1].tmpfs_size, config.mounts[-1].tmpfs_exec) == (1 << 20, True)
    assert config.exposed_ports == ["3000/tcp", "8000/udp", "8001/udp"]
    assert [(p.container_port, p.host_port) for p in config.ports] == [(80, 8080)]
    assert config.resources.memory == 64 << 20 and config.resources.nano_cpus == 500_000_000
    assert config.resources.pids_limit == 20
    assert (config.restart_policy.name, config.restart_policy.maximum_retry_count) == \
        ("on-failure", 3)
    assert config.stop_timeout == 90 and config.stop_signal == "SIGINT"
    assert (config.user, config.working_dir, config.hostname) == ("1000", "/data", "front")
    assert config.network == "shop_back" and config.network_aliases == ["shop-web-1", "web",
                                                                           "www"]
    assert config.healthcheck == Healthcheck(["CMD-SHELL", "wget -q localhost"],
                                             interval=10_000_000_000, retries=2)


def test_deploy_limits_and_disabled_healthchecks(tmp_path: Path) -> None:
    project = _project(tmp_path)
    config = container_config(project, "db", "sha256:" + "1" * 64, number=2)
    assert config.labels["com.docker.compose.container-number"] == "2"
    assert config.resources.memory == 1 << 30 and config.resources.nano_cpus == 2_000_000_000
    assert config.healthcheck == Healthcheck(["NONE"])
    assert config.network == "shop_default" and config.network_aliases == ["shop-db-2", "db"]


def test_the_hash_changes_with_the_service_but_not_with_its_replicas(tmp_path: Path) -> None:
    before = _project(tmp_path).services["db"]
    scaled = _project(tmp_path, TEXT.replace("replicas: 2", "replicas: 5")).services["db"]
    changed = _project(tmp_path, TEXT.replace("memory: 1g", "memory: 2g")).services["db"]
    assert config_hash(before) == config_hash(scaled) != config_hash(changed)


def test_fields_skiff_cannot_apply_are_named_and_network_mode_is_used(tmp_path: Path) -> None:
    project = _project(tmp_path, "services:\n  web:\n    image: busybox\n"
                       "    network_mode: host\n    gpus: all\n"
                       "    x-note: hi\n"
                       "    deploy: {placement: {}, resources: {reservations: {}}}\n")
    from engine.compose.planner import ignored_fields

    assert ignored_fields(project.services["web"]) == [
        "gpus", "deploy.placement", "deploy.resources.reservations"]
    config = container_config(project, "web", "sha256:" + "1" * 64)
    assert config.network == "host" and config.network_aliases == []
    assert "default" not in project.networks


HOST_OPTIONS = """
services:
  web:
    image: busybox
    dns: 192.0.2.53
    dns_search: [example.test]
    dns_opt: ["ndots:2"]
    extra_hosts: {db: 192.0.2.10, gw: host-gateway}
    cap_add: [NET_ADMIN]
    cap_drop: [CHOWN]
    init: true
    read_only: true
    shm_size: 32m
    cpu_shares: 512
    ulimits: {nproc: 100, nofile: {soft: 256, hard: 512}}
    sysctls: [net.ipv4.ip_forward=1]
    devices: ["/dev/fuse", {source: /dev/net/tun, target: /dev/tun, permissions: rw}]
"""


def test_docker_s_host_options_are_applied_not_ignored(tmp_path: Path) -> None:
    from engine.compose.planner import ignored_fields
    from engine.containers.config import DeviceMapping, Ulimit

    project = _project(tmp_path, HOST_OPTIONS)
    assert ignored_fields(project.services["web"]) == []
    config = container_config(project, "web", "sha256:" + "1" * 64)
    assert (config.dns, config.dns_search, config.dns_options) == (
        ["192.0.2.53"], ["example.test"], ["ndots:2"])
    assert config.extra_hosts == ["db:192.0.2.10", "gw:host-gateway"]
    assert (config.cap_add, config.cap_drop) == (["NET_ADMIN"], ["CHOWN"])
    assert config.init is True and config.read_only and config.shm_size == 32 << 20
    assert config.resources.cpu_shares == 512
    assert config.ulimits == [Ulimit("nproc", 100, 100), Ulimit("nofile", 256, 512)]
    assert config.sysctls == {"net.ipv4.ip_forward": "1"}
    assert config.devices == [DeviceMapping("/dev/fuse", "/dev/fuse", "rwm"),
                              DeviceMapping("/dev/net/tun", "/dev/tun", "rw")]


def test_links_and_addresses_are_applied_and_order_the_services(tmp_path: Path) -> None:
    project = _project(tmp_path, "name: shop\nservices:\n"
                       "  web:\n    image: busybox\n    links: [db, cache:memo]\n"
                       "    networks: {front: {ipv4_address: 10.231.71.5}}\n"
                       "  db:\n    image: busybox\n  cache:\n    image: busybox\n"
                       "networks:\n  front:\n    internal: true\n"
                       "    ipam: {config: [{subnet: 10.231.71.0/24, ip_range: 10.231.71.0/28}]}\n")
    from engine.compose.planner import ignored_fields

    assert ignored_fields(project.services["web"]) == []
    config = container_config(project, "web", "sha256:" + "1" * 64)
    assert config.links == ["shop-db-1:db", "shop-cache-1:memo"]
    assert config.ipv4_address == "10.231.71.5"
    order = project.order(["web"])
    assert order.index("db") < order.index("web") and order.index("cache") < order.index("web")


def test_a_one_off_keeps_none_of_the_services_names_ports_or_restart(tmp_path: Path) -> None:
    project = _project(tmp_path)
    service = container_config(project, "web", "sha256:" + "1" * 64)
    assert service.network_aliases == ["shop-web-1", "web", "www"]
    one_off = container_config(project, "web", "sha256:" + "1" * 64, oneoff=True)
    assert one_off.network_aliases == [] and one_off.ports == []
    assert one_off.restart_policy.name in ("", "no")
    assert one_off.labels["com.docker.compose.oneoff"] == "True"
    asked = container_config(project, "web", "sha256:" + "1" * 64, oneoff=True,
                             use_aliases=True)
    assert asked.network_aliases == ["web", "www"]
    with_ports = container_config(project, "web", "sha256:" + "1" * 64, oneoff=True,
                                  service_ports=True)  # compose run -P
    assert with_ports.ports == service.ports
