"""Platforms (os/architecture/variant): this machine's, the user's ``--platform``,
and which entry of an image index fits them.

Names follow the OCI image spec (Go's GOOS/GOARCH), so ``x86_64`` is ``amd64``
and ``aarch64`` is ``arm64``. Matching is the containerd rule: same os and
architecture, and for variants the exact one, else an older compatible one
(arm v7 runs v6 and v5 code; arm64's variant defaults to v8).
"""

from __future__ import annotations

import platform as host_platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import InvalidArgument

__all__ = ["Platform", "best_match", "host"]

_ARCH_ALIASES = {
    "x86_64": ("amd64", ""),
    "x86-64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "armv8l": ("arm", "v7"),
    "armv7l": ("arm", "v7"),
    "armv7": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "armv6": ("arm", "v6"),
    "armv5tel": ("arm", "v5"),
    "arm": ("arm", ""),
    "i386": ("386", ""),
    "i486": ("386", ""),
    "i586": ("386", ""),
    "i686": ("386", ""),
    "386": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
    "mips64": ("mips64", ""),
    "mips64le": ("mips64le", ""),
    "loong64": ("loong64", ""),
    "loongarch64": ("loong64", ""),
}

# For each (arch, wanted variant): the variants that run, best first.
_COMPATIBLE = {
    ("arm", "v8"): ("v8", "v7", "v6", "v5"),
    ("arm", "v7"): ("v7", "v6", "v5"),
    ("arm", "v6"): ("v6", "v5"),
    ("arm", "v5"): ("v5",),
    ("arm64", "v8"): ("v8", ""),
    ("amd64", ""): ("", "v1"),
}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``os/arch[/variant]`` as docker's ``--platform`` takes it."""
        parts = text.strip().lower().split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise InvalidArgument(f"invalid platform {text!r}: expected os/arch[/variant], "
                                  "for example linux/amd64 or linux/arm/v7")
        os_name, arch = parts[0], parts[1]
        arch, variant = _normalise_arch(arch, parts[2] if len(parts) == 3 else "")
        return cls(os_name, arch, variant)

    @classmethod
    def from_descriptor(cls, value: Mapping[str, Any]) -> Platform:
        """The ``platform`` object of an index entry, or an image config's fields."""
        os_name = str(value.get("os") or "")
        arch, variant = _normalise_arch(str(value.get("architecture") or ""),
                                        str(value.get("variant") or ""))
        return cls(os_name, arch, variant)

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def accepts(self, offered: Platform) -> int | None:
        """How well ``offered`` fits this wanted platform: 0 best, None if it cannot run."""
        if offered.os != self.os or offered.architecture != self.architecture:
            return None
        order = _COMPATIBLE.get((self.architecture, self.variant))
        if order is None:
            if self.variant == offered.variant or not self.variant:
                return 0
            return 1 if not offered.variant else None
        if offered.variant in order:
            return order.index(offered.variant)
        return None


def _normalise_arch(arch: str, variant: str) -> tuple[str, str]:
    arch = arch.lower()
    variant = variant.lower()
    base, implied = _ARCH_ALIASES.get(arch, (arch, ""))
    variant = variant or implied
    if base == "arm64" and variant in ("", "8"):
        variant = "v8"
    if base == "arm" and variant in ("5", "6", "7", "8"):
        variant = f"v{variant}"
    return base, variant


def host(machine: str | None = None) -> Platform:
    """The platform of this machine (or of a ``uname -m`` answer)."""
    arch, variant = _normalise_arch(machine or host_platform.machine() or "amd64", "")
    return Platform("linux", arch, variant)


def best_match(wanted: Platform, offered: Sequence[Platform]) -> int | None:
    """Index of the entry of ``offered`` that fits ``wanted`` best (first wins ties)."""
    best: tuple[int, int] | None = None
    for position, candidate in enumerate(offered):
        rank = wanted.accepts(candidate)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, position)
    return None if best is None else best[1]
