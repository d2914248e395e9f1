"""What a container's host options may give its owner: never more than they have.

The helper decides this alone, at ``container_create``, from the checked spec:

- capabilities (--cap-add/--cap-drop, Docker's rule): a user's container always
  runs in a user namespace that owns none of the container's other namespaces
  (root made them first, engine/helper/runtime/init.py), so whatever it adds
  holds over the container's own files and processes only; the kernel checks
  everything global against the host's namespace. A container of a user without
  one gets nothing added.
- ulimits: a user's hard limits at most their own (the helper inherits them
  from the process that started it through pkexec; the kernel keeps a process's
  limits across a set-uid exec); root's are not bounded.
- sysctls: only those of the container's own namespaces (the protocol's pattern:
  IPC, UTS, network); none of the network's on the host's network. A user's
  must also be ones the kernel lets a user set in namespaces of their own: the
  helper opens each for writing in a fresh user, network and IPC namespace
  (``probe_sysctls``, run by ``python -m engine.helper.runtime.hostlimits``), so
  those the kernel keeps from unprivileged namespaces stay refused.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from collections.abc import Sequence

from engine.errors import InvalidArgument
from engine.helper.runtime import capabilities, devices

__all__ = ["apply_sysctls", "apply_ulimits", "capability_set", "check_sysctls",
           "check_ulimits", "probe_in_namespaces", "probe_sysctls", "sysctl_path"]

_RLIMITS = {"as": "RLIMIT_AS", "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU",
            "data": "RLIMIT_DATA", "fsize": "RLIMIT_FSIZE", "locks": "RLIMIT_LOCKS",
            "memlock": "RLIMIT_MEMLOCK", "msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE",
            "nofile": "RLIMIT_NOFILE", "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS",
            "rtprio": "RLIMIT_RTPRIO", "rttime": "RLIMIT_RTTIME",
            "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK"}


def capability_set(add: Sequence[str], drop: Sequence[str], device_mode: str, *,
                   owner_uid: int, in_userns: bool) -> tuple[str, ...] | None:
    """The container's capabilities, or None for the default set."""
    if not add and not drop:
        return None
    if add and owner_uid != 0 and not in_userns:
        raise InvalidArgument("capabilities can be added only to a container that runs in a "
                              "user namespace")
    return capabilities.resolve(devices.container_capabilities(device_mode), add, drop)


def _resource(name: str) -> int:
    return int(getattr(resource, _RLIMITS[name]))


def _limit(value: int) -> int:
    return resource.RLIM_INFINITY if value < 0 else value


def check_ulimits(ulimits: Sequence[dict[str, int | str]], owner_uid: int) -> None:
    """A user's hard limits must not be above their own (this process's)."""
    if owner_uid == 0:
        return
    for item in ulimits:
        name = str(item["name"])
        _, own = resource.getrlimit(_resource(name))
        wanted = _limit(int(item["hard"]))
        if own != resource.RLIM_INFINITY and (wanted == resource.RLIM_INFINITY or wanted > own):
            raise InvalidArgument(f"ulimit {name}: the hard limit {item['hard']} is above "
                                  f"yours ({own})")


def apply_ulimits(ulimits: Sequence[dict[str, int | str]]) -> None:
    """In the container's init, before it execs: setrlimit each (inherited by all)."""
    for item in ulimits:
        resource.setrlimit(_resource(str(item["name"])),
                           (_limit(int(item["soft"])), _limit(int(item["hard"]))))


def sysctl_path(name: str) -> str:
    return "/proc/sys/" + name.replace(".", "/")


def check_sysctls(sysctls: Sequence[str], owner_uid: int, network_mode: str) -> None:
    names = [item.partition("=")[0] for item in sysctls]
    for name in names:
        if name.startswith("net.") and network_mode == "host":
            raise InvalidArgument(f"sysctl '{name}' is not allowed in the host's network "
                                  "namespace")
    if owner_uid == 0 or not names:
        return
    allowed = probe_in_namespaces(names)
    for name in names:
        if not allowed.get(name):
            raise InvalidArgument(f"sysctl '{name}' is not allowed: the kernel does not let a "
                                  "user set it in namespaces of their own")


def probe_in_namespaces(names: list[str]) -> dict[str, bool]:
    """probe_sysctls in a process of its own (it unshares namespaces)."""
    from engine.helper.runtime.launch import python_module

    try:
        done = subprocess.run([*python_module("engine.helper.runtime.hostlimits"), *names],
                              capture_output=True, timeout=30, check=True, cwd="/", env={})
        return {str(k): bool(v) for k, v in json.loads(done.stdout).items()}
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise InvalidArgument(f"cannot check the sysctls a user may set: {exc}") from None


def probe_sysctls(names: Sequence[str]) -> dict[str, bool]:
    """In fresh user, network, IPC and UTS namespaces of our own: which sysctls the
    kernel lets their owner write (opened for writing, nothing written)."""
    from engine.helper import syscalls as sc
    from engine.helper.runtime.kernel import LINUX

    LINUX.unshare(sc.CLONE_NEWUSER | sc.CLONE_NEWNET | sc.CLONE_NEWIPC | sc.CLONE_NEWUTS)
    found = {}
    for name in names:
        try:
            os.close(os.open(sysctl_path(name), os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC))
            found[name] = True
        except OSError:
            found[name] = False
    return found


def apply_sysctls(sysctls: Sequence[str]) -> None:
    """In the container's namespaces (as the helper's root, before pivot_root): the
    files under /proc/sys resolve to the writer's own network and IPC namespaces."""
    for item in sysctls:
        name, _, value = item.partition("=")
        try:
            fd = os.open(sysctl_path(name), os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            raise OSError(f"sysctl {name!r} does not exist in the container's "
                          "namespaces") from None
        try:
            os.write(fd, value.encode())
        except OSError as exc:
            raise OSError(f"cannot set sysctl {name!r} to {value!r}: "
                          f"{os.strerror(exc.errno or 0).lower()}") from None
        finally:
            os.close(fd)


def main(argv: list[str]) -> int:
    print(json.dumps(probe_sysctls(argv[1:])))
    return 0
