"""The automatic platform ARGs BuildKit defines (TARGETARCH, BUILDPLATFORM...).

A stage sees them once it declares them (``ARG TARGETARCH``); the target is the
``--platform`` asked for (the stage's or the build's), else this machine.
"""

from __future__ import annotations

from engine.registry.platforms import Platform, host

__all__ = ["platform_args"]


def platform_args(target: str = "") -> dict[str, str]:
    build = host()
    wanted = Platform.parse(target) if target else build
    values: dict[str, str] = {}
    for prefix, platform in (("TARGET", wanted), ("BUILD", build)):
        values[f"{prefix}PLATFORM"] = str(platform)
        values[f"{prefix}OS"] = platform.os
        values[f"{prefix}ARCH"] = platform.architecture
        values[f"{prefix}VARIANT"] = platform.variant
    return values
