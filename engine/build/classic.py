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
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from engine.build.context import BuildContext
from engine.build.copying import CopyPlan
from engine.build.fsindex import FileIndex, IndexEntry

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
           content: IO[bytes] | bytes | None = None, uid: int = 0, gid: int = 0,
           uname: str = "", gname: str = "") -> str:
    """TarSum v1 of one entry: its selected header fields, then its content."""
    digest = hashlib.sha256()
    for key, value in (("name", name), ("mode", str(mode)), ("uid", str(uid)),
                       ("gid", str(gid)), ("size", str(size)), ("typeflag", typeflag),
                       ("linkname", linkname), ("uname", uname), ("gname", gname),
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
        # an excluded directory that an exception keeps is in dockerd's context without
        # an entry of its own: its sum is its path
        sums = [] if not name else [_host_sum(path, name)] if context.included(name) \
            else [name]
        for directory, dirs, files in os.walk(path):
            dirs.sort()
            for entry in (*dirs, *sorted(files)):
                full = Path(directory) / entry
                rel = str(full.relative_to(context.root))
                if context.included(rel):
                    sums.append(_followed_sum(context, full, rel))
                elif entry in dirs and context.reincluded(rel):
                    sums.append(rel)
        return _joined("dir", sorted(sums))
    return "file:" + _host_sum(path, name)


def _image_hash(index: FileIndex, source: str) -> str:
    """A --from source, summed as dockerd sums an image's files: each entry (links
    followed inside the image) with its owner's names looked up here, and its content."""
    root = index.resolve(source.strip("/"))
    top = index.entries.get(root)
    walked = [root] if top is not None and not top.is_dir else \
        [e.path for e in (index.under(root) if root else index.entries.values())
         if e.path != ""]
    # each walked path → (the name it is summed under, the entry whose file it is): a
    # symlink is summed as its target (by the target's path), a hard link by its own
    chosen: dict[str, tuple[str, IndexEntry]] = {}
    for path in walked:
        name = index.resolve(path)
        entry = index.entries.get(name)
        if entry is not None and entry.type == tarfile.LNKTYPE:
            entry = index.entries.get(entry.linkname)
        if entry is not None and entry.type != tarfile.SYMTYPE:
            chosen[path] = (name, entry)
    wanted: dict[str, list[str]] = {}  # an entry with content → the names it is read for
    for name, entry in chosen.values():
        if entry.type in _REGULAR:
            wanted.setdefault(entry.path, []).append(name)
    summed: dict[str, str] = {}

    def feed(entry: IndexEntry, data: IO[bytes]) -> None:
        names = wanted[entry.path]
        if len(names) == 1:
            summed[names[0]] = _entry_sum(names[0], entry, data)
            return
        content = data.read()
        for name in names:
            summed[name] = _entry_sum(name, entry, content)

    index.stream(set(wanted), feed)
    sums = []
    for path in walked:
        if path not in chosen:
            continue  # a link to nothing: dockerd leaves it out
        name, entry = chosen[path]
        sums.append(summed.get(name) or _entry_sum(name, entry, None))
    if top is not None and not top.is_dir:
        return "file:" + (sums[0] if sums else root)
    return _joined("dir", sorted(sums))


_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)


def _entry_sum(name: str, entry: IndexEntry, content: IO[bytes] | bytes | None) -> str:
    """TarSum v1 of an image's entry under ``name`` (a directory, or a file with its
    content)."""
    user, group = _name_of(entry.uid, entry.gid)
    if entry.is_dir:
        return tarsum(name + "/", (entry.mode & 0o7777) | stat.S_IFDIR, 0, "5",
                      uid=entry.uid, gid=entry.gid, uname=user, gname=group)
    return tarsum(name, (entry.mode & 0o7777) | stat.S_IFREG, entry.size, "0",
                  content=content if content is not None else b"", uid=entry.uid,
                  gid=entry.gid, uname=user, gname=group)


def _name_of(uid: int, gid: int) -> tuple[str, str]:
    """The user and group names of this machine for ids (dockerd looks them up on its
    own host when it sums an image's or a download's file)."""
    import grp
    import pwd

    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = ""
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = ""
    return user, group


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
            # dockerd's download: a 0600 file of its root's, named after the URL's path
            name = source.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            user, group = _name_of(0, 0)
            with open(downloaded, "rb") as stream:
                infos.append("file:" + tarsum(
                    name, stat.S_IFREG | 0o600, os.fstat(stream.fileno()).st_size, "0",
                    content=stream, uname=user, gname=group))
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
