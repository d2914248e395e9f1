"""seccomp profiles in Docker's JSON format: checked, then resolved for one container.

Docker's format (moby's ``profiles/seccomp``) has conditional rules: a rule is
included or excluded by the host's architecture, the kernel's version and the
container's capabilities (its bounding set). ``parse`` checks a profile's shape
and names and says in one line what is wrong and where; ``resolve`` evaluates
the conditions for one host and capability set, leaving the plain rules that
``compiler`` hands to libseccomp. Unknown keys are ignored, as Docker's JSON
decoding ignores them. Pure: tested without root or libseccomp.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ACTIONS",
    "FLAGS",
    "OPERATORS",
    "Arg",
    "Condition",
    "Host",
    "Profile",
    "ProfileError",
    "Resolved",
    "Rule",
    "Syscalls",
    "kernel_version",
    "native_arch",
    "parse",
    "resolve",
]

ACTIONS = ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
           "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP")
OPERATORS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
             "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ")
ARCHITECTURES = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
)
# The kernel's SECCOMP_FILTER_FLAG_* bits a profile may ask for.
FLAGS = {"SECCOMP_FILTER_FLAG_TSYNC": 1, "SECCOMP_FILTER_FLAG_LOG": 2,
         "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}
MAX_ERRNO = 4095

# uname's machine -> the architecture names profiles' conditions use (Docker's
# libseccomp-style "native" names), and the SCMP_ARCH that picks an archMap entry.
_MACHINES = {
    "x86_64": "amd64", "amd64": "amd64", "i386": "x86", "i486": "x86", "i586": "x86",
    "i686": "x86", "aarch64": "arm64", "arm64": "arm64", "armv6l": "arm", "armv7l": "arm",
    "armv8l": "arm", "ppc64le": "ppc64le", "ppc64": "ppc64", "ppc": "ppc",
    "s390x": "s390x", "s390": "s390", "riscv64": "riscv64", "mips64": "mips64",
    "loongarch64": "loongarch64",
}
NATIVE_TO_SCMP = {
    "x86": "SCMP_ARCH_X86", "amd64": "SCMP_ARCH_X86_64", "arm": "SCMP_ARCH_ARM",
    "arm64": "SCMP_ARCH_AARCH64", "loongarch64": "SCMP_ARCH_LOONGARCH64",
    "mips64": "SCMP_ARCH_MIPS64", "mipsle": "SCMP_ARCH_MIPSEL", "ppc": "SCMP_ARCH_PPC",
    "ppc64": "SCMP_ARCH_PPC64", "ppc64le": "SCMP_ARCH_PPC64LE",
    "riscv64": "SCMP_ARCH_RISCV64", "s390": "SCMP_ARCH_S390", "s390x": "SCMP_ARCH_S390X",
}
_SYSCALL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
_CAPABILITY = re.compile(r"^CAP_[A-Z_]{1,32}$")
_KERNEL = re.compile(r"^([0-9]{1,3})\.([0-9]{1,3})$")
_UINT64 = (1 << 64) - 1


class ProfileError(ValueError):
    """What is wrong with a profile, where: ``syscalls[3].action: unknown action ...``."""


@dataclass(frozen=True)
class Arg:
    """A condition on one argument; for MASKED_EQ, ``value`` is the mask."""

    index: int
    op: str
    value: int
    value_two: int = 0


@dataclass(frozen=True)
class Condition:
    """A rule's ``includes`` or ``excludes``: architectures, capabilities, kernel."""

    arches: tuple[str, ...] = ()
    caps: tuple[str, ...] = ()
    min_kernel: tuple[int, int] | None = None


@dataclass(frozen=True)
class Syscalls:
    """One entry of ``syscalls``, conditions and all."""

    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None
    args: tuple[Arg, ...] = ()
    includes: Condition | None = None
    excludes: Condition | None = None


@dataclass(frozen=True)
class Profile:
    default_action: str  # "" with no syscalls: Docker's "no filter at all"
    default_errno_ret: int | None
    architectures: tuple[str, ...]
    arch_map: tuple[tuple[str, tuple[str, ...]], ...]
    flags: tuple[str, ...]
    syscalls: tuple[Syscalls, ...]


