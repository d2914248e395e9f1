"""Compiled seccomp programs: libseccomp's output, loaded for real, and the cache.

Each program is loaded into a forked child of the test (no_new_privs first, so
no root is needed), which then tries syscalls and reports what happened.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import InvalidArgument, ProtocolError
from engine.helper.runtime import syscallfilter
from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES
from engine.helper.runtime.syscallfilter import Program
from engine.helper.seccomp.compiler import compile_program
from engine.helper.seccomp.profile import Host, ProfileError, parse, resolve
from engine.helper.seccomp.programs import UNCONFINED, ProgramCache, default_profile
from engine.wire import protocol

pyseccomp = pytest.importorskip("pyseccomp", reason="the libseccomp binding is not installed")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_PR_SET_NO_NEW_PRIVS = 38
_CLONE_NEWUSER = 0x10000000


def number(name: str) -> int:
    return int(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name))


def call(name: str, *args: int) -> int:
    """0 when the kernel let it through, else its errno."""
    argv = [ctypes.c_long(a) for a in args]
    return 0 if _libc.syscall(number(name), *argv) != -1 else ctypes.get_errno()


def under(program: Program, probe: Callable[[], object]) -> object:
    """What ``probe`` returns in a child process that runs under ``program``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            syscallfilter.install(program)
            os.write(write_end, json.dumps(probe()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    assert data, "the child died under the filter"
    return json.loads(data)


def compiled(profile: str) -> Program:
    resolved = resolve(parse(profile), Host.current(DEFAULT_CAPABILITIES))
    assert resolved is not None
    return compile_program(resolved)


def seccomp_mode() -> str:
    with open("/proc/self/status") as f:
        return next(line.split()[1] for line in f if line.startswith("Seccomp:"))


def test_the_default_program_refuses_what_docker_refuses() -> None:
    program = compiled(default_profile())
    assert 0 < program.instructions <= syscallfilter.MAX_INSTRUCTIONS
    found = under(program, lambda: {
        "mode": seccomp_mode(),
        "keyctl": call("keyctl", 0, -3, 0),
        "io_uring_setup": call("io_uring_setup", 1, ctypes.addressof(
            ctypes.create_string_buffer(120))),
        "personality": call("personality", 0x0040000),
        "personality-query": call("personality", 0xFFFFFFFF),
        "userns": call("unshare", _CLONE_NEWUSER),
        "clone3": call("clone3", 0, 0),
        "getpid": call("getpid"),
    })
    assert found == {"mode": "2", "keyctl": errno.EPERM, "io_uring_setup": errno.EPERM,
                     "personality": errno.EPERM, "personality-query": 0,
                     "userns": errno.EPERM, "clone3": errno.ENOSYS, "getpid": 0}


def test_a_profile_of_ones_own_with_flags_and_alternatives() -> None:
    program = compiled(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            # two conditions on one argument: either refuses (runc's reading)
            {"names": ["personality"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 0x0040000, "op": "SCMP_CMP_EQ"},
                      {"index": 0, "value": 0x0020000, "op": "SCMP_CMP_EQ"}]},
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},  # the default: skipped
            {"names": ["no_such_syscall_here"], "action": "SCMP_ACT_ERRNO"},  # unknown
        ]}))
    assert program.flags == 2  # loaded through seccomp(2), not prctl

    def probe() -> object:
        try:
            os.mkdir("/tmp/never-made-by-seccomp-test")
            made = 0
        except OSError as exc:
            made = exc.errno or -1
        return [made, call("personality", 0x0040000), call("personality", 0x0020000),
                call("personality", 0xFFFFFFFF)]

    assert under(program, probe) == [errno.EACCES, errno.EPERM, errno.EPERM, 0]


def test_what_libseccomp_cannot_do_is_a_profile_error() -> None:
    with pytest.raises(ProfileError, match="SCMP_ARCH_LOONGARCH64"):
        compiled('{"defaultAction": "SCMP_ACT_ERRNO", '
                 '"architectures": ["SCMP_ARCH_LOONGARCH64"]}')


def test_filter_files_are_checked() -> None:
    program = Program(2, b"\x06\x00\x00\x00\x00\x00\xff\x7f")  # one "return ALLOW"
    assert syscallfilter.decode(syscallfilter.encode(program)) == program
    for bad in (b"", b"junk" * 4, syscallfilter.encode(program)[:-1]):
        with pytest.raises(ValueError):
            syscallfilter.decode(bad)


# -- the cache -----------------------------------------------------------------------

def test_programs_are_compiled_once_and_kept_on_disk(tmp_path: Path) -> None:
    first = ProgramCache(tmp_path / "cache")
    program = first.program("default")
    assert first.program("default") is program  # from memory
    (cached,) = (tmp_path / "cache").glob("*.bpf")
    assert syscallfilter.read(cached) == program
    # A new helper reads it instead of compiling: prove it with a different program.
    cached.write_bytes(syscallfilter.encode(Program(0, b"")))
    assert ProgramCache(tmp_path / "cache").program("default") == Program(0, b"")
    cached.write_bytes(b"damaged")
    assert ProgramCache(tmp_path / "cache").program("default") == program
    other_caps = ProgramCache(tmp_path / "cache", [*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"])
    assert other_caps.program("default") != program  # clone and clone3 allowed
    assert len(list((tmp_path / "cache").glob("*.bpf"))) == 2


def test_install_writes_the_containers_file(tmp_path: Path) -> None:
    cache = ProgramCache(tmp_path / "cache")
    target = tmp_path / "seccomp.bpf"
    cache.install(target, '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": '
                          '[{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO"}]}')
    assert syscallfilter.read(target).instructions > 0
    cache.install(target, "{}")
    assert syscallfilter.read(target) == Program(0, b"")  # Docker's "no filter at all"
    cache.install(target, UNCONFINED)
    assert not target.exists()


def test_a_bad_profile_is_an_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"^invalid seccomp profile: syscalls\[0\]"):
        ProgramCache(tmp_path).program('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": '
                                       '[{"names": ["read"], "action": "ALLOW"}]}')


def test_the_protocol_bounds_the_profile() -> None:
    spec = {"args": ["true"], "env": [], "cwd": "/", "hostname": "h", "layers": [],
            "restart_policy": "no", "restart_max": 0, "stop_signal": 15, "binds": [],
            "network_mode": "none", "ports": [], "exposed": [], "aliases": [], "name": "t"}
    for value in (None, "unconfined", '{"defaultAction": "SCMP_ACT_ALLOW"}'):
        checked = protocol.validate("container_create", {"id": "a" * 64,
                                                         "spec": {**spec, "seccomp": value}})
        assert checked["spec"]["seccomp"] == value
    for value in ("bogus", "unconfined-ish", '{"x": "' + "y" * (1 << 18) + '"}'):
        with pytest.raises(ProtocolError):
            protocol.validate("container_create", {"id": "a" * 64,
                                                   "spec": {**spec, "seccomp": value}})
