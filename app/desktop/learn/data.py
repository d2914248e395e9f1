"""The facts of the "What is this?" view, and the plain words that explain them.

Pure functions from what the engine reports (image, network settings,
namespaces, stats, networks, changes) to rows the view shows, so they are
tested without a window or a container. The explanations are written for
someone who has used a computer but never a container: what the part is, what
it does for this container, and what would happen without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.desktop.images.layerrows import image_layer_rows
from app.desktop.widgets.layerstack import LayerRow
from engine import (
    Change,
    Container,
    Image,
    NamespaceInfo,
    Network,
    NetworkSettings,
    Stats,
    format_bytes,
)

__all__ = [
    "COMMAND_TEXT",
    "INTRO",
    "LAYERS_TEXT",
    "LIMITS_TEXT",
    "NAMESPACES_TEXT",
    "NAMESPACE_KINDS",
    "NETWORK_TEXT",
    "LearnFacts",
    "LimitRow",
    "NamespaceRow",
    "NetworkFacts",
    "Peer",
    "intro",
    "layer_rows",
    "limit_rows",
    "namespace_rows",
    "network_facts",
]

INTRO = (
    "<b>{name}</b> is a container: ordinary processes running on this computer's own Linux "
    "kernel. Unlike a virtual machine there is no second operating system and no emulated "
    "hardware, which is why it starts in a blink and uses little memory. What makes those "
    "processes a container is three things the kernel gives them: their <b>own files</b> "
    "(an image's read-only layers with a writable layer on top), their <b>own view</b> of "
    "the system (namespaces) and their <b>own share</b> of its resources (cgroups). Below "
    "are the real ones of {name}.")

LAYERS_TEXT = (
    "An image is a stack of read-only layers; each one holds the files one build step "
    "added, changed or deleted. Skiff stacks them with the kernel's <i>overlay</i> "
    "filesystem and puts one more layer on top that belongs to this container alone: "
    "everything it writes goes there. The container sees the merged result as its "
    "<tt>/</tt>. Many containers can share the same image layers, and removing the container "
    "throws away only its writable layer (keep data in volumes).")

NAMESPACES_TEXT = (
    "Namespaces give the container its own view of one part of the system. Each kind has a "
    "number (an inode in <tt>/proc/PID/ns</tt>); when the container's number differs from "
    "the host's, it has its own, and what happens inside stays inside. Where the numbers "
    "are equal, it shares the host's.")

LIMITS_TEXT = (
    "Control groups (cgroups) count what the container's processes use and can cap it. "
    "Without a limit a container may use the whole computer, like any program.")

NETWORK_TEXT = (
    "The container has its own network interface (in its network namespace), plugged into "
    "a virtual switch (a Linux bridge) on this computer. It gets a private address; to "
    "reach the internet its traffic leaves through the host (NAT), and a published port "
    "forwards connections to a host port into the container.")

COMMAND_TEXT = (
    "Everything this window does, the <tt>skiff</tt> command does in a terminal. This is the "
    "command that would create this container again:")

#: kind: (name, what it isolates, what that means for the container)
NAMESPACE_KINDS: dict[str, tuple[str, str]] = {
    "pid": ("Process IDs", "Its processes see only each other; its first process is PID 1 "
            "inside, while the host knows it by another number."),
    "mnt": ("Mounts", "It has its own filesystem tree (the overlay above) and cannot see "
            "the host's files."),
    "uts": ("Host name", "It has its own host name."),
    "ipc": ("Shared memory", "Its message queues and shared memory are its own."),
    "net": ("Network", "Its own interfaces, addresses, routes and ports."),
    "user": ("User IDs", "With its own, root inside could be an ordinary user outside; "
             "shared means root inside is root on the host (kept safe by dropped "
             "capabilities)."),
    "cgroup": ("Cgroup view", "What it sees of the cgroup tree."),
    "time": ("Clocks", "Its own offsets for the boot and monotonic clocks."),
}


@dataclass(frozen=True)
class NamespaceRow:
    kind: str
    name: str
    container_inode: int
    host_inode: int
    shared: bool
    meaning: str


@dataclass(frozen=True)
class LimitRow:
    resource: str
    limit: str
    now: str
    at_limit: str
    fraction: float | None = None  # use / limit, when both are known


@dataclass(frozen=True)
class Peer:
    name: str
    address: str
    network: str
    by_name: bool


@dataclass(frozen=True)
class NetworkFacts:
    mode: str  # bridge | host | none | <user-defined name>
    address: str
    gateway: str
    bridge: str
    ports: list[str]  # published: "0.0.0.0:8080 → 80/tcp"
    exposed: list[str]  # the image says it listens there; nothing forwards to it
    peers: list[Peer]
    summary: str


@dataclass
class LearnFacts:
    """Everything the view shows for one container; parts may be missing with a reason."""

    container: Container
    network: NetworkSettings | None = None  # what its inspect says of its networks
    image: Image | None = None
    changes: list[Change] | None = None
    namespaces: list[NamespaceInfo] | None = None
    stats: Stats | None = None
    networks: list[Network] = field(default_factory=list)
    command: str = ""
    missing: dict[str, str] = field(default_factory=dict)  # part: why


def intro(name: str) -> str:
    return INTRO.format(name=name)


def layer_rows(image: Image | None, changes: Sequence[Change] | None,
               upper_size: int = -1) -> list[LayerRow]:
    """The overlay from the top: the container's writable layer, then the image's layers."""
    if changes is None:
        summary = "What the container writes (and deletes) lands here."
    else:
        counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in "ACD"}
        summary = (f"What the container wrote: {counts['A']} added, {counts['C']} changed, "
                   f"{counts['D']} deleted (see the Files tab's changed files)")
    rows = [LayerRow("writable", "Writable layer", "this container's own", upper_size,
                     summary, False)]
    if image is None:
        return rows
    return rows + image_layer_rows(image)


def namespace_rows(namespaces: Sequence[NamespaceInfo]) -> list[NamespaceRow]:
    rows = []
    for ns in namespaces:
        name, meaning = NAMESPACE_KINDS.get(ns.kind, (ns.kind, ""))
        rows.append(NamespaceRow(ns.kind, name, ns.container_inode, ns.host_inode, ns.shared,
                                 meaning))
    return rows


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"


def limit_rows(container: Container, stats: Stats | None) -> list[LimitRow]:
    """Memory, CPU and process limits next to the current use."""
    res = container.config.resources
    running = container.state.status.is_active and stats is not None
    rows = []
    if res.memory:
        used = stats.memory_usage if running and stats is not None else None
        rows.append(LimitRow(
            "Memory", format_bytes(res.memory),
            format_bytes(used) + f" ({_percent(used / res.memory)})" if used is not None
            else "not running",
            "The kernel first reclaims caches; when nothing more can be freed, its OOM "
            "killer kills a process of the container (usually the biggest), and the "
            "container stops with \"OOM-killed\".",
            used / res.memory if used is not None else None))
    else:
        used = stats.memory_usage if running and stats is not None else None
        rows.append(LimitRow(
            "Memory", "none", format_bytes(used) if used is not None else "not running",
            "No limit: it can use all of this computer's memory, competing with everything "
            "else. Set one in Settings → memory."))
    cpu_now = f"{stats.cpu_percent:.0f} % of one core" if running and stats is not None \
        else "not running"
    if res.nano_cpus:
        cores = res.nano_cpus / 1e9
        rows.append(LimitRow(
            "CPU", f"{cores:g} core{'s' if cores != 1 else ''}", cpu_now,
            "Nothing is killed: the kernel pauses its processes for the rest of each 100 ms "
            "period once they used their share, so it just runs slower.",
            (stats.cpu_percent / 100 / cores) if running and stats is not None else None))
    else:
        rows.append(LimitRow("CPU", "none", cpu_now,
                             "No limit: it can keep every core busy (100 % is one core)."))
    pids_now = str(stats.pids) if running and stats is not None else "not running"
    if res.pids_limit and res.pids_limit > 0:
        rows.append(LimitRow(
            "Processes", str(res.pids_limit), pids_now,
            "Starting one more process fails (\"Resource temporarily unavailable\"): this "
            "stops fork bombs from taking the computer down.",
            (stats.pids / res.pids_limit) if running and stats is not None else None))
    else:
        rows.append(LimitRow("Processes", "none", pids_now,
                             "No limit on how many processes it may start."))
    return rows


def network_facts(container: Container, settings: NetworkSettings | None,
                  networks: Sequence[Network]) -> NetworkFacts:
    settings = settings or NetworkSettings()
    attached = settings.networks
    mode = next(iter(attached), "") or ("bridge" if container.config.network in
                                        ("default", "") else container.config.network)
    address = settings.ip_address
    gateway = settings.gateway
    by_name = {n.name: n for n in networks}
    bridge = ""
    for name in attached:
        found = by_name.get(name)
        bridge = bridge or (found.bridge if found is not None else "")
    ports: list[str] = []
    exposed: list[str] = []

    def port_order(item: tuple[str, Any]) -> tuple[int, str]:
        number, _, protocol = item[0].partition("/")
        return (int(number) if number.isdigit() else 0, protocol)

    for key, bindings in sorted(settings.ports.items(), key=port_order):
        if not bindings:
            exposed.append(key)
            continue
        for binding in bindings:
            ports.append(f"{binding.host_ip or '0.0.0.0'}:{binding.host_port} → {key}")
    peers: list[Peer] = []
    for name in attached:
        network = by_name.get(name)
        user_defined = name not in ("bridge", "host", "none")
        for cid, endpoint in sorted(network.containers.items() if network else ()):
            if cid == container.id:
                continue
            peer_address = endpoint.ipv4_address.partition("/")[0]  # 10.0.0.2/24
            peers.append(Peer(endpoint.name or cid[:12], peer_address, name, user_defined))
    if mode == "host":
        summary = ("It uses the host's network directly (--network host): no own address, "
                   "its ports are the host's ports.")
    elif mode == "none":
        summary = "It has no network at all (--network none): only its own loopback."
    elif not container.state.status.is_active:
        summary = (f"When it runs, it gets an address on the '{mode}' network. It is not "
                   "running now.")
    else:
        where = f" on the '{mode}' network" + (f" (bridge {bridge})" if bridge else "")
        summary = f"Its address is {address or 'not assigned'}{where}; the gateway " \
                  f"{gateway or '—'} is this computer."
        if peers:
            how = "by name or address" if any(p.by_name for p in peers) else \
                "by address (names work on user-defined networks)"
            summary += f" It can reach {len(peers)} other container" \
                       f"{'s' if len(peers) != 1 else ''} {how}."
        else:
            summary += " No other container is on its network."
    return NetworkFacts(mode, address, gateway, bridge, ports, exposed, peers, summary)


def ports_text(facts: NetworkFacts) -> str:
    """One sentence about published and merely exposed ports."""
    text = "Published ports: " + (", ".join(facts.ports) if facts.ports else "none") + "."
    if facts.exposed:
        text += (f" Exposed but not published: {', '.join(facts.exposed)} (the image says "
                 "something listens there; publish it in Settings to reach it from this "
                 "computer's address).")
    return text


__all__ += ["ports_text"]
