"""docker container inspect's facts from what is stored: the container's record
and status, the files in its directory, its network attachments and volumes, read
into engine/containers/details.py's ContainerDetails (whose ``docker_json`` is
the document).

Only a running container on a network (not host, not none) has something only
the helper knows: its endpoints as they are now. The caller asks the helper for
those (``needs_live_endpoints``) and passes them in; every other container is
inspected without the helper, so ``engine.Reader`` (``skiff inspect``) does it
with no event loop, and the service (the API, the window) with one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence

from engine.containers.config import MountSpec
from engine.containers.details import (
    ContainerDetails,
    EndpointSettings,
    MountPoint,
    NetworkSettings,
    UsernsMapping,
)
from engine.containers.imageconfig import merge_config
from engine.containers.model import Container
from engine.containers.store import ContainerRecord
from engine.frozen import replace
from engine.images.model import Image
from engine.networkattachments import Attachment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike
    from typing import Any

__all__ = ["inspect_details", "needs_live_endpoints"]


def needs_live_endpoints(container: Container) -> bool:
    """Whether the container's inspect needs its endpoints from the helper."""
    return container.state.running and container.config.network not in ("host", "none")


def inspect_details(record: ContainerRecord, container: Container, image: Image | None,
                    cdir: str | PathLike[str], attachments: Sequence[Attachment],
                    mountpoint: Callable[[str], str],
                    live: Mapping[str, Mapping[str, Any]] | None = None) -> ContainerDetails:
    """``cdir``: the container's directory; ``mountpoint``: a volume's by its name
    ("" when it is gone); ``live``: network name -> the helper's endpoint info, for
    a container that ``needs_live_endpoints`` (None for any other)."""
    spec = record.spec
    running = container.state.running
    found = _read_json(f"{cdir}/network.json") if running else {}
    if found:
        network = NetworkSettings.from_helper(found)
    else:
        mode = record.config.network if record.config.network != "default" else "bridge"
        network = NetworkSettings(networks={mode: EndpointSettings()},
                                  ports={key: None for key in spec.exposed})
    endpoints = _endpoints(record, running, network.networks, attachments, live)
    # The files the runtime bind-mounts at /etc/resolv.conf, /etc/hostname and
    # /etc/hosts, once its first start wrote them (as docker shows them).
    paths = [f"{cdir}/{name}" if os.path.isfile(f"{cdir}/{name}") else ""
             for name in ("resolv.conf", "hostname", "hosts")]
    return ContainerDetails(
        container, merge_config(record.config, image.run_config if image else {}),
        spec.args, spec.env, log_path=f"{cdir}/ctr.log",
        network=_network_settings(record.id, cdir, network, endpoints),
        mounts=tuple(_mount_point(m, mountpoint) for m in record.config.mounts),
        userns=UsernsMapping.from_helper(_read_json(f"{cdir}/userns.json")),
        resolv_conf_path=paths[0], hostname_path=paths[1], hosts_path=paths[2])


def _endpoints(record: ContainerRecord, running: bool,
               networks: Mapping[str, EndpointSettings], attachments: Sequence[Attachment],
               live: Mapping[str, Mapping[str, Any]] | None) -> dict[str, EndpointSettings]:
    """NetworkSettings.Networks as they are now: a running container's endpoints
    as the helper has them (connected and disconnected since it started), and the
    networks connected beyond its own (engine/networkattachments.py)."""
    attached = {a.network: a for a in attachments}
    result = dict(networks)
    if running and live is not None:
        now = {name: EndpointSettings.from_helper(info) for name, info in live.items()}
        result = {}
        for name in [*(n for n in networks if n in now), *(n for n in now if n not in networks)]:
            kept = networks.get(name, EndpointSettings())
            result[name] = replace(now[name], aliases=tuple(attached[name].aliases) or None
                                   if name in attached else kept.aliases)
    elif not running:
        for name, attachment in attached.items():
            result.setdefault(name, EndpointSettings(aliases=tuple(attachment.aliases) or None,
                                                     mac_address=attachment.mac))
    own = record.config.network
    if own in result and not result[own].aliases:  # as asked, while it is not running too
        result[own] = replace(result[own], aliases=tuple(record.config.network_aliases) or None)
    key = "bridge" if own == "default" else own
    if key in result and record.config.network_driver_opts:  # as asked, as dockerd keeps
        result[key] = replace(result[key], driver_opts=dict(record.config.network_driver_opts))
    asked = {name: (a.ip, a.ip6) for name, a in attached.items()}
    asked.setdefault(own, (record.config.ipv4_address, record.config.ipv6_address))
    for name, (ip, ip6) in asked.items():
        if (ip or ip6) and name in result:
            result[name] = replace(result[name], ipv4_requested=ip, ipv6_requested=ip6)
    scoped = {name: (a.links, a.link_local_ips) for name, a in attached.items()}
    scoped.setdefault(key, (record.config.network_links, record.config.network_link_local_ips))
    for name, (links, link_local) in scoped.items():
        if (links or link_local) and name in result:
            result[name] = replace(result[name], links=tuple(links),
                                   link_local_ips=tuple(link_local))
    return result


def _network_settings(container_id: str, cdir: str | PathLike[str], network: NetworkSettings,
                      endpoints: dict[str, EndpointSettings]) -> NetworkSettings:
    """NetworkSettings as docker shows them: the sandbox's absolute path and the
    endpoint IDs that network inspect shows too (a container that never ran has
    none: their module and hashlib are not imported for it)."""
    if network.sandbox_key:
        from engine.networkmodel import hex_id

        # the helper names it in the container's directory
        network = replace(network, sandbox_key=f"{cdir}/{network.sandbox_key}",
                          sandbox_id=hex_id("sandbox", container_id))
    for name, settings in endpoints.items():
        if settings.ip_address:
            from engine.networkmodel import endpoint_id, hex_id

            endpoints[name] = replace(
                settings, network_id=settings.network_id or hex_id("network", name),
                endpoint_id=settings.endpoint_id or endpoint_id(name, container_id))
    return replace(network, networks=endpoints)


def _mount_point(mount: MountSpec, mountpoint: Callable[[str], str]) -> MountPoint:
    if mount.type == "volume":
        return MountPoint("volume", mountpoint(mount.source), mount.target, mount.read_only,
                          name=mount.source, mode="z")
    return MountPoint(mount.type, mount.source, mount.target, mount.read_only,
                      propagation="rprivate" if mount.type == "bind" else "")


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}
