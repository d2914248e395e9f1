"""Which devices a container may use: Docker's default set, for root's containers too.

Docker lets container root make any node (``mknod /dev/l0 b 7 0`` names a host
loop device) and relies on the devices cgroup to keep it from opening one. We
keep containers from both, in one of two ways:

- ``cgroup``: the cgroup v1 devices controller denies every device but the
  default set, for making (mknod) and opening alike; /dev is a tmpfs whose
  nodes we make with mknod, as Docker does.
- ``nodev``: cgroup v2 has no devices file (only an eBPF program filters
  there), so every mount a container can put a node on is nodev, /dev
  included, and the default nodes are bind mounts of the host's own; without
  CAP_MKNOD the container cannot make a node at all.

Either way a node that comes in some other way (a bind of a host directory
holding nodes, a copy into a volume) cannot be opened. ``choose_mode`` is pure;
``populate`` fills a fresh /dev before pivot_root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass

from engine import errors
from engine.cgroups.detect import CgroupSetup
from engine.helper import syscalls as sc
from engine.helper.runtime import capabilities
from engine.helper.runtime.kernel import LINUX, Kernel
from engine.helper.runtime.spec import Bind, RuntimeSpec

__all__ = [
    "CGROUP_RULES",
    "DEVICES",
    "DEV_LINKS",
    "MODES",
    "Device",
    "choose_mode",
    "container_capabilities",
    "device_mode",
    "device_rules",
    "populate",
]

MODES = ("cgroup", "nodev")


@dataclass(frozen=True)
class Device:
    path: str
    major: int
    minor: int
    mode: int = 0o666


# The nodes every container's /dev has (ptmx and pts come from its own devpts).
DEVICES = (
    Device("/dev/null", 1, 3), Device("/dev/zero", 1, 5), Device("/dev/full", 1, 7),
    Device("/dev/random", 1, 8), Device("/dev/urandom", 1, 9), Device("/dev/tty", 5, 0),
)
DEV_LINKS = (
    ("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr"),
    ("pts/ptmx", "/dev/ptmx"), ("/proc/kcore", "/dev/core"),
)

# Docker's default device set (moby's oci/defaults.go, without /dev/net/tun); unlike
# Docker no "c *:* m": a node outside it cannot even be made.
CGROUP_RULES = (
    "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",  # null zero full
    "c 1:8 rwm", "c 1:9 rwm",  # random urandom
    "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",  # tty console ptmx
    "c 136:* rwm",  # the pts of the container's devpts
)


def device_rules(binds: Sequence[Bind], sources: Sequence[int]) -> tuple[str, ...]:
    """cgroup v1 rules for --device nodes: ``sources`` are the descriptors of the
    binds that are not tmpfs, in order (the user's own, checked by the helper)."""
    rules = []
    for bind, fd in zip((b for b in binds if b.type != "tmpfs"), sources, strict=False):
        if bind.type != "device" or fd < 0:
            continue
        st = os.fstat(fd)
        kind = "b" if stat.S_ISBLK(st.st_mode) else "c"
        rules.append(f"{kind} {os.major(st.st_rdev)}:{os.minor(st.st_rdev)} "
                     f"{bind.permissions or 'rwm'}")
    return tuple(rules)


def choose_mode(setup: CgroupSetup, forced: str = "") -> str:
    """``cgroup`` where the container's cgroups are v1 with a devices hierarchy,
    else ``nodev``; ``forced`` (SKIFF_DEVICES, for tests) picks one that works here."""
    usable = setup.driver == "v1" and "devices" in setup.v1
    if forced == "nodev":
        return "nodev"
    if forced == "cgroup":
        if not usable:
            raise errors.KernelFeatureMissing(
                "SKIFF_DEVICES=cgroup needs the cgroup v1 devices controller, and this host's "
                "container cgroups have none; unset it")
        return "cgroup"
    if forced:
        raise errors.InvalidArgument(f"SKIFF_DEVICES={forced!r}: use cgroup or nodev")
    return "cgroup" if usable else "nodev"


def container_capabilities(mode: str, chosen: Sequence[str] | None = None
                           ) -> tuple[str, ...]:
    """Docker's default capabilities; without CAP_MKNOD where no cgroup says no to it.
    ``chosen``: the set --cap-add/--cap-drop made of them (hostlimits.capability_set)."""
    if chosen is not None:
        return tuple(chosen)
    if mode == "cgroup":
        return capabilities.DEFAULT_CAPABILITIES
    return tuple(c for c in capabilities.DEFAULT_CAPABILITIES if c != "CAP_MKNOD")


def populate(dev: str, mode: str, kernel: Kernel = LINUX) -> None:
    """The default nodes and links in the container's fresh /dev tmpfs at ``dev``."""
    old = os.umask(0)
    try:
        for device in DEVICES:
            path = os.path.join(dev, os.path.basename(device.path))
            if mode == "cgroup":
                kernel.mknod(path, stat.S_IFCHR | device.mode,
                             os.makedev(device.major, device.minor))
                continue
            # /dev is nodev: the host's own node, through a bind mount of its own
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o666))
            kernel.mount(device.path, path, None, sc.MS_BIND)
            kernel.mount(None, path, None,
                         sc.MS_BIND | sc.MS_REMOUNT | sc.MS_NOSUID | sc.MS_NOEXEC)
        for target, link in DEV_LINKS:
            os.symlink(target, os.path.join(dev, os.path.basename(link)))
        for sub in ("pts", "shm", "mqueue"):
            os.mkdir(os.path.join(dev, sub), 0o755)
    finally:
        os.umask(old)


def device_mode(spec: RuntimeSpec | None = None) -> str:
    """How the container is kept to its devices: the spec's choice, else this host's
    (SKIFF_DEVICES forces one, for tests)."""
    if spec is not None and spec.devices:
        return spec.devices
    from engine.cgroups import host_setup

    return choose_mode(host_setup(), os.environ.get("SKIFF_DEVICES", ""))
