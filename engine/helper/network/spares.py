"""Spare sandboxes: network namespaces with a veth pair already on a bridge, made by a
lingering helper ahead of time and taken by the next container start on that bridge.

Making the veth pair was most of what the default bridge added to a start (7-16 ms
here of ~25: the kernel's link creation and moves, as much as pyroute2's Python).
A start that takes a spare binds the spare's namespace at its own sandbox path,
names the host end after itself ("skiff:<id>") and gives its end the container's
MAC address, address and default route (:func:`.links.take_spare`). A spare
holds nothing of the records until then: no address, no MAC address a container
has, no rule; its end in the namespace is down, with IPv6 off.

Spares belong to the helper process that made them, their *holder*
("<pid>-<start time>", which no other process has had since boot): their
namespaces are bound under ``<records>/spares/<holder>/`` and their host ends
carry the alias "skiff-spare:<holder>". The helper deletes them when it exits;
after a crash, any helper's repair finds the holder gone and deletes them
(:func:`collect`; the kernel deletes a veth with its namespace). A spare is made
under the starts lock (shared), so a repair never sees one half made.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.errors import SkiffError
from engine.helper.network import links, rtnetlink
from engine.helper.network.netns import (
    create_sandbox,
    destroy_sandbox,
    is_sandbox,
    run_in_netns,
    sandboxes_under,
)
from engine.helper.syscalls import MS_BIND, mount

__all__ = ["PER_BRIDGE", "Spare", "Spares", "alive", "collect", "holder_of"]

Starting = contextlib.AbstractContextManager[object]

PER_BRIDGE = 2  # spares kept ready for each bridge (a compose project's few starts)
BRIDGES = 4  # bridges kept spares for: the last ones containers started on


def holder_of(pid: int) -> str:
    """The holder name of process ``pid``: its pid and start time ("" if it is gone)."""
    start = _start_time(pid)
    return f"{pid}-{start}" if start else ""


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            fields = file.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):  # a zombie holds nothing
        return ""
    return fields[19].decode()  # field 22 of stat: the start time, in clock ticks


def alive(holder: str) -> bool:
    """Whether the process that ``holder`` names still runs."""
    pid, _, _ = holder.partition("-")
    return pid.isdigit() and holder_of(int(pid)) == holder


@dataclass(frozen=True)
class Spare:
    path: Path  # where its namespace is bound
    bridge: str
    bridge_index: int  # the bridge's when the spare was made: one made again differs
    host_ifname: str
    # a netlink socket of its namespace, and its end's index there: the take's
    # requests need no thread that enters the namespace (~0.1-1.3 ms here)
    requests: socket.socket | None = field(default=None, compare=False, repr=False)
    peer_index: int = 0

    def close(self) -> None:
        """Close its socket (the spare's namespace stays where it is bound)."""
        if self.requests is not None:
            self.requests.close()

    def current(self) -> bool:
        """Its host end is still there, on the same bridge (two ioctls)."""
        try:
            return (socket.if_nametoindex(self.bridge) == self.bridge_index
                    and links.link_exists(self.host_ifname))
        except OSError:
            return False


class Spares:
    """This process's spare sandboxes under ``directory``, kept ready for the bridges
    :meth:`want` names, by a thread of their own; ``starting`` is the starts lock,
    shared. Deleted by :meth:`close`, and at the process's exit."""

    def __init__(self, directory: Path, starting: Callable[[], Starting],
                 per_bridge: int = PER_BRIDGE) -> None:
        self._pid = os.getpid()
        self.holder = holder_of(self._pid)
        self.directory = directory / self.holder
        self._starting = starting
        self._per_bridge = per_bridge
        self._ready: dict[str, list[Spare]] = {}  # by bridge, the last wanted last
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._starts = 0  # this process's starts in flight: spares are made between them
        self._unbind: list[Path] = []  # taken spares' own bindings, undone between starts
        self._names = itertools.count()
        atexit.register(self._at_exit)

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Held by this process's starts: spares are made between them, not beside
        them (a 2-core machine's other core is the start's)."""
        with self._changed:
            self._starts += 1
        try:
            yield
        finally:
            with self._changed:
                self._starts -= 1
                self._changed.notify_all()

    def ready(self) -> list[Spare]:
        with self._changed:
            return [spare for spares in self._ready.values() for spare in spares]

    def take(self, bridge: str, target: Path) -> Spare | None:
        """A spare for ``bridge``, its namespace now bound at ``target`` (none there
        yet), or None: none ready, or the one there no longer on that bridge."""
        if is_sandbox(target):
            return None
        while True:
            with self._changed:
                spares = self._ready.get(bridge)
                spare = spares.pop(0) if spares else None
                self._changed.notify_all()
            if spare is None:
                return None
            if spare.current():
                break
            self._delete(spare)  # its bridge was removed, or made again
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o444))
            mount(str(spare.path), str(target), None, MS_BIND)
        except OSError as exc:
            print(f"a spare sandbox could not be taken: {exc}", file=sys.stderr)
            self._delete(spare)
            return None
        with self._changed:  # its own binding goes later: the namespace is target's now
            self._unbind.append(spare.path)
        return replace(spare, path=target)

    def want(self, bridge: str) -> None:
        """Keep spares ready for ``bridge`` (a container just started on it)."""
        dropped: list[Spare] = []
        with self._changed:
            if self._closed:
                return
            self._ready[bridge] = self._ready.pop(bridge, [])
            while len(self._ready) > BRIDGES:
                dropped += self._ready.pop(next(iter(self._ready)))
            if self._thread is None:
                self._thread = threading.Thread(target=self._fill, daemon=True,
                                                name="spare-sandboxes")
                self._thread.start()
            self._changed.notify_all()
        for spare in dropped:
            self._delete(spare)

    def drop(self, bridge: str) -> None:
        """Delete the spares of ``bridge`` (its network goes) and make no more."""
        with self._changed:
            dropped = self._ready.pop(bridge, [])
        for spare in dropped:
            self._delete(spare)

    def close(self) -> None:
        """Delete every spare, and stop making them. Idempotent."""
        with self._changed:
            self._closed = True
            spares = [spare for spares in self._ready.values() for spare in spares]
            self._ready.clear()
            self._changed.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(30)
        for spare in spares:
            self._delete(spare)
        with self._changed:
            unbind, self._unbind = self._unbind, []
        for path in unbind:
            destroy_sandbox(path)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _at_exit(self) -> None:
        if os.getpid() == self._pid:  # not in a child that forked without exec
            self.close()

    def _needed(self) -> str | None:
        """The bridge to make a spare for next, the last wanted first (lock held)."""
        for bridge in reversed(self._ready):
            if len(self._ready[bridge]) < self._per_bridge:
                return bridge
        return None

    def _fill(self) -> None:
        # Spares are made in the time nobody wants: a container just started runs (and
        # ends, for `run --rm`) beside this thread, and on a busy machine comes first.
        # Linux's nice is per thread; the threads this one starts inherit it.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        while True:
            with self._changed:
                bridge = self._needed()
                while ((bridge is None and not self._unbind) or self._starts) \
                        and not self._closed:
                    self._changed.wait()
                    bridge = self._needed()
                if self._closed:
                    return
                unbind, self._unbind = self._unbind, []
            for path in unbind:
                destroy_sandbox(path)
            if bridge is None:
                continue
            spare = self._make(bridge)
            with self._changed:
                keep = spare is not None and not self._closed and bridge in self._ready
                if keep and spare is not None:
                    self._ready[bridge].append(spare)
                elif spare is None:
                    self._ready.pop(bridge, None)  # wanted again at its next start
            if spare is not None and not keep:
                self._delete(spare)

    def _make(self, bridge: str) -> Spare | None:
        path = self.directory / str(next(self._names))
        try:
            with self._starting():
                self.directory.parent.mkdir(exist_ok=True, mode=0o700)
                self.directory.mkdir(exist_ok=True, mode=0o700)
                create_sandbox(path)
                host_ifname, index = links.make_spare(path, bridge, self.holder)
                requests, peer_index = run_in_netns(path, _requests_socket)
        except (SkiffError, OSError) as exc:
            print(f"no spare sandbox for {bridge}: {exc}", file=sys.stderr)
            destroy_sandbox(path)
            return None
        return Spare(path, bridge, index, host_ifname, requests, peer_index)

    @staticmethod
    def _delete(spare: Spare) -> None:
        spare.close()
        try:
            destroy_sandbox(spare.path)  # the kernel deletes the veth with its namespace
        except SkiffError as exc:
            print(f"a spare sandbox could not be deleted: {exc}", file=sys.stderr)


def _requests_socket() -> tuple[socket.socket, int]:
    """In a spare's namespace: a netlink socket of it, and its eth0's index."""
    return rtnetlink.open_socket(), socket.if_nametoindex("eth0")


def collect(directory: Path, keep: Callable[[str], bool] = alive) -> list[Path]:
    """Delete the spares under ``directory`` whose holder is gone (``keep`` says
    which holders are not): their sandboxes and folders. Returns the sandboxes."""
    deleted: list[Path] = []
    try:
        folders = [entry for entry in directory.iterdir() if entry.is_dir()]
    except FileNotFoundError:
        return deleted
    for folder in folders:
        if keep(folder.name):
            continue
        for path in sandboxes_under(folder):
            destroy_sandbox(path)
            deleted.append(path)
        shutil.rmtree(folder, ignore_errors=True)
    return deleted
