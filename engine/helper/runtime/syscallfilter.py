"""A container's compiled seccomp filter: its file, and loading it into the kernel.

The helper compiles a profile once (engine/helper/seccomp) and writes the BPF
program into the container's directory; the monitor and exec processes read
it and the process about to become the container's command loads it, last
before execve. Loading needs no libseccomp: one prctl or seccomp(2) call, so
this stays light enough for every start.

The file: ``SKSC``, a format version and the SECCOMP_FILTER_FLAG_* bits
(little-endian u32 each), then the raw ``struct sock_filter`` array. An empty
array means the profile asked for no filter.
"""

from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from pathlib import Path

from engine.helper import syscalls

__all__ = ["MAX_INSTRUCTIONS", "Program", "decode", "encode", "install", "read"]

MAX_INSTRUCTIONS = 4096  # the kernel's BPF_MAXINSNS
_HEADER = struct.Struct("<4sII")
_MAGIC = b"SKSC"
_VERSION = 1
_INSTRUCTION = 8  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_SECCOMP_SET_MODE_FILTER = 1


@dataclass(frozen=True)
class Program:
    flags: int
    bpf: bytes  # empty: no filter

    @property
    def instructions(self) -> int:
        return len(self.bpf) // _INSTRUCTION


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def encode(program: Program) -> bytes:
    return _HEADER.pack(_MAGIC, _VERSION, program.flags) + program.bpf


def decode(data: bytes) -> Program:
    """The program in a filter file; ValueError if it is not one."""
    if len(data) < _HEADER.size:
        raise ValueError("not a seccomp filter file")
    magic, version, flags = _HEADER.unpack_from(data)
    bpf = data[_HEADER.size:]
    if magic != _MAGIC or version != _VERSION:
        raise ValueError("not a seccomp filter file of this Skiff")
    if len(bpf) % _INSTRUCTION or len(bpf) // _INSTRUCTION > MAX_INSTRUCTIONS:
        raise ValueError("a damaged seccomp filter file")
    return Program(flags, bpf)


def read(path: Path | str) -> Program:
    with open(path, "rb") as f:
        return decode(f.read())


def install(program: Program) -> None:
    """Filter every later syscall of this thread and its children (OSError on failure).

    Needs no_new_privs, or CAP_SYS_ADMIN. The filter survives execve.
    """
    if not program.bpf:
        return
    code = ctypes.create_string_buffer(program.bpf, len(program.bpf))
    fprog = _SockFprog(program.instructions, ctypes.addressof(code))
    if program.flags:
        syscalls.seccomp(_SECCOMP_SET_MODE_FILTER, program.flags, ctypes.addressof(fprog))
    else:
        syscalls.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog))
