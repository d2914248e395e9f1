"""Compiled seccomp filters, once per distinct profile, capability set and host.

Compiling Docker's default profile costs libseccomp about 10 ms, and loading
libseccomp 15 more: too much for every start. The helper compiles a program
once per (profile text, capability bounding set, architecture, kernel
version), everything a profile's conditions look at, keeps it in memory and
under its root (so the next helper has it too), and writes it into the
container's directory at create, where the monitor and exec processes read
it; a start only checks that it is still right (a new kernel version, say).
A profile's text is "default" for the built-in one, "unconfined", or JSON.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Collection
from functools import cache
from pathlib import Path

from engine.errors import HelperError, InvalidArgument
from engine.helper.runtime import syscallfilter
from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES
from engine.helper.runtime.syscallfilter import Program
from engine.helper.seccomp.profile import Host, ProfileError, parse, resolve

__all__ = ["DEFAULT", "UNCONFINED", "ProgramCache", "default_profile"]

DEFAULT = "default"
UNCONFINED = "unconfined"
_FORMAT = "1"  # bump when the compiler's output changes for the same input
_MAX_IN_MEMORY = 64
_MAX_ON_DISK = 256


@cache
def default_profile() -> str:
    """Docker's default profile, kept as data beside this module."""
    return (Path(__file__).with_name("default.json")).read_text()


class ProgramCache:
    def __init__(self, directory: Path,
                 capabilities: Collection[str] = DEFAULT_CAPABILITIES) -> None:
        self.directory = directory
        self.capabilities = frozenset(capabilities)
        self._memory: dict[str, Program] = {}
        self._lock = threading.Lock()
        self._host: Host | None = None

    def program(self, profile: str, capabilities: Collection[str] | None = None) -> Program:
        """The program for ``profile`` (not "unconfined") on this host, for a container
        with ``capabilities`` (None: Docker's default set): the profile's conditions on
        capabilities open calls such as mount to CAP_SYS_ADMIN.

        InvalidArgument names what is wrong with a bad profile; HelperError says
        libseccomp is missing.
        """
        text = default_profile() if profile == DEFAULT else profile
        if self._host is None:
            self._host = Host.current(self.capabilities)
        host = self._host
        if capabilities is not None:
            host = Host(host.arch, host.kernel, frozenset(capabilities))
        key = hashlib.sha256("\0".join(
            (_FORMAT, host.arch, f"{host.kernel[0]}.{host.kernel[1]}",
             ",".join(sorted(host.capabilities)), text)).encode()).hexdigest()
        with self._lock:
            found = self._memory.get(key)
        if found is None:
            found = self._from_disk(key) or self._compile(key, text, host)
            with self._lock:
                if len(self._memory) >= _MAX_IN_MEMORY:
                    self._memory.pop(next(iter(self._memory)))
                self._memory[key] = found
        return found

    def install(self, target: Path, profile: str,
                capabilities: Collection[str] | None = None) -> None:
        """Write the container's filter file; none at all for "unconfined".

        A file that is already right is left alone: a start then only reads it
        (writing one costs a couple of milliseconds on a busy disk).
        """
        if profile == UNCONFINED:
            _unlink(target)
            return
        data = syscallfilter.encode(self.program(profile, capabilities))
        try:
            with open(target, "rb") as f:
                if f.read(len(data) + 1) == data:
                    return
        except OSError:
            pass
        _write_atomically(target, data)

    def _from_disk(self, key: str) -> Program | None:
        try:
            return syscallfilter.read(self.directory / f"{key}.bpf")
        except (OSError, ValueError):
            return None

    def _compile(self, key: str, text: str, host: Host) -> Program:
        from engine.helper.seccomp.compiler import SeccompUnavailable, compile_program

        try:
            resolved = resolve(parse(text), host)
            program = Program(0, b"") if resolved is None else compile_program(resolved)
        except ProfileError as exc:
            raise InvalidArgument(f"invalid seccomp profile: {exc}") from None
        except SeccompUnavailable as exc:
            raise HelperError(str(exc)) from None
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            _write_atomically(self.directory / f"{key}.bpf", syscallfilter.encode(program))
            self._trim()
        except OSError:
            pass  # a cache that cannot be written only makes the next helper compile again
        return program

    def _trim(self) -> None:
        files = sorted(self.directory.glob("*.bpf"), key=lambda p: p.stat().st_mtime)
        for old in files[:-_MAX_ON_DISK]:
            _unlink(old)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
