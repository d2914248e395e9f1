"""A container's generated /etc/hosts, /etc/hostname and /etc/resolv.conf.

The files live in the container's directory and are bind-mounted over the
image's. Rewrites go into the same inode (O_TRUNC, never rename): a bind
mount pins the inode, so a renamed-over file would never reach a running
container. Rendering is pure; only :func:`write_in_place`,
:func:`write_first_files` and :func:`host_resolv_conf` touch files. This is
the one place that writes them: at creation (``write_first_files``) and at
every network set-up and change (engine/helper/network/base.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

__all__ = [
    "HOSTNAME",
    "HOSTS",
    "LINKS",
    "RESOLV_CONF",
    "EtcOptions",
    "apply_dns",
    "host_resolv_conf",
    "read_options",
    "render_first_hosts",
    "render_hosts",
    "render_resolv_conf",
    "write_first_files",
    "write_in_place",
]

HOSTS, HOSTNAME, RESOLV_CONF = "hosts", "hostname", "resolv.conf"
# a run's legacy links: {"hosts": ["name:address", ...], "env": ["DB_PORT=...", ...]}
LINKS = "links.json"

_LOCALHOST = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)

SYSTEMD_RESOLV = Path("/run/systemd/resolve/resolv.conf")


@dataclass(frozen=True)
class EtcOptions:
    """What the user asked of these files: --dns, --dns-search, --dns-option and
    --add-host ("name:ip", the IP possibly "host-gateway")."""

    dns: Sequence[str] = ()
    dns_search: Sequence[str] = ()
    dns_options: Sequence[str] = ()
    extra_hosts: Sequence[str] = field(default=())

    def hosts_lines(self, gateway: str = "") -> str:
        """Docker's ``IP\tname`` lines for --add-host; host-gateway is ``gateway`` (a
        line that needs one and has none is left out)."""
        lines = []
        for entry in self.extra_hosts:
            name, _, address = entry.partition(":")
            address = gateway if address == "host-gateway" else address
            if address:
                lines.append(f"{address}\t{name}\n")
        return "".join(lines)

    @property
    def dns_given(self) -> bool:
        return bool(self.dns or self.dns_search or self.dns_options)


def read_options(directory: Path) -> EtcOptions:
    """A container's --dns and --add-host options, from the spec the helper wrote in
    its ``directory``, and the hosts of its legacy links for this run (LINKS)."""
    import json

    try:
        spec = json.loads((directory / "spec.json").read_text())
    except (OSError, ValueError):
        return EtcOptions()
    try:
        links = list(json.loads((directory / LINKS).read_text())["hosts"])
    except (OSError, ValueError, KeyError, TypeError):
        links = []
    dns, search, options, hosts = (tuple(spec.get(k) or ()) for k in (
        "dns", "dns_search", "dns_options", "extra_hosts"))
    return EtcOptions(dns, search, options, (*hosts, *links))


def apply_dns(text: str, options: EtcOptions) -> str:
    """A resolv.conf with the user's nameservers, search domains and options in place
    of those given (Docker's rule: each replaces its kind; "." as the search domain
    means none)."""
    if not options.dns_given:
        return text
    kept = []
    for line in text.splitlines():
        fields = line.split()
        kind = fields[0] if fields else ""
        if (kind == "nameserver" and options.dns) or (kind in ("search", "domain")
                                                      and options.dns_search) \
                or (kind == "options" and options.dns_options):
            continue
        if line.startswith("# The host's nameservers") and options.dns:
            continue
        kept.append(line + "\n")
    search = [d for d in options.dns_search if d != "."]
    if search:
        kept.append(f"search {' '.join(search)}\n")
    kept.extend(f"nameserver {server}\n" for server in options.dns)
    if options.dns_options:
        kept.append(f"options {' '.join(options.dns_options)}\n")
    return "".join(kept)


def render_first_hosts(hostname: str, extra: str = "") -> str:
    """A new container's hosts file, until its network is set up (for good on the
    host's network, where the container gets no sandbox); ``extra``: --add-host's
    lines (EtcOptions.hosts_lines)."""
    return ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            f"{extra}127.0.1.1\t{hostname}\n")


def render_hosts(hostname: str, own: Sequence[IPv4Address | IPv6Address],
                 peers: Iterable[tuple[IPv4Address | IPv6Address, Sequence[str]]] = (),
                 extra: str = "") -> str:
    """localhost, --add-host's lines (``extra``), the container's own addresses with
    its hostname, then peers (each address with the names it answers to; a name is
    listed once per IP version)."""
    lines = [_LOCALHOST, extra]
    if hostname:
        lines.extend(f"{address}\t{hostname}\n" for address in own)
    seen = {(name, version) for name in (hostname, "localhost") for version in (4, 6)}
    for address, names in peers:
        fresh = [name for name in dict.fromkeys(names)
                 if name and (name, address.version) not in seen]
        seen.update((name, address.version) for name in fresh)
        if fresh:
            lines.append(f"{address}\t{' '.join(fresh)}\n")
    return "".join(lines)


def _nameservers(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            found.append(fields[1])
    return found


def _is_loopback(server: str) -> bool:
    try:
        return ip_address(server.split("%")[0]).is_loopback
    except ValueError:
        return False


def render_resolv_conf(host_text: str, upstream_text: str | None = None,
                       host_network: bool = False) -> str:
    """The host's resolv.conf as a container on its own network should see it.

    Loopback nameservers (systemd-resolved's 127.0.0.53, a local dnsmasq)
    cannot be reached from a container's namespace: they are replaced by the
    upstream servers systemd-resolved lists (``upstream_text``), or dropped
    with a comment. A container on the host network keeps the file as it is.
    """
    if host_network:
        return host_text
    servers = _nameservers(host_text)
    reachable = [s for s in servers if not _is_loopback(s)]
    source = host_text
    if servers and not reachable and upstream_text is not None:
        source = upstream_text
        reachable = [s for s in _nameservers(upstream_text) if not _is_loopback(s)]
    out = ["# Generated by Skiff from the host's resolver configuration.\n"]
    for line in source.splitlines():
        fields = line.split()
        if fields and fields[0] in ("search", "domain", "options"):
            out.append(line.strip() + "\n")
    out.extend(f"nameserver {server}\n" for server in reachable)
    if not reachable:
        out.append("# The host's nameservers are only reachable from the host itself "
                   "(loopback); none is usable here.\n")
    return "".join(out)


def host_resolv_conf(host_network: bool = False, etc: Path = Path("/etc/resolv.conf"),
                     upstream: Path = SYSTEMD_RESOLV) -> str:
    """render_resolv_conf of this host's files (missing files read as empty)."""
    try:
        host_text = etc.read_text()
    except OSError:
        host_text = ""
    try:
        upstream_text: str | None = upstream.read_text()
    except OSError:
        upstream_text = None
    return render_resolv_conf(host_text, upstream_text, host_network)


def write_in_place(path: Path, text: str) -> None:
    """Replace the content of ``path`` keeping its inode (bind mounts see it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW,
                 0o644)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def write_first_files(directory: Path, hostname: str, options: EtcOptions | None = None,
                      host_network: bool = False) -> None:
    """A new container's hostname and hosts files in its directory ``directory``;
    with --dns options, its resolv.conf too (the host's, for the host's network)."""
    options = options or EtcOptions()
    files = [(HOSTNAME, f"{hostname}\n"),
             (HOSTS, render_first_hosts(hostname, options.hosts_lines(
                 "127.0.0.1" if host_network else "")))]
    if options.dns_given:
        files.append((RESOLV_CONF, apply_dns(host_resolv_conf(host_network), options)))
    for name, text in files:
        write_in_place(directory / name, text)
        os.chmod(directory / name, 0o644)  # bind-mounted: the container's users read it