@dataclass(frozen=True)
class Rule:
    names: tuple[str, ...]
    action: str
    errno_ret: int | None
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class Resolved:
    """A profile with its conditions evaluated: what libseccomp compiles."""

    default_action: str
    default_errno_ret: int | None
    architectures: tuple[str, ...]  # SCMP_ARCH names besides the native one
    flags: int
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Host:
    """What conditions look at: architecture (Docker's name), kernel, capabilities."""

    arch: str
    kernel: tuple[int, int]
    capabilities: frozenset[str]

    @classmethod
    def current(cls, capabilities: Collection[str]) -> Host:
        return cls(native_arch(), kernel_version(os.uname().release), frozenset(capabilities))


def native_arch(machine: str | None = None) -> str:
    machine = machine or platform.machine()
    return _MACHINES.get(machine, machine)


def kernel_version(release: str) -> tuple[int, int]:
    """"6.1.0-18-amd64" -> (6, 1): as Docker compares, minor revisions ignored."""
    match = re.match(r"^([0-9]+)\.([0-9]+)", release)
    if not match:
        raise ProfileError(f"cannot read the kernel version from {release!r}")
    return int(match.group(1)), int(match.group(2))


# -- parse -------------------------------------------------------------------------

def parse(text: str) -> Profile:
    """A Docker-format profile, checked; ProfileError says what is wrong and where."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ProfileError("the JSON is nested too deeply") from None
    except ValueError as exc:
        raise ProfileError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProfileError("a profile is a JSON object")
    syscalls = tuple(_syscalls(item, f"syscalls[{i}]")
                     for i, item in enumerate(_list(data.get("syscalls"), "syscalls")))
    default_action = data.get("defaultAction") or ""
    if default_action:
        _action(default_action, "defaultAction")
    elif syscalls:
        raise ProfileError("defaultAction is missing: say what the syscalls not listed get, "
                           'e.g. "SCMP_ACT_ERRNO"')
    architectures = tuple(_arch(a, f"architectures[{i}]")
                          for i, a in enumerate(_list(data.get("architectures"),
                                                      "architectures")))
    arch_map = tuple(_arch_entry(entry, f"archMap[{i}]")
                     for i, entry in enumerate(_list(data.get("archMap"), "archMap")))
    if architectures and arch_map:
        raise ProfileError("both 'architectures' and 'archMap' are given: use one of them")
    flags = tuple(_flag(f, f"flags[{i}]") for i, f in enumerate(_list(data.get("flags"),
                                                                        "flags")))
    if data.get("listenerPath"):
        raise ProfileError("listenerPath: Skiff has no seccomp notification agent; remove "
                           "it and any SCMP_ACT_NOTIFY")
    return Profile(default_action, _errno(data.get("defaultErrnoRet"), "defaultErrnoRet"),
                   architectures, arch_map, flags, syscalls)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProfileError(f"{where}: expected a list")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"{where}: expected a string")
    return value


def _uint(value: Any, where: str, maximum: int = _UINT64) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ProfileError(f"{where}: expected a whole number from 0 to {maximum}")
    return value


def _errno(value: Any, where: str) -> int | None:
    return None if value is None else _uint(value, where, MAX_ERRNO)


def _action(value: Any, where: str) -> str:
    action = _str(value, where)
    if action == "SCMP_ACT_NOTIFY":
        raise ProfileError(f"{where}: SCMP_ACT_NOTIFY needs a notification agent, which "
                           "Skiff does not have")
    if action not in ACTIONS:
        raise ProfileError(f"{where}: unknown action {action!r} (use one of "
                           f"{', '.join(ACTIONS)})")
    return action


def _arch(value: Any, where: str) -> str:
    arch = _str(value, where)
    if arch not in ARCHITECTURES:
        raise ProfileError(f"{where}: unknown architecture {arch!r}")
    return arch


def _arch_entry(value: Any, where: str) -> tuple[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: expected an object")
    arch = _arch(value.get("architecture"), f"{where}.architecture")
    subs = tuple(_arch(a, f"{where}.subArchitectures[{i}]")
                 for i, a in enumerate(_list(value.get("subArchitectures"),
                                             f"{where}.subArchitectures")))
    return arch, subs


def _flag(value: Any, where: str) -> str:
    flag = _str(value, where)
    if flag not in FLAGS:
        raise ProfileError(f"{where}: unknown flag {flag!r} (use one of {', '.join(FLAGS)})")
    return flag


def _syscalls(value: Any, where: str) -> Syscalls:
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: expected an object")
    names = _list(value.get("names"), f"{where}.names")
    if value.get("name"):
        if names:
            raise ProfileError(f"{where}: both 'name' and 'names' are given: use 'names'")
        names = [value["name"]]
    if not names:
        raise ProfileError(f"{where}: no syscall names")
    for i, name in enumerate(names):
        if not _SYSCALL_NAME.match(_str(name, f"{where}.names[{i}]")):
            raise ProfileError(f"{where}.names[{i}]: {name[:64]!r} is not a syscall name")
    if "action" not in value:
        raise ProfileError(f"{where}: the action is missing")
    args = _list(value.get("args"), f"{where}.args")
    if len(args) > 6:
        raise ProfileError(f"{where}.args: a syscall has at most 6 arguments to compare")
    return Syscalls(
        names=tuple(names),
        action=_action(value["action"], f"{where}.action"),
        errno_ret=_errno(value.get("errnoRet"), f"{where}.errnoRet"),
        args=tuple(_arg(a, f"{where}.args[{i}]") for i, a in enumerate(args)),
        includes=_condition(value.get("includes"), f"{where}.includes"),
        excludes=_condition(value.get("excludes"), f"{where}.excludes"),
    )


def _arg(value: Any, where: str) -> Arg:
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: expected an object")
    op = _str(value.get("op"), f"{where}.op")
    if op not in OPERATORS:
        raise ProfileError(f"{where}.op: unknown operator {op!r} (use one of "
                           f"{', '.join(OPERATORS)})")
    return Arg(index=_uint(value.get("index"), f"{where}.index", 5), op=op,
               value=_uint(value.get("value", 0), f"{where}.value"),
               value_two=_uint(value.get("valueTwo", 0), f"{where}.valueTwo"))


def _condition(value: Any, where: str) -> Condition | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: expected an object")
    arches = tuple(_str(a, f"{where}.arches[{i}]")
                   for i, a in enumerate(_list(value.get("arches"), f"{where}.arches")))
    caps = tuple(_str(c, f"{where}.caps[{i}]")
                 for i, c in enumerate(_list(value.get("caps"), f"{where}.caps")))
    for i, cap in enumerate(caps):
        if not _CAPABILITY.match(cap):
            raise ProfileError(f"{where}.caps[{i}]: {cap[:64]!r} is not a capability name "
                               "(e.g. CAP_SYS_ADMIN)")
    min_kernel = None
    if value.get("minKernel"):
        text = _str(value["minKernel"], f"{where}.minKernel")
        match = _KERNEL.match(text)
        if not match or text == "0.0":
            raise ProfileError(f"{where}.minKernel: {text[:64]!r} is not a kernel version "
                               'like "5.8"')
        min_kernel = (int(match.group(1)), int(match.group(2)))
    return Condition(arches, caps, min_kernel)


# -- resolve -----------------------------------------------------------------------

def resolve(profile: Profile, host: Host) -> Resolved | None:
    """The rules that apply on ``host``; None when the profile asks for no filter."""
    if not profile.default_action and not profile.syscalls:
        return None
    arches = list(profile.architectures)
    native = NATIVE_TO_SCMP.get(host.arch)
    for arch, subs in profile.arch_map:
        if arch == native:
            arches += [arch, *subs]
            break
    rules = tuple(Rule(s.names, s.action, s.errno_ret, s.args) for s in profile.syscalls
                  if _applies(s, host))
    flags = 0
    for flag in profile.flags:
        flags |= FLAGS[flag]
    return Resolved(profile.default_action, profile.default_errno_ret,
                    tuple(dict.fromkeys(arches)), flags, rules)


def _applies(call: Syscalls, host: Host) -> bool:
    """Docker's rule: any exclude that matches drops it; every include must match."""
    excludes, includes = call.excludes, call.includes
    if excludes is not None:
        if host.arch in excludes.arches:
            return False
        if any(cap in host.capabilities for cap in excludes.caps):
            return False
        if excludes.min_kernel is not None and host.kernel >= excludes.min_kernel:
            return False
    if includes is not None:
        if includes.arches and host.arch not in includes.arches:
            return False
        if not all(cap in host.capabilities for cap in includes.caps):
            return False
        if includes.min_kernel is not None and host.kernel < includes.min_kernel:
            return False
    return True
