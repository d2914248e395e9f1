"""COPY and ADD: which files land where, with what owner and mode, as a plan, then a layer.

Docker's rules: a directory source copies its contents; a file goes to
``DEST/name`` when DEST ends in ``/`` or is a directory in the image, else it
becomes DEST; several sources need a directory DEST; a relative DEST is under
WORKDIR; missing parent directories are made (0755, the ``--chown`` owner).
Context files belong to root (or ``--chown``); files from another stage or image
(``--from``) keep their owners; ``--chmod`` sets every copied mode. ADD unpacks a
local tar archive into DEST (its files keep the archive's owners, or all get
``--chown``'s, as BuildKit does) and downloads a URL (mode 0600). ``--exclude``
leaves out what its patterns match (.dockerignore's rules, against the path in
the context or image and the path under the source); ``COPY --parents`` keeps each
source's directories under DEST (those after a ``/./`` in its pattern).

The plan's digest (paths, types, modes, owners, link targets, content digests;
not times) is the cache key's part for the copied files.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from engine.build.context import BuildContext
from engine.build.fsindex import FileIndex, IndexEntry
from engine.build.ignore import IgnoreRules
from engine.build.layertar import LayerWriter, Meta, file_digest
from engine.errors import InvalidArgument

__all__ = ["CopyItem", "CopyPlan", "is_archive", "plan_copy", "write_plan"]

_DIR_MODE = 0o755


@dataclass
class CopyItem:
    dest: str  # absolute path in the image
    kind: str  # dir | file | symlink | hardlink | archive
    meta: Meta
    host: Path | None = None  # a file on the host (context, download)
    data: bytes | None = None  # a heredoc's content
    entry: IndexEntry | None = None  # a file of another image (--from)
    link: str = ""  # symlink target / hardlink target (absolute image path)
    digest: str = ""  # content digest of a file or archive
    owner: tuple[int, int] | None = None  # an archive's files' owner (ADD --chown)


@dataclass
class CopyPlan:
    items: list[CopyItem] = field(default_factory=list)
    source_index: FileIndex | None = None  # for --from
    # each source as matched: (kind, source, downloaded file): kind is context, image,
    # url or heredoc (the history names them by it: engine/build/classic.py)
    sources: list[tuple[str, str, Path | None]] = field(default_factory=list)

    def key(self) -> str:
        digest = hashlib.sha256()
        for item in self.items:
            m = item.meta
            digest.update(f"{item.dest}\0{item.kind}\0{m.mode:o}\0{m.uid}\0{m.gid}\0"
                          f"{item.link}\0{item.digest}\n".encode())
        return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class CopyRequest:
    sources: list[str]
    dest: str  # expanded, as written
    workdir: str
    owner: tuple[int, int] | None  # --chown, resolved
    chmod: int | None
    add: bool  # ADD: archives unpack, URLs download
    exclude: IgnoreRules | None = None  # --exclude patterns
    parents: bool = False  # COPY --parents: sources keep their directories under DEST

    def excluded(self, relative: str, base: str = "") -> bool:
        """Whether --exclude leaves out ``relative`` (a context or image path): matched as
        it is, and relative to the source ``base`` it is found under."""
        if self.exclude is None:
            return False
        inside = relative[len(base) + 1:] if base and relative.startswith(base + "/") \
            else relative
        return self.exclude.excluded(relative) or self.exclude.excluded(inside)


def is_archive(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            head = stream.read(512)
    except OSError:
        return False
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        try:
            with tarfile.open(path, "r:*") as tar:
                return tar.next() is not None
        except (tarfile.TarError, OSError, EOFError):
            return False
    return len(head) >= 262 and head[257:262] == b"ustar"


def _target(request: CopyRequest) -> str:
    dest = request.dest
    if not dest.startswith("/"):
        dest = posixpath.join(request.workdir or "/", dest)
    return dest


class _Planner:
    def __init__(self, image: FileIndex, request: CopyRequest) -> None:
        self.image = image
        self.request = request
        self.plan = CopyPlan()
        self.made: set[str] = set()
        self.now = time.time()

    def owner_meta(self, mode: int, mtime: float, keep: tuple[int, int] | None) -> Meta:
        uid, gid = self.request.owner or keep or (0, 0)
        if self.request.chmod is not None:
            mode = (mode & ~0o7777) | self.request.chmod
        return Meta(mode, uid, gid, mtime)

    def parents(self, directory: str) -> None:
        """Make the missing directories down to ``directory`` (absolute)."""
        parts = [p for p in directory.split("/") if p]
        for i in range(1, len(parts) + 1):
            path = "/" + "/".join(parts[:i])
            if path in self.made or self.image.is_dir(path):
                continue
            uid, gid = self.request.owner or (0, 0)
            self.plan.items.append(CopyItem(path, "dir", Meta(_DIR_MODE, uid, gid, self.now)))
            self.made.add(path)

    def dest_is_dir(self, dest: str, many: bool) -> bool:
        return dest.endswith("/") or many or self.image.is_dir(dest) or \
            posixpath.normpath(dest) in self.made


def plan_copy(request: CopyRequest, image: FileIndex, *, context: BuildContext | None,
              source_image: FileIndex | None = None,
              heredocs: dict[str, bytes] | None = None,
              download: Callable[[str], tuple[Path, float]] | None = None) -> CopyPlan:
    planner = _Planner(image, request)
    dest = _resolved(image, _target(request))
    heredocs = heredocs or {}
    found: list[tuple[str, str]] = []  # (kind, source): context | image | url | heredoc
    pivots: dict[str, int] = {}  # --parents: a context source's leading parts left out
    for pattern in request.sources:
        if pattern in heredocs:
            found.append(("heredoc", pattern))
        elif request.add and _is_url(pattern):
            found.append(("url", pattern))
        elif source_image is not None:
            matched = _image_sources(source_image, pattern)
            if not matched:
                raise InvalidArgument(f"failed to compute cache key: \"/{pattern.lstrip('/')}"
                                      "\": not found")
            found.extend(("image", m) for m in matched
                         if not request.excluded(m, posixpath.dirname(m)))
        else:
            assert context is not None
            matched = context.sources(pattern)
            if not matched:
                raise InvalidArgument(f"failed to compute cache key: \"/{pattern.lstrip('/')}"
                                      "\": not found (or excluded by .dockerignore)")
            for match in matched:
                if not request.excluded(match, posixpath.dirname(match)):
                    found.append(("context", match))
                    pivots[match] = _pivot(pattern)
    many = len(found) > 1 or request.parents
    if len(found) > 1 and not dest.endswith("/") and not image.is_dir(dest):
        raise InvalidArgument(f"When using {'ADD' if request.add else 'COPY'} with more than "
                              "one source file, the destination must be a directory and end "
                              "with a /")
    into = planner.dest_is_dir(dest, many)
    clean_dest = posixpath.normpath(dest)
    for kind, source in found:
        if kind != "url":
            planner.plan.sources.append((kind, source, None))
        if kind == "heredoc":
            name = source.lstrip("<").removeprefix("-").strip("\"'")
            target = posixpath.join(clean_dest, name) if into else clean_dest
            planner.parents(posixpath.dirname(target))
            data = heredocs[source]
            planner.plan.items.append(CopyItem(
                target, "file", planner.owner_meta(0o644, planner.now, None), data=data,
                digest=hashlib.sha256(data).hexdigest()))
        elif kind == "url":
            assert download is not None
            path, mtime = download(source)
            planner.plan.sources.append((kind, source, path))
            name = posixpath.basename(source.split("?")[0].rstrip("/")) or "index.html"
            target = posixpath.join(clean_dest, name) if into else clean_dest
            planner.parents(posixpath.dirname(target))
            with open(path, "rb") as stream:
                digest = file_digest(stream)
            planner.plan.items.append(CopyItem(
                target, "file", planner.owner_meta(0o600, mtime, None), host=path,
                digest=digest))
        elif kind == "image":
            assert source_image is not None
            _plan_image(planner, source_image, source, clean_dest, into)
        elif request.parents:  # COPY --parents: DEST/the source's path (after a /./)
            assert context is not None
            kept = source.split("/")[pivots.get(source, 0):]
            target = posixpath.join(clean_dest, *kept) if kept else clean_dest
            _plan_context(planner, context, source, target, False)
        else:
            assert context is not None
            _plan_context(planner, context, source, clean_dest, into)
    planner.plan.source_index = source_image
    return planner.plan


def _pivot(pattern: str) -> int:
    """How many leading parts of a source ``COPY --parents`` leaves out: those before a
    ``/./`` in its pattern (none without one)."""
    marked = "/" + pattern.lstrip("/")
    if "/./" not in marked[1:] and not marked.startswith("/./"):
        return 0
    before = marked[: marked.rindex("/./")]
    return len([p for p in posixpath.normpath("/" + before).split("/") if p])


def _resolved(image: FileIndex, dest: str) -> str:
    """DEST with the image's symlinks on the way followed (inside the image's root), so
    COPY into a linked directory lands in its target, as docker does; a trailing / kept."""
    trailing = dest.endswith("/") and dest != "/"
    parent, name = posixpath.split(posixpath.normpath(dest))
    path = posixpath.join("/" + image.resolve(parent), name) if name else "/"
    if name and image.is_dir(path):
        path = "/" + image.resolve(path)
    return path + "/" if trailing and path != "/" else path


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _image_sources(index: FileIndex, pattern: str) -> list[str]:
    clean = posixpath.normpath("/" + pattern).lstrip("/")
    if not any(c in clean for c in "*?["):
        resolved = index.resolve(clean)
        return [clean] if resolved == "" or resolved in index.entries else []
    import fnmatch

    return sorted(p for p in index.entries if fnmatch.fnmatchcase(p, clean)
                  and p.count("/") == clean.count("/"))


def _plan_context(planner: _Planner, context: BuildContext, source: str, dest: str,
                  into: bool) -> None:
    path = context.inside(source, follow_last=True)  # followed, inside the context
    try:
        st = os.lstat(path)
    except OSError:
        raise InvalidArgument(f"failed to compute cache key: \"/{source}\": not found") \
            from None
    if stat.S_ISDIR(st.st_mode):
        planner.parents(posixpath.dirname(dest) if dest != "/" else "/")
        if dest != "/" and not planner.image.is_dir(dest) and dest not in planner.made:
            planner.plan.items.append(CopyItem(
                dest, "dir", planner.owner_meta(stat.S_IMODE(st.st_mode), st.st_mtime, None)))
            planner.made.add(dest)
        _walk_context(planner, context, source, path, dest, source)
        return
    target = posixpath.join(dest, posixpath.basename(source)) if into else dest
    planner.parents(posixpath.dirname(target))
    if planner.request.add and is_archive(path):
        planner.parents(dest)
        with open(path, "rb") as stream:
            digest = file_digest(stream)
        uid, gid = planner.request.owner or (0, 0)
        planner.plan.items.append(CopyItem(dest, "archive", Meta(_DIR_MODE, uid, gid),
                                           host=path, digest=digest,
                                           owner=planner.request.owner))
        return
    _context_file(planner, path, target, st)


def _walk_context(planner: _Planner, context: BuildContext, relative: str, directory: Path,
                  dest: str, base: str) -> None:
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise InvalidArgument(f"cannot read {relative or '.'} in the build context: "
                              f"{exc.strerror}") from None
    for name in names:
        rel = f"{relative}/{name}" if relative else name
        host = directory / name
        st = os.lstat(host)
        target = posixpath.join(dest, name)
        if planner.request.excluded(rel, base):
            continue
        if not context.included(rel):
            if stat.S_ISDIR(st.st_mode) and context.rules.may_reinclude():
                _walk_context(planner, context, rel, host, target, base)
            continue
        if stat.S_ISDIR(st.st_mode):
            planner.plan.items.append(CopyItem(
                target, "dir", planner.owner_meta(stat.S_IMODE(st.st_mode), st.st_mtime, None)))
            planner.made.add(target)
            _walk_context(planner, context, rel, host, target, base)
        else:
            _context_file(planner, host, target, st)


def _context_file(planner: _Planner, host: Path, target: str, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        planner.plan.items.append(CopyItem(
            target, "symlink", planner.owner_meta(0o777, st.st_mtime, None),
            link=os.readlink(host)))
    elif stat.S_ISREG(st.st_mode):
        with open(host, "rb") as stream:
            digest = file_digest(stream)
        planner.plan.items.append(CopyItem(
            target, "file", planner.owner_meta(stat.S_IMODE(st.st_mode), st.st_mtime, None),
            host=host, digest=digest))
    # sockets, fifos and devices in a context are not copied (docker skips them too)


def _plan_image(planner: _Planner, index: FileIndex, source: str, dest: str,
                into: bool) -> None:
    root = index.resolve(source)
    entries = index.under(source)
    top = index.entries.get(root)
    if root == "" or (top is not None and top.is_dir):
        planner.parents(dest)
        base = root + "/" if root else ""
        for entry in entries:
            if entry.path == root or planner.request.excluded(entry.path, root):
                continue
            _image_entry(planner, entry, posixpath.join(dest, entry.path[len(base):]), base,
                         dest)
        return
    assert top is not None
    target = posixpath.join(dest, posixpath.basename(root)) if into else dest
    planner.parents(posixpath.dirname(target))
    _image_entry(planner, top, target, posixpath.dirname(root) + "/", posixpath.dirname(target))


def _image_entry(planner: _Planner, entry: IndexEntry, target: str, base: str,
                 dest: str) -> None:
    keep = (entry.uid, entry.gid)
    meta = planner.owner_meta(entry.mode, entry.mtime, keep)
    if entry.is_dir:
        planner.plan.items.append(CopyItem(target, "dir", meta))
        planner.made.add(target)
    elif entry.type == tarfile.SYMTYPE:
        planner.plan.items.append(CopyItem(target, "symlink", meta, link=entry.linkname))
    elif entry.type == tarfile.LNKTYPE:
        linked = entry.linkname
        if linked.startswith(base):
            planner.plan.items.append(CopyItem(
                target, "hardlink", meta, link=posixpath.join(dest, linked[len(base):])))
        else:
            planner.plan.items.append(CopyItem(target, "file", meta, entry=entry,
                                               digest=f"link:{linked}"))
    elif entry.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        planner.plan.items.append(CopyItem(target, "file", meta, entry=entry,
                                           digest=f"{entry.layer}:{entry.path}:{entry.size}"))


def write_plan(plan: CopyPlan, out: IO[bytes], layer_ids: list[str] | None = None) -> int:
    """Write the plan as a layer tar; the number of entries."""
    writer = LayerWriter(out)
    pending: dict[str, list[CopyItem]] = {}
    for item in plan.items:
        if item.kind == "dir":
            writer.directory(item.dest, item.meta)
        elif item.kind == "symlink":
            writer.symlink(item.dest, item.link, item.meta)
        elif item.kind == "file" and item.entry is not None:
            source = item.entry.linkname if item.entry.type == tarfile.LNKTYPE \
                else item.entry.path
            pending.setdefault(source, []).append(item)
        elif item.kind == "file":
            if item.data is not None:
                writer.file(item.dest, item.meta, io.BytesIO(item.data), len(item.data))
            else:
                assert item.host is not None
                with open(item.host, "rb") as stream:
                    size = os.fstat(stream.fileno()).st_size
                    writer.file(item.dest, item.meta, stream, size)
        elif item.kind == "archive":
            assert item.host is not None
            _unpack_archive(writer, item)
    if pending:
        assert plan.source_index is not None

        def handle(entry: IndexEntry, data: IO[bytes]) -> None:
            content = data.read()
            for item in pending.get(entry.path, []):
                writer.file(item.dest, item.meta, io.BytesIO(content), len(content))

        plan.source_index.stream(set(pending), handle)
    for item in plan.items:
        if item.kind == "hardlink":
            writer.hardlink(item.dest, item.link, item.meta)
    writer.close()
    return writer.count


def _unpack_archive(writer: LayerWriter, item: CopyItem) -> None:
    assert item.host is not None
    with tarfile.open(item.host, "r:*") as tar:
        for member in tar:
            name = posixpath.normpath("/" + member.name).lstrip("/")
            if not name or name.split("/")[-1].startswith(".wh."):
                continue
            target = posixpath.join(item.dest, name)
            uid, gid = item.owner or (member.uid, member.gid)
            meta = Meta(member.mode, uid, gid, member.mtime)
            if member.isdir():
                writer.directory(target, meta)
            elif member.issym():
                writer.symlink(target, member.linkname, meta)
            elif member.islnk():
                linked = posixpath.normpath("/" + member.linkname).lstrip("/")
                writer.hardlink(target, posixpath.join(item.dest, linked), meta)
            elif member.isfile():
                data = tar.extractfile(member)
                if data is not None:
                    writer.file(target, meta, data, member.size)
