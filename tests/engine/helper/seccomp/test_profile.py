"""Docker-format seccomp profiles: parsing, errors, and Docker's condition rules.

Pure: no root, no libseccomp. The default profile is checked for the parts
that matter most (argument filters, capability and architecture conditions).
"""

from __future__ import annotations

import json

import pytest

from engine.helper.runtime.capabilities import DEFAULT_CAPABILITIES
from engine.helper.seccomp.profile import (
    Arg,
    Host,
    ProfileError,
    Resolved,
    kernel_version,
    native_arch,
    parse,
    resolve,
)
from engine.helper.seccomp.programs import default_profile

AMD64 = Host("amd64", (6, 1), frozenset(DEFAULT_CAPABILITIES))


def resolved_default(host: Host = AMD64) -> Resolved:
    result = resolve(parse(default_profile()), host)
    assert result is not None
    return result


def rules_for(resolved: Resolved, name: str) -> list[tuple[str, int | None, tuple[Arg, ...]]]:
    return [(r.action, r.errno_ret, r.args) for r in resolved.rules if name in r.names]


def allowed(resolved: Resolved, name: str) -> bool:
    return ("SCMP_ACT_ALLOW", None, ()) in rules_for(resolved, name)


# -- the default profile -----------------------------------------------------------

def test_default_profile_denies_with_eperm_on_all_x86_abis() -> None:
    resolved = resolved_default()
    assert (resolved.default_action, resolved.default_errno_ret) == ("SCMP_ACT_ERRNO", 1)
    assert resolved.architectures == ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32")
    assert resolved.flags == 0


def test_default_profile_allows_ordinary_calls_and_not_dangerous_ones() -> None:
    resolved = resolved_default()
    for name in ("read", "write", "openat", "execve", "mmap", "bind",
                 "chroot", "arch_prctl", "modify_ldt", "ptrace"):
        assert allowed(resolved, name), name
    for name in ("keyctl", "io_uring_setup", "unshare", "setns", "mount", "bpf",
                 "open_by_handle_at", "reboot", "kexec_load", "init_module", "add_key",
                 "perf_event_open", "userfaultfd", "pivot_root"):
        assert rules_for(resolved, name) == [], name


def test_default_profile_filters_arguments_like_docker() -> None:
    resolved = resolved_default()
    assert rules_for(resolved, "personality") == [
        ("SCMP_ACT_ALLOW", None, (Arg(0, "SCMP_CMP_EQ", value),))
        for value in (0, 8, 0x20000, 0x20008, 0xFFFFFFFF)]
    # AF_ALG (38) and AF_VSOCK (40) are the families left out
    assert rules_for(resolved, "socket") == [
        ("SCMP_ACT_ALLOW", None, (Arg(0, "SCMP_CMP_LT", 38),)),
        ("SCMP_ACT_ALLOW", None, (Arg(0, "SCMP_CMP_EQ", 39),)),
        ("SCMP_ACT_ALLOW", None, (Arg(0, "SCMP_CMP_GT", 40),))]
    namespaces = 0x7E020000  # every CLONE_NEW* flag
    assert rules_for(resolved, "clone") == [
        ("SCMP_ACT_ALLOW", None, (Arg(0, "SCMP_CMP_MASKED_EQ", namespaces),))]
    assert rules_for(resolved, "clone3") == [("SCMP_ACT_ERRNO", 38, ())]  # ENOSYS: use clone


def test_cap_sys_admin_changes_the_clone_rules() -> None:
    admin = Host("amd64", (6, 1), frozenset([*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]))
    resolved = resolved_default(admin)
    assert allowed(resolved, "clone") and allowed(resolved, "clone3")
    assert allowed(resolved, "mount") and allowed(resolved, "unshare")
    assert ("SCMP_ACT_ERRNO", 38, ()) not in rules_for(resolved, "clone3")
    assert all(not args for _, _, args in rules_for(resolved, "clone"))


def test_architecture_and_kernel_conditions() -> None:
    arm64 = resolved_default(Host("arm64", (6, 1), frozenset(DEFAULT_CAPABILITIES)))
    assert arm64.architectures == ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")
    assert allowed(arm64, "set_tls") and not allowed(arm64, "arch_prctl")
    s390x = resolved_default(Host("s390x", (6, 1), frozenset(DEFAULT_CAPABILITIES)))
    assert [args[0].index for _, _, args in rules_for(s390x, "clone")] == [1]
    old = resolved_default(Host("amd64", (4, 4), frozenset(DEFAULT_CAPABILITIES)))
    assert not allowed(old, "ptrace")  # minKernel 4.8, without CAP_SYS_PTRACE


def test_host_names() -> None:
    assert kernel_version("6.1.0-18-amd64") == (6, 1)
    assert kernel_version("3.12-1-amd64") == (3, 12)
    assert native_arch("x86_64") == "amd64" and native_arch("aarch64") == "arm64"
    assert native_arch("armv7l") == "arm"


# -- other profiles ----------------------------------------------------------------

def test_an_empty_profile_means_no_filter() -> None:
    assert resolve(parse("{}"), AMD64) is None


def test_old_name_field_flags_and_architectures() -> None:
    resolved = resolve(parse(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [{"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                     {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS",
                      "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}],
                      "comment": "ignored", "unknown": "ignored as Docker does"}]})), AMD64)
    assert resolved is not None
    assert resolved.architectures == ("SCMP_ARCH_X86",) and resolved.flags == 2 | 4
    assert [(r.names, r.action, r.errno_ret) for r in resolved.rules] == [
        (("mkdir",), "SCMP_ACT_ERRNO", 13), (("kill",), "SCMP_ACT_KILL_PROCESS", None)]


@pytest.mark.parametrize(("profile", "message"), [
    ("{", "not valid JSON"),
    ("[]", "a profile is a JSON object"),
    ("[" * 100000, "nested too deeply"),
    ('{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}',
     "defaultAction is missing"),
    ('{"defaultAction": "SCMP_ACT_DENY"}', "defaultAction: unknown action 'SCMP_ACT_DENY'"),
    ('{"defaultAction": "SCMP_ACT_NOTIFY"}', "notification agent"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}',
     "defaultErrnoRet: expected a whole number from 0 to 4095"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"], '
     '"archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}', "both 'architectures' and"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["x86"]}',
     "architectures[0]: unknown architecture 'x86'"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}',
     "flags[0]: unknown flag"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/agent.sock"}', "listenerPath"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}', "syscalls: expected a list"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}',
     "syscalls[0]: no syscall names"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"]}]}',
     "syscalls[0]: the action is missing"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "names": ["b"], '
     '"action": "SCMP_ACT_ALLOW"}]}', "both 'name' and 'names'"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read; rm -rf"], '
     '"action": "SCMP_ACT_ALLOW"}]}', "is not a syscall name"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], '
     '"action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}',
     "syscalls[0].args[0].index: expected a whole number from 0 to 5"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], '
     '"action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}',
     "syscalls[0].args[0].value"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], '
     '"action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}',
     "syscalls[0].args[0].op: unknown operator 'EQ'"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], '
     '"action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "5"}}]}',
     "syscalls[0].includes.minKernel: '5' is not a kernel version"),
    ('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], '
     '"action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["sys_admin"]}}]}',
     "syscalls[0].excludes.caps[0]: 'sys_admin' is not a capability name"),
])
def test_mistakes_are_named_in_one_line(profile: str, message: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse(profile)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
