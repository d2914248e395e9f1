"""The ``created_by`` text of each step, as Docker's classic builder writes it.

``docker history`` of an image that ``docker build`` made (the builder behind
``POST /build``, whose protocol and output Skiff's follows) reads, for a config
change, ``/bin/sh -c #(nop)  ENV A=1`` (the stage's shell, then the
instruction); for COPY and ADD, ``/bin/sh -c #(nop) COPY file:<sum> in /dest ``
where the sum is the one dockerd computes from the build context: TarSum v1 of
each file's tar header (name, mode with its type bits, owner 0:0, size, ...)
and content, ``dir:`` the sorted sums of a directory's entries, ``multi:`` those
of several sources; and for RUN the command itself, after ``|N K=V ...`` when
build args are in scope.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from engine.build.context import BuildContext
from engine.build.copying import CopyPlan
from engine.build.fsindex import FileIndex

__all__ = ["copy_text", "go_duration", "go_healthcheck", "nop", "nop_copy", "run_text",
           "tarsum"]

DEFAULT_SHELL = ["/bin/sh", "-c"]


def nop(shell: Sequence[str] | None, text: str) -> str:
    """A config change: ``/bin/sh -c #(nop)  TEXT`` (two spaces, as dockerd joins them)."""
    return " ".join([*(shell or DEFAULT_SHELL), "#(nop) ", text])


def nop_copy(shell: Sequence[str] | None, text: str) -> str:
    """COPY, ADD and WORKDIR: ``/bin/sh -c #(nop) TEXT``."""
    return " ".join([*(shell or DEFAULT_SHELL), f"#(nop) {text}"])


def run_text(command: Sequence[str], args: Iterable[tuple[str, str]]) -> str:
    """RUN: the command, after ``|N K=V ...`` for the build args in scope."""
    pairs = sorted(f"{k}={v}" for k, v in args)
    return " ".join([f"|{len(pairs)}", *pairs, *command] if pairs else list(command))


