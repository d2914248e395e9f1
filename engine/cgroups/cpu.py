"""CPU limit translation: docker's ``--cpus`` as a CFS quota per 100 ms period."""

from __future__ import annotations

import os
from pathlib import Path

from engine import errors
from engine.cgroups.plan import Write

__all__ = [
    "MIN_NANO_CPUS",
    "PERIOD_US",
    "check",
    "from_v1",
    "from_v2",
    "quota_us",
    "shares_writes",
    "v1_writes",
    "v2_writes",
]

PERIOD_US = 100_000
MIN_NANO_CPUS = 10_000_000  # 0.01 CPU: a 1 ms quota, the kernel's minimum
_NANO = 1_000_000_000


def check(nano_cpus: int | None, cpu_count: int | None = None) -> None:
    if nano_cpus is None:
        return
    if not isinstance(nano_cpus, int) or isinstance(nano_cpus, bool):
        raise errors.InvalidArgument(f"CPU limit {nano_cpus!r} is not a number")
    available = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    if not MIN_NANO_CPUS <= nano_cpus <= available * _NANO:
        raise errors.InvalidArgument(
            f"CPU limit {nano_cpus / _NANO:g} is out of range: use 0.01 to {available}, "
            f"as this machine has {available} CPU{'s' if available != 1 else ''}")


def quota_us(nano_cpus: int) -> int:
    return nano_cpus * PERIOD_US // _NANO


def v1_writes(nano_cpus: int | None) -> list[Write]:
    check(nano_cpus)
    quota = "-1" if nano_cpus is None else str(quota_us(nano_cpus))
    return [
        Write(Path("cpu.cfs_period_us"), str(PERIOD_US), "cpu"),
        Write(Path("cpu.cfs_quota_us"), quota, "cpu"),
    ]


def v2_writes(nano_cpus: int | None) -> list[Write]:
    check(nano_cpus)
    quota = "max" if nano_cpus is None else str(quota_us(nano_cpus))
    return [Write(Path("cpu.max"), f"{quota} {PERIOD_US}", "cpu")]


def weight(shares: int) -> int:
    """cgroup v2's cpu.weight for docker's CPU shares, as runc converts them
    (2..262144 onto 1..10000; the default 1024 becomes 39)."""
    return 1 + ((shares - 2) * 9999) // 262142


def shares_writes(shares: int | None, version: int) -> list[Write]:
    """cpu.shares (v1) or cpu.weight (v2); nothing for None (the kernel's default)."""
    if shares is None:
        return []
    if version == 1:
        return [Write(Path("cpu.shares"), str(shares), "cpu")]
    return [Write(Path("cpu.weight"), str(weight(shares)), "cpu")]


def from_v1(quota: int | None, period: int | None) -> int | None:
    if quota is None or quota < 0 or not period:
        return None
    return quota * _NANO // period


def from_v2(cpu_max: str | None) -> int | None:
    """``"50000 100000"`` → 500_000_000; ``"max 100000"`` → None."""
    if cpu_max is None:
        return None
    quota, _, period = cpu_max.strip().partition(" ")
    try:
        return from_v1(int(quota), int(period or PERIOD_US))
    except ValueError:
        return None
