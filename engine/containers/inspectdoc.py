"""docker container inspect's document from what is stored: the container's record
and status, the files in its directory, its network attachments and volumes.

Only a running container on a network (not host, not none) has something only
the helper knows: its endpoints as they are now. The caller asks the helper for
those (``needs_live_endpoints``) and passes them in; every other container is
inspected without the helper, so ``engine.Reader`` (``skiff inspect``) does it
with no event loop, and the service (the API, the window) with one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.containers.config import MountSpec
from engine.containers.inspect import container_inspect
from engine.containers.model import Container
from engine.containers.store import ContainerRecord
from engine.images.model import Image
from engine.networkattachments import Attachment

__all__ = ["inspect_document", "needs_live_endpoints"]

# Docker's EndpointSettings keys that Skiff has nothing for, as dockerd shows them unset.
_ENDPOINT_DEFAULTS: dict[str, Any] = {
    "IPAMConfig": None, "Links": None, "Aliases": None, "DriverOpts": None,
    "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def needs_live_endpoints(container: Container) -> bool:
    """Whether the container's inspect needs its endpoints from the helper."""
    return container.state.running and container.config.network not in ("host", "none")


def inspect_document(record: ContainerRecord, container: Container, image: Image | None,
                     cdir: Path, attachments: Sequence[Attachment],
                     mountpoint: Callable[[str], str],
                     live: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``cdir``: the container's directory; ``mountpoint``: a volume's by its name
    ("" when it is gone); ``live``: network name -> the helper's endpoint info, for
    a container that ``needs_live_endpoints`` (None for any other)."""
    spec = record.spec
    running = container.state.running
    network = _read_json(cdir / "network.json") if running else {}
    if not network:
        mode = record.config.network if record.config.network != "default" else "bridge"
        network = {"IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "",
                   "SandboxKey": "", "Networks": {mode: {}},
                   "Ports": {key: None for key in spec.exposed}}
    networks = network.get("Networks")
    if isinstance(networks, dict):
        _endpoint_settings(record, running, networks, attachments, live)
    network = _network_settings(record.id, cdir, network)
    found = container_inspect(container, image, args=spec.args, env=spec.env,
                              network=network,
                              mounts=[_mount_json(m, mountpoint) for m in record.config.mounts],
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


def _endpoint_settings(record: ContainerRecord, running: bool, networks: dict[str, Any],
                       attachments: Sequence[Attachment],
                       live: dict[str, dict[str, Any]] | None) -> None:
    """NetworkSettings.Networks as they are now: a running container's endpoints
    as the helper has them (connected and disconnected since it started), and the
    networks connected beyond its own (engine/networkattachments.py)."""
    attached = {a.network: a for a in attachments}
    if running and live is not None:
        for name in [n for n in networks if n not in live]:
            del networks[name]
        for name, info in live.items():
            entry = networks.setdefault(name, {})
            for key, empty in (("IPAddress", ""), ("IPPrefixLen", 0), ("Gateway", ""),
                               ("MacAddress", ""), ("GlobalIPv6Address", ""),
                               ("GlobalIPv6PrefixLen", 0), ("IPv6Gateway", "")):
                entry[key] = info.get(key) or empty
            if name in attached:
                entry["Aliases"] = list(attached[name].aliases) or None
    elif not running:
        for name, attachment in attached.items():
            networks.setdefault(name, {"Aliases": list(attachment.aliases) or None,
                                       "IPAddress": "", "IPPrefixLen": 0, "Gateway": "",
                                       "MacAddress": ""})
    own = record.config.network
    if isinstance(networks.get(own), dict) and not networks[own].get("Aliases"):
        networks[own]["Aliases"] = list(record.config.network_aliases) or None  # as asked
    asked = {name: (a.ip, a.ip6) for name, a in attached.items()}
    asked.setdefault(own, (record.config.ipv4_address, record.config.ipv6_address))
    for name, (ip, ip6) in asked.items():
        if (ip or ip6) and isinstance(networks.get(name), dict):
            networks[name]["IPAMConfig"] = {**({"IPv4Address": ip} if ip else {}),
                                            **({"IPv6Address": ip6} if ip6 else {})}


def _network_settings(container_id: str, cdir: Path, network: dict[str, Any]
                      ) -> dict[str, Any]:
    """NetworkSettings as docker shows them: the sandbox's absolute path and the
    endpoint IDs that network inspect shows too (a container that never ran has
    none: their module and hashlib are not imported for it)."""
    network = {"Bridge": "", "SandboxID": "", "HairpinMode": False, **network}
    key = str(network.get("SandboxKey") or "")
    if key:
        from engine.networkmodel import hex_id

        network["SandboxKey"] = str(cdir / key)  # the helper names it in its directory
        network["SandboxID"] = hex_id("sandbox", container_id)
    networks = network.get("Networks")
    if isinstance(networks, dict):
        for name, settings in networks.items():
            if isinstance(settings, dict):
                for key, empty in _ENDPOINT_DEFAULTS.items():
                    settings.setdefault(key, empty)
            if isinstance(settings, dict) and settings.get("IPAddress"):
                from engine.networkmodel import endpoint_id, hex_id

                settings.setdefault("NetworkID", hex_id("network", name))
                settings.setdefault("EndpointID", endpoint_id(name, container_id))
    return network


def _mount_json(mount: MountSpec, mountpoint: Callable[[str], str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Type": mount.type, "Source": mount.source,
                             "Destination": mount.target, "Mode": "",
                             "RW": not mount.read_only, "Propagation": ""}
    if mount.type == "volume":
        entry.update(Source=mountpoint(mount.source), Name=mount.source, Driver="local",
                     Mode="z")
    elif mount.type == "bind":
        entry["Propagation"] = "rprivate"
    return entry


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}
