"""A resolved profile -> a BPF program, through libseccomp (the pyseccomp binding).

libseccomp knows every architecture's syscall numbers, multiplexed calls such
as socketcall on x86, and how to lay out the checks; we hand it rules the way
runc does and export the program it builds. Rules for syscalls this
libseccomp does not know are skipped, and so are rules whose action is the
default one (libseccomp refuses those), as runc does. libseccomp is loaded on
the first compile: only the helper compiles, and only when its cache misses.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from engine.helper.runtime.syscallfilter import MAX_INSTRUCTIONS, Program
from engine.helper.seccomp.profile import ProfileError, Resolved, Rule

__all__ = ["SeccompUnavailable", "compile_program"]

_NR_SCMP_ERROR = -1  # what libseccomp answers for a name it does not know


class SeccompUnavailable(RuntimeError):
    """libseccomp or its binding is missing on this host."""


def compile_program(resolved: Resolved) -> Program:
    """The BPF program for ``resolved``; ProfileError if libseccomp refuses a rule."""
    scmp = _library()
    default = _action(scmp, resolved.default_action, resolved.default_errno_ret)
    scmp_filter = scmp.SyscallFilter(default)
    try:
        # A binary search over syscall numbers instead of a list: the same decisions,
        # and the kernel takes a third less time to load it (it tries every syscall).
        scmp_filter.set_attr(scmp.Attr.CTL_OPTIMIZE, 2)
    except OSError:
        pass  # libseccomp before 2.5: the plain list
    for name in resolved.architectures:
        _add_arch(scmp, scmp_filter, name)
    for rule in resolved.rules:
        action = _action(scmp, rule.action, rule.errno_ret)
        if action == default:
            continue
        for name in rule.names:
            _add_rule(scmp, scmp_filter, action, name, rule)
    bpf = _export(scmp_filter)
    count = len(bpf) // 8
    if count > MAX_INSTRUCTIONS:
        raise ProfileError(f"it compiles to {count} BPF instructions and the kernel takes at "
                           f"most {MAX_INSTRUCTIONS}: list fewer syscalls or conditions")
    return Program(resolved.flags, bpf)


def _library() -> Any:
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:  # no binding, or no libseccomp.so.2
        raise SeccompUnavailable(f"libseccomp cannot be loaded ({exc}): install Debian's "
                                 "libseccomp2 and the pyseccomp package (make setup)") from None
    return pyseccomp


def _action(scmp: Any, name: str, errno_ret: int | None) -> int:
    ret = errno.EPERM if errno_ret is None else errno_ret
    return {
        "SCMP_ACT_ALLOW": scmp.ALLOW,
        "SCMP_ACT_ERRNO": scmp.ERRNO(ret),
        "SCMP_ACT_KILL": scmp.KILL_THREAD,
        "SCMP_ACT_KILL_THREAD": scmp.KILL_THREAD,
        "SCMP_ACT_KILL_PROCESS": scmp.KILL_PROCESS,
        "SCMP_ACT_LOG": scmp.LOG,
        "SCMP_ACT_TRACE": scmp.TRACE(ret),
        "SCMP_ACT_TRAP": scmp.TRAP,
    }[name]


def _add_arch(scmp: Any, scmp_filter: Any, name: str) -> None:
    arch = getattr(scmp.Arch, name.removeprefix("SCMP_ARCH_"), None)
    if arch is None:
        raise ProfileError(f"this host's libseccomp binding does not know {name}")
    if scmp_filter.exist_arch(arch):
        return  # the native architecture is always there
    try:
        scmp_filter.add_arch(arch)
    except OSError as exc:
        raise ProfileError(f"this host's libseccomp cannot filter {name}: "
                           f"{exc.strerror}") from None


def _add_rule(scmp: Any, scmp_filter: Any, action: int, name: str, rule: Rule) -> None:
    number = scmp.resolve_syscall(scmp.Arch.NATIVE, name)
    if number == _NR_SCMP_ERROR:
        return  # newer than this libseccomp: it stays denied, as with runc
    conditions = [scmp.Arg(a.index, _OPERATORS[a.op], a.value, a.value_two)
                  for a in rule.args]
    # Several conditions on one argument are alternatives (runc's reading): a rule
    # each. Conditions on different arguments must all hold: one rule.
    indexes = [a.index for a in rule.args]
    groups = [[c] for c in conditions] if len(set(indexes)) < len(indexes) else [conditions]
    for group in groups:
        try:
            scmp_filter.add_rule(action, number, *group)
        except OSError as exc:
            raise ProfileError(f"syscall {name!r}: libseccomp refused the rule: "
                               f"{exc.strerror}") from None


def _export(scmp_filter: Any) -> bytes:
    fd = os.memfd_create("skiff-seccomp", os.MFD_CLOEXEC)
    with os.fdopen(fd, "w+b") as f:
        scmp_filter.export_bpf(f)
        f.seek(0)
        return f.read()


_OPERATORS = {
    "SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7,
}  # libseccomp's enum scmp_compare
