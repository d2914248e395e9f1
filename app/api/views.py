"""The engine's answers in Docker's JSON shapes: container summaries, stats, top."""

from __future__ import annotations

import os
import shlex
from datetime import UTC, datetime
from typing import Any

from app.api.backend import merge_config, rfc3339_ns, status_text

__all__ = ["StatsCounters", "container_ports", "container_summary", "unix_seconds"]


def unix_seconds(timestamp: str) -> int:
    ns = rfc3339_ns(timestamp)
    return ns // 1_000_000_000 if ns is not None else 0


def container_ports(published: dict[str, Any], config: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    keys = set(published) | {f"{p.container_port}/{p.protocol}" for p in config.ports}
    for key in sorted(keys):
        port_text, _, protocol = key.partition("/")
        private = int(port_text)
        hosts = published.get(key) or []
        if not hosts:
            found.append({"PrivatePort": private, "Type": protocol or "tcp"})
        for host in hosts:
            found.append({"IP": host.get("HostIp") or "0.0.0.0", "PrivatePort": private,
                          "PublicPort": int(host.get("HostPort") or 0),
                          "Type": protocol or "tcp"})
    return found


def _mounts(config: Any) -> list[dict[str, Any]]:
    return [{"Type": m.type, **({"Name": m.source} if m.type == "volume" else {}),
             "Source": m.source if m.type == "bind" else "", "Destination": m.target,
             "Driver": "local" if m.type == "volume" else "", "Mode": "",
             "RW": not m.read_only, "Propagation": "rprivate" if m.type == "bind" else ""}
            for m in config.mounts]


def container_summary(container: Any, run: dict[str, Any], published: dict[str, Any],
                      size: int | None = None) -> dict[str, Any]:
    """One entry of ``GET /containers/json``: from what the engine keeps of the
    container and its image's run config, no inspect (a listing stays cheap)."""
    config = container.config
    effective = merge_config(config, run)
    network = config.network if config.network != "default" else "bridge"
    summary: dict[str, Any] = {
        "Id": container.id,
        "Names": [f"/{container.name}"],
        "Image": config.image,
        "ImageID": config.image_id,
        "Command": " ".join(shlex.quote(a) if " " in a or not a else a
                            for a in effective.args),
        "Created": unix_seconds(container.created),
        "Ports": container_ports(published, config),
        "Labels": effective.labels,
        "State": container.state.status.value,
        "Status": status_text(container.state),
        "HostConfig": {"NetworkMode": network},
        "NetworkSettings": {"Networks": {network: {"NetworkID": "", "EndpointID": "",
                                                   "Gateway": "", "IPAddress": "",
                                                   "Aliases": config.network_aliases or None,
                                                   }}},
        "Mounts": _mounts(config),
    }
    if size is not None:
        summary["SizeRw"] = size
        summary["SizeRootFs"] = size
    return summary


def _rfc3339(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


class StatsCounters:
    """Docker's stats carry cumulative CPU counters that clients difference; the
    engine hands out a percentage. These counters grow so that the client's sum
    ((cpu delta / system delta) * CPUs * 100) gives back the engine's figure."""

    def __init__(self) -> None:
        self.cpus = os.cpu_count() or 1
        self.cpu_total = 0
        self.system_total = 0
        self.previous: dict[str, Any] | None = None
        self.previous_read = "0001-01-01T00:00:00Z"

    def render(self, sample: Any) -> dict[str, Any]:
        interval_ns = 1_000_000_000
        self.system_total += interval_ns * self.cpus
        self.cpu_total += int(sample.cpu_percent / 100.0 * interval_ns)
        cpu = {"cpu_usage": {"total_usage": self.cpu_total, "usage_in_kernelmode": 0,
                             "usage_in_usermode": self.cpu_total},
               "system_cpu_usage": self.system_total, "online_cpus": self.cpus,
               "throttling_data": {"periods": 0, "throttled_periods": 0,
                                   "throttled_time": 0}}
        pre = self.previous or {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0,
                                              "usage_in_usermode": 0},
                                "system_cpu_usage": 0, "online_cpus": self.cpus,
                                "throttling_data": {"periods": 0, "throttled_periods": 0,
                                                    "throttled_time": 0}}
        read = _rfc3339(sample.time_ns)
        data = {
            "read": read,
            "preread": self.previous_read,
            "name": f"/{sample.name}",
            "id": sample.id,
            "num_procs": 0,
            "pids_stats": {"current": sample.pids},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 0, "minor": 0, "op": "read", "value": sample.block_read},
                {"major": 0, "minor": 0, "op": "write", "value": sample.block_write}]},
            "storage_stats": {},
            "cpu_stats": cpu,
            "precpu_stats": pre,
            "memory_stats": {"usage": sample.memory_usage, "limit": sample.memory_limit,
                             "stats": {}},
            "networks": {"eth0": {"rx_bytes": sample.net_rx, "rx_packets": 0,
                                  "rx_errors": 0, "rx_dropped": 0,
                                  "tx_bytes": sample.net_tx, "tx_packets": 0,
                                  "tx_errors": 0, "tx_dropped": 0}},
        }
        self.previous = cpu
        self.previous_read = read
        return data
