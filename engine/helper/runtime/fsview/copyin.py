"""Copying in (put): a tar unpacked under a directory of the container.

The helper's one tar extractor (engine/helper/untar.py, the layer unpacker's too)
writes it; every directory is resolved in the container's root (engine/helper/
rootpath.py): a symlink in the container is followed as the container would,
never out of it. Set-id bits and device files are kept for root's containers only.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
from collections.abc import Sequence
from typing import IO, Any

from engine.helper.rootpath import Blocked, split_name
from engine.helper.runtime.fsview.lookup import (
    FsError,
    Reply,
    View,
    entry_json,
    lookup,
    os_error,
)
from engine.helper.untar import Refused, Rules, TarExtractor

__all__ = ["op_put"]


def _parts(name: str) -> list[str]:
    """A member's path as components below the destination; refuses climbing out."""
    try:
        return list(split_name(name, absolute_ok=True))
    except Blocked as exc:
        raise _refusal(exc.reason, name, "") from None


def _refusal(reason: str, name: str, shown: str) -> FsError:
    """docker cp's words for what the extractor refused."""
    if reason == "nul":
        return FsError("invalid_argument", f"refusing the archive member {name!r}: it "
                       "holds a NUL byte")
    if reason in ("dotdot", "absolute"):
        return FsError("invalid_argument", f"refusing the archive member {name!r}: it climbs "
                       "out of the destination")
    words = {
        "dir_over_file": f'cannot overwrite non-directory "{shown}" with a directory',
        "file_over_dir": f'cannot overwrite directory "{shown}" with a non-directory',
        "device": f"{shown}: only root may copy device files into a container",
        "type": f"{shown}: unsupported archive entry type",
        "link_target": f"bad hard link in the archive: {name}",
        "link_dir": f"{shown}: a hard link to a directory",
    }
    if reason in words:
        return FsError("invalid_argument", words[reason])
    return FsError("not_found", f"no such file or directory in the container: {shown}")


def _extractor(view: View, dest: str, archive: bool, caller_uid: int) -> TarExtractor:
    """The helper's tar extractor (engine/helper/untar.py) under docker cp's rules: every
    directory resolved in the container's root, owners 0:0 unless ``archive``, set-id
    bits and device files for root's containers only, never into a kernel filesystem."""
    rules = Rules(follow_links=True, absolute_names=True, owners=archive,
                  setid=caller_uid == 0, devices=caller_uid == 0, xattrs=False,
                  replace_any=False, links_within=False, base_entry=False)

    def check_parent(fd: int, parts: tuple[bytes, ...]) -> None:
        if os.fstat(fd).st_dev in view.kernel_devs:
            raise FsError("invalid_argument", f"cannot write {_shown(dest, parts)}: it is on "
                          "a kernel filesystem")

    return TarExtractor(view.root, rules, base=split_name(dest, absolute_ok=True),
                        check_parent=check_parent)


def _shown(dest: str, parts: Sequence[bytes]) -> str:
    return posixpath.join(dest, *map(os.fsdecode, parts))


def op_put(view: View, req: dict[str, Any], reply: Reply, source: IO[bytes]) -> None:
    path = req["path"]
    found = lookup(view, path, True)
    found.close()
    if not stat.S_ISDIR(found.st.st_mode):
        raise FsError("invalid_argument", f"{path} is not a directory")
    if found.st.st_dev in view.kernel_devs:
        raise FsError("invalid_argument", f"cannot write into {path}: it is on a kernel "
                      "filesystem")
    reply.send({"ok": True, "entry": entry_json(found.name or "/", path, found.st)})
    extractor = _extractor(view, path, req["archive"], req["caller_uid"])
    count = 0
    try:
        with tarfile.open(fileobj=source, mode="r|") as tar:
            for member in tar:
                parts = tuple(os.fsencode(part) for part in _parts(member.name))
                try:
                    extractor.apply(tar, member, parts)
                except Refused as exc:
                    raise _refusal(exc.reason, exc.where or member.name,
                                   _shown(path, parts)) from None
                except OSError as exc:
                    raise os_error(exc, _shown(path, parts)) from None
                count += bool(parts)  # the destination itself is not counted
        extractor.finish()
    except tarfile.TarError as exc:
        raise FsError("invalid_argument", f"the archive is not a valid tar stream: {exc}") \
            from None
    finally:
        extractor.close()
    reply.send({"ok": True, "count": count})
