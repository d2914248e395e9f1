"""The part of ``engine.containers`` that tells about a container: docker's
inspect JSON, its published ports, why it is in its state, and the command
that would make it again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.containers.cmdline import run_command
from engine.containers.config import MountSpec
from engine.containers.explain import exit_reason
from engine.containers.inspect import container_inspect
from engine.containers.store import ContainerRecord
from engine.errors import ImageNotFound, NotFound
from engine.images.model import Image
from engine.services.containerbase import ContainerBase
from engine.wire.requests import NetworkList

__all__ = ["ContainerInfo"]


class ContainerInfo(ContainerBase):
    async def inspect(self, ref: str) -> dict[str, Any]:
        """docker container inspect's JSON."""
        record = self._find(ref)
        container = self._container(record)
        try:
            image: Image | None = self._s.image_store.get(record.config.image_id)
        except ImageNotFound:
            image = None
        spec = record.spec
        cdir = self._dir(record.id)
        network = _read_json(cdir / "network.json") if container.state.running else {}
        if not network:
            mode = record.config.network if record.config.network != "default" else "bridge"
            network = {"IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
                       "SandboxKey": "", "Networks": {mode: {}},
                       "Ports": {key: None for key in spec.exposed}}
        networks = network.get("Networks")
        if isinstance(networks, dict):
            await self._endpoint_settings(record, container.state.running, networks)
        network = self._network_settings(record.id, network)
        found = container_inspect(container, image, args=spec.args, env=spec.env,
                                  network=network,
                                  mounts=[self._mount_json(m) for m in record.config.mounts],
                                  log_path=str(cdir / "ctr.log"),
                                  pid=container.state.pid,
                                  userns=_read_json(cdir / "userns.json"))
        # The files the runtime bind-mounts at /etc/resolv.conf, /etc/hostname and
        # /etc/hosts, once its first start wrote them (as docker shows them).
        for key, name in (("ResolvConfPath", "resolv.conf"), ("HostnamePath", "hostname"),
                          ("HostsPath", "hosts")):
            path = cdir / name
            found[key] = str(path) if path.is_file() else ""
        return found

    async def _endpoint_settings(self, record: ContainerRecord, running: bool,
                                 networks: dict[str, Any]) -> None:
        """NetworkSettings.Networks as they are now: a running container's endpoints
        as the helper has them (connected and disconnected since it started), and the
        networks connected beyond its own (engine/networkattachments.py)."""
        attachments = {a.network: a for a in self._s.network_attachments.of(record.id)}
        if running and record.config.network not in ("host", "none"):
            live: dict[str, dict[str, Any]] = {}
            for listed in await self._s.call(NetworkList()):
                info = (listed.get("Containers") or {}).get(record.id)
                if info:
                    live[str(listed.get("Name"))] = dict(info)
            for name in [n for n in networks if n not in live]:
                del networks[name]
            for name, info in live.items():
                entry = networks.setdefault(name, {})
                for key, empty in (("IPAddress", ""), ("IPPrefixLen", 0), ("Gateway", ""),
                                   ("MacAddress", ""), ("GlobalIPv6Address", ""),
                                   ("GlobalIPv6PrefixLen", 0), ("IPv6Gateway", "")):
                    entry[key] = info.get(key) or empty
                if name in attachments:
                    entry["Aliases"] = list(attachments[name].aliases) or None
        elif not running:
            for name, attachment in attachments.items():
                networks.setdefault(name, {"Aliases": list(attachment.aliases) or None,
                                           "IPAddress": "", "IPPrefixLen": 0, "Gateway": "",
                                           "MacAddress": ""})
        own = record.config.network
        asked = {name: (a.ip, a.ip6) for name, a in attachments.items()}
        asked.setdefault(own, (record.config.ipv4_address, record.config.ipv6_address))
        for name, (ip, ip6) in asked.items():
            if (ip or ip6) and isinstance(networks.get(name), dict):
                networks[name]["IPAMConfig"] = {**({"IPv4Address": ip} if ip else {}),
                                                **({"IPv6Address": ip6} if ip6 else {})}

    def _network_settings(self, container_id: str, network: dict[str, Any]) -> dict[str, Any]:
        """NetworkSettings as docker shows them: the sandbox's absolute path and the
        endpoint IDs that network inspect shows too."""
        from engine.services.networks import endpoint_id, hex_id

        network = {"Bridge": "", "SandboxID": "", "HairpinMode": False, **network}
        key = str(network.get("SandboxKey") or "")
        if key:
            sandbox = self._dir(container_id) / key  # the helper names it in its directory
            network["SandboxKey"] = str(sandbox)
            network["SandboxID"] = hex_id("sandbox", container_id)
        networks = network.get("Networks")
        if isinstance(networks, dict):
            for name, settings in networks.items():
                if isinstance(settings, dict):
                    for key, empty in _ENDPOINT_DEFAULTS.items():
                        settings.setdefault(key, empty)
                if isinstance(settings, dict) and settings.get("IPAddress"):
                    settings.setdefault("NetworkID", hex_id("network", name))
                    settings.setdefault("EndpointID", endpoint_id(name, container_id))
        return network

    def _mount_json(self, mount: MountSpec) -> dict[str, Any]:
        entry: dict[str, Any] = {"Type": mount.type, "Source": mount.source,
                                 "Destination": mount.target, "Mode": "",
                                 "RW": not mount.read_only, "Propagation": ""}
        if mount.type == "volume":
            try:
                entry["Source"] = self._s.volume_store.get(mount.source).mountpoint
            except NotFound:
                entry["Source"] = ""
            entry.update(Name=mount.source, Driver="local", Mode="z")
        elif mount.type == "bind":
            entry["Propagation"] = "rprivate"
        return entry

    async def port(self, ref: str) -> dict[str, list[dict[str, str]] | None]:
        """NetworkSettings.Ports of a running container: {"80/tcp": [{HostIp, HostPort}]}."""
        record = self._find(ref)
        if not self._state(record).running:
            return {}
        ports = _read_json(self._dir(record.id) / "network.json").get("Ports") or {}
        return {str(k): v for k, v in ports.items()}

    async def exit_reason(self, ref: str) -> str:
        """Why the container is in its state, in one plain sentence."""
        return exit_reason(await self.get(ref))

    async def command_line(self, ref: str) -> str:
        """The ``skiff run`` command that would create this container."""
        record = self._find(ref)
        return run_command(record.config, record.name)


# Docker's EndpointSettings keys that Skiff has nothing for, as dockerd shows them unset.
_ENDPOINT_DEFAULTS: dict[str, Any] = {
    "IPAMConfig": None, "Links": None, "Aliases": None, "DriverOpts": None,
    "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}
