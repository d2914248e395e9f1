"""A container's user namespace: made for each start, entered last.

Real root makes every namespace and mount of a container; the user namespace
only decides who the container's processes are. A short-lived process
unshares CLONE_NEWUSER, real root outside it writes its uid_map and gid_map,
and an fd of /proc/HOLDER/ns/user keeps the namespace once the holder is
gone. The holder is forked for it (:func:`create`): at a container's start by
the monitor's child that starts PID 1, for a look into a stopped container by
that look's process. The fd serves twice:
idmapped mounts show the shared image layers owned as the map says
(:func:`prepare`), and the container's processes join it with :func:`enter`
after everything else is set up, so their capabilities apply inside it and
mean nothing on the host.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from engine.helper import syscalls as sc
from engine.helper.runtime.idmap import IdMap, UsernsMap
from engine.helper.runtime.kernel import LINUX
from engine.helper.runtime.spec import ContainerDir, Userns

__all__ = ["Handoff", "Prepared", "create", "enter", "mapping", "prepare", "record",
           "relax_netns"]

# Docker sets these in every container's network namespace (moby#41030): container
# root, who owns no capability over a namespace that real root made, can still
# listen on port 80 and ping.
NETNS_SYSCTLS = (("net/ipv4/ip_unprivileged_port_start", "0"),
                 ("net/ipv4/ping_group_range", "0 2147483647"))
_TTY_GID = 5  # devpts's gid=5: the tty group inside the container


def mapping(spec: Userns) -> UsernsMap:
    return UsernsMap(IdMap.from_json(spec.uid_map), IdMap.from_json(spec.gid_map))


class Handoff:
    """Two pipes between a namespace's short-lived holder and the process that takes it.

    Made before the fork; then the holder calls :meth:`hold` and the taker
    :meth:`take`. The holder returns once the taker has the namespace (or died).
    """

    def __init__(self) -> None:
        self._unshared_r, self._unshared_w = os.pipe2(os.O_CLOEXEC)
        self._taken_r, self._taken_w = os.pipe2(os.O_CLOEXEC)

    def hold(self) -> None:
        """In the holder: unshare a user namespace and wait until it was taken."""
        os.close(self._unshared_r)
        os.close(self._taken_w)
        try:
            LINUX.unshare(sc.CLONE_NEWUSER)
            os.write(self._unshared_w, b"u")
        finally:
            os.close(self._unshared_w)
        os.read(self._taken_r, 1)  # end of file: the taker holds its fd (or is gone)
        os.close(self._taken_r)

    def take(self, holder: int, ids: UsernsMap) -> int:
        """As real root: write the holder's namespace's maps; an fd of it (close-on-exec)."""
        os.close(self._unshared_w)
        os.close(self._taken_r)
        try:
            if os.read(self._unshared_r, 1) != b"u":
                raise OSError(errno.EPERM, "cannot create a user namespace")
            for name, ids_map in (("uid_map", ids.uids), ("gid_map", ids.gids)):
                with open(f"/proc/{holder}/{name}", "w") as f:
                    f.write(ids_map.proc_text())
            return os.open(f"/proc/{holder}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
        finally:
            os.close(self._unshared_r)
            os.close(self._taken_w)


def create(ids: UsernsMap) -> int:
    """A new user namespace with these maps; returns an fd of it (close-on-exec).

    Forks a holder, so only from a small single-threaded process (fsview).
    """
    handoff = Handoff()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            handoff.hold()
            code = 0
        finally:
            os._exit(code)
    try:
        return handoff.take(pid, ids)
    finally:
        os.waitpid(pid, 0)


def enter(userns_fd: int) -> None:
    """Join the user namespace and be its root: the last step as real root.

    From here on this process's capabilities are the namespace's, and the uids
    and gids it sets are the container's.
    """
    LINUX.setns(userns_fd, sc.CLONE_NEWUSER)
    os.setgroups([])
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


def relax_netns() -> None:
    """In a container's own network namespace: Docker's per-namespace sysctls."""
    for name, value in NETNS_SYSCTLS:
        with open(f"/proc/sys/{name}", "w") as f:
            f.write(value)


@dataclass
class Prepared:
    """What one start of a remapped container needs, made by the monitor."""

    fd: int  # the user namespace
    root: tuple[int, int]  # container root's host uid and gid
    tty_gid: int  # the host gid of the container's tty group
    lower_dir: str  # overlay lowerdirs are relative to this directory
    lowers: list[str]  # top layer first
    trees: list[int] = field(default_factory=list)  # idmapped layers to attach at lowers
    layers: str = "idmapped"  # the path taken: idmapped | copy

    def attach(self) -> None:
        """In the container's mount namespace: the idmapped layers at their mountpoints."""
        if not self.trees:
            return  # shifted copies: plain directories
        for name, tree in zip(self.lowers, self.trees, strict=True):
            path = os.path.join(self.lower_dir, name)
            os.makedirs(path, 0o700, exist_ok=True)
            sc.move_mount(tree, path)
            os.close(tree)
        self.trees = []

    def close(self) -> None:
        for fd in (self.fd, *self.trees):
            os.close(fd)
        self.trees = []


def prepare(spec: Userns, layers: str, hexes: list[str], lowers_dir: str, empty: str,
            fd: int = -1) -> Prepared:
    """The user namespace ``fd`` (a new one without it) and the layers as it sees them,
    for one start or one look.

    ``layers`` holds the shared layers, ``hexes`` names them top first;
    idmapped layers are attached under ``lowers_dir``; ``empty`` is the lower
    of an image without layers.
    """
    ids = mapping(spec)
    if fd < 0:
        fd = create(ids)
    try:
        root = ids.root()
        tty = ids.gids.to_host(_TTY_GID)
        prepared = Prepared(fd, root, root[1] if tty is None else tty, "", [])
        if not hexes:
            prepared.lower_dir, prepared.lowers = os.path.dirname(empty), [os.path.basename(empty)]
            return prepared
        if spec.layers == "idmapped":
            try:
                prepared.trees = _idmapped(layers, hexes, fd)
                prepared.lower_dir = lowers_dir
                prepared.lowers = [str(i) for i in range(len(hexes))]
                return prepared
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
                    raise
        from engine.helper.runtime import shifted

        prepared.layers = "copy"
        for name in hexes:
            shifted.ensure(Path(layers) / name, Path(spec.shifted_dir), ids)
        prepared.lower_dir, prepared.lowers = spec.shifted_dir, list(hexes)
        return prepared
    except BaseException:
        os.close(fd)
        raise


def _idmapped(layers: str, hexes: list[str], userns_fd: int) -> list[int]:
    trees: list[int] = []
    try:
        for name in hexes:
            trees.append(sc.idmapped_tree(os.path.join(layers, name), userns_fd))
    except BaseException:
        for tree in trees:
            os.close(tree)
        raise
    return trees


def record(cdir: ContainerDir, spec: Userns, layers: str) -> None:
    """userns.json, for inspect: the maps and how layers got their owners."""
    ids = mapping(spec)
    data = {"mode": "remap", "uid_map": ids.uids.describe(), "gid_map": ids.gids.describe(),
            "layers": layers}
    try:
        if json.loads(cdir.userns.read_text()) == data:
            return
    except (OSError, ValueError):
        pass
    cdir.write_json(cdir.userns, data)