def tarsum(name: str, mode: int, size: int, typeflag: str, linkname: str = "",
           content: IO[bytes] | bytes | None = None, uid: int = 0, gid: int = 0) -> str:
    """TarSum v1 of one entry: its selected header fields, then its content."""
    digest = hashlib.sha256()
    for key, value in (("name", name), ("mode", str(mode)), ("uid", str(uid)),
                       ("gid", str(gid)), ("size", str(size)), ("typeflag", typeflag),
                       ("linkname", linkname), ("uname", ""), ("gname", ""),
                       ("devmajor", "0"), ("devminor", "0")):
        digest.update(f"{key}{value}".encode())
    if isinstance(content, bytes):
        digest.update(content)
    elif content is not None:
        for chunk in iter(lambda: content.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _host_sum(path: Path, name: str) -> str:
    st = os.lstat(path)
    mode = st.st_mode & (stat.S_IFMT(st.st_mode) | 0o7777)
    if stat.S_ISDIR(st.st_mode):
        return tarsum(name.rstrip("/") + "/", mode, 0, "5")
    if stat.S_ISLNK(st.st_mode):
        return tarsum(name, mode, 0, "2", os.readlink(path))
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as stream:
            return tarsum(name, mode, st.st_size, "0", content=stream)
    return tarsum(name, mode, 0, "0")


def _followed_sum(context: BuildContext, path: Path, relative: str) -> str:
    """dockerd sums a link as what it leads to in the context (the link's own path
    when that is nothing)."""
    if not path.is_symlink():
        return _host_sum(path, relative)
    target = context.inside(relative, follow_last=True)
    if not (target.exists() and not target.is_symlink()):
        return relative
    return _host_sum(target, str(target.relative_to(context.root)))


def _context_hash(context: BuildContext, relative: str) -> str:
    path = context.inside(relative, follow_last=True)
    name = str(path.relative_to(context.root)) if path != context.root else ""
    if path.is_dir():
        sums = [_host_sum(path, name)] if name else []
        for directory, dirs, files in os.walk(path):
            dirs.sort()
            for entry in (*dirs, *sorted(files)):
                full = Path(directory) / entry
                rel = str(full.relative_to(context.root))
                if context.included(rel):
                    sums.append(_followed_sum(context, full, rel))
        return _joined("dir", sorted(sums))
    return "file:" + _host_sum(path, name)


def _image_hash(index: FileIndex, source: str) -> str:
    """A --from source: the same sums, with each file's place in its layer standing in
    for its content (the image is not read again for a name)."""
    root = index.resolve(source.strip("/"))
    entries = index.under(root) if root else list(index.entries.values())
    sums = []
    for entry in entries:
        kind = {b"5": "5", b"2": "2"}.get(entry.type, "0")
        mode = entry.mode | {"5": stat.S_IFDIR, "2": stat.S_IFLNK}.get(kind, stat.S_IFREG)
        name = entry.path + ("/" if kind == "5" else "")
        sums.append(tarsum(name, mode, entry.size if kind == "0" else 0, kind,
                           entry.linkname, f"{entry.layer}:{entry.path}".encode(),
                           entry.uid, entry.gid))
    top = index.entries.get(root)
    if top is not None and not top.is_dir:
        return "file:" + sums[0]
    return _joined("dir", sorted(sums))


def _joined(prefix: str, sums: list[str]) -> str:
    return f"{prefix}:" + hashlib.sha256(",".join(sums).encode()).hexdigest()


def copy_text(keyword: str, plan: CopyPlan, context: BuildContext | None,
              heredocs: dict[str, bytes], dest: str, chown: str = "",
              chmod: str = "") -> str:
    """``COPY file:<sum> in /dest `` (dockerd's words, ``--chown=X`` glued to the sum)."""
    infos = []
    for kind, source, downloaded in plan.sources:
        if kind == "heredoc":
            name = source.lstrip("<").removeprefix("-").strip("\"'")
            data = heredocs[source]
            infos.append("file:" + tarsum(name, stat.S_IFREG | 0o644, len(data), "0",
                                          content=data))
        elif kind == "url" and downloaded is not None:
            name = source.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            infos.append("file:" + _host_sum(downloaded, name))
        elif kind == "image" and plan.source_index is not None:
            infos.append(_image_hash(plan.source_index, source))
        elif context is not None:
            infos.append(_context_hash(context, source))
    summed = infos[0] if len(infos) == 1 else _joined("multi", infos)
    flags = "".join(f"--{name}={value}" for name, value in (("chown", chown),
                                                            ("chmod", chmod)) if value)
    return f"{keyword} {flags}{summed} in {dest} "


def go_duration(ns: int) -> str:
    """Go's time.Duration.String(): ``0s``, ``500ms``, ``1m30s``, ``1h0m0s``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _fraction(ns, size) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    seconds = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _fraction(value: int, unit: int) -> str:
    whole, part = divmod(value, unit)
    if not part:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}." + f"{part:0{digits}d}".rstrip("0")


def _go_rune(value: int) -> str:
    """Go's %q of an int: a quoted rune literal."""
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r",
             39: "\\'", 92: "\\\\"}
    if value in named:
        return f"'{named[value]}'"
    if 32 <= value < 127:
        return f"'{chr(value)}'"
    if value < 256:
        return f"'\\x{value:02x}'"
    return f"'\\u{value:04x}'" if value < 0x10000 else f"'\\U{value:08x}'"


def go_healthcheck(check: dict[str, Any]) -> str:
    """``HEALTHCHECK %q`` of dockerd's HealthConfig: ``&{["CMD-SHELL" "x"] "5s" "0s" "0s"
    '\\x00'}`` (its test, interval, timeout, start period and retries)."""
    from engine.build.metadata import go_quoted

    test = [str(t) for t in check.get("Test") or []]
    durations = " ".join(f'"{go_duration(int(check.get(k) or 0))}"'
                         for k in ("Interval", "Timeout", "StartPeriod"))
    retries = _go_rune(int(check.get("Retries") or 0))
    return f"HEALTHCHECK &{{{go_quoted(test)} {durations} {retries}}}"
