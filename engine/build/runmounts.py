"""``RUN --mount``: what a RUN step mounts besides its image, as BuildKit's flag says it.

``type=cache`` is a volume of the user's kept across builds (by ``id``, else by
target), ``type=tmpfs`` a fresh tmpfs, ``type=bind`` a read-only view of a
context directory or file (``source``, default the whole context). What is
mounted is no part of the step's layer. Binds of another stage (``from=``),
writable binds, secrets and SSH agents are refused with a message.
"""

from __future__ import annotations

import csv
import hashlib
import posixpath
from dataclasses import dataclass

from engine.build.context import BuildContext
from engine.build.dockerfile import Instruction
from engine.containers.config import MountSpec

__all__ = ["CACHE_LABEL", "RunMount", "run_mounts"]

CACHE_LABEL = "org.skiff.build-cache"
_TARGET = ("target", "dst", "destination")
_SOURCE = ("source", "src")


@dataclass(frozen=True)
class RunMount:
    spec: MountSpec
    cache_volume: str = ""  # a cache mount's volume, made if missing


def run_mounts(ins: Instruction, context: BuildContext, workdir: str) -> list[RunMount]:
    text = ins.flags.get("mount")
    if not text:
        return []
    found = []
    for line in text.splitlines():
        fields: dict[str, str] = {}
        for item in next(csv.reader([line])):
            key, sep, value = item.strip().partition("=")
            fields[key.lower()] = value if sep else "true"
        kind = fields.get("type", "bind")
        target = next((fields[k] for k in _TARGET if k in fields), "")
        if not target:
            raise ins.error(f"--mount {line}: a target is required")
        if not target.startswith("/"):
            target = posixpath.join(workdir or "/", target)
        if kind == "cache":
            key = fields.get("id") or target
            name = "buildcache-" + hashlib.sha256(key.encode()).hexdigest()[:24]
            found.append(RunMount(MountSpec("volume", target, name), name))
        elif kind == "tmpfs":
            found.append(RunMount(MountSpec("tmpfs", target, tmpfs_exec=True)))  # as BuildKit
        elif kind == "bind":
            if fields.get("from"):
                raise ins.error(f"--mount {line}: binds of another stage or image (from=) "
                                "are not supported by skiff build")
            if fields.get("rw", fields.get("readwrite", "false")) in ("true", "1"):
                raise ins.error(f"--mount {line}: writable binds are not supported by skiff "
                                "build")
            source = next((fields[k] for k in _SOURCE if k in fields), ".")
            path = context.inside(source)
            if not path.exists():
                raise ins.error(f"--mount {line}: {source} is not in the build context")
            found.append(RunMount(MountSpec("bind", target, str(path), read_only=True)))
        else:
            raise ins.error(f"--mount type={kind} is not supported by skiff build (cache, "
                            "tmpfs and bind are)")
    return found
