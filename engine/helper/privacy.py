"""Who may read a user's state under the helper's root: that user and root, no one else.

A container's spec (with its environment's secrets), status and log belong to
the user who made it, and the user's engine reads them directly, without the
helper. Everything stays owned by root, so the user can neither write nor
replace a file the helper trusts (a pid in ``status.json`` is signalled by root);
the user is let in by a POSIX ACL entry ``user:<uid>:r`` (``r-x`` on
directories) and everyone else is kept out by mode: directories 0700, files
0640. A directory made with ``inherit`` also carries a default ACL, so the
files created in it later (status.json replaced atomically, the log, the
network record) come out readable by the owner too, and by no one else unless
their creator asked for it (``/etc/hosts`` is 0644: it is bind-mounted into the
container, whose users must read it).

ACLs are written as the kernel's binary xattr (``system.posix_acl_access`` and
``system.posix_acl_default``), no library needed. A filesystem without ACLs
keeps the safe side: the state stays root's alone and the error says so.
Root's own state needs no ACL.
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

from engine.errors import KernelFeatureMissing

__all__ = ["encode_acl", "make_private", "private_dir", "private_file"]

_ACCESS = "system.posix_acl_access"
_DEFAULT = "system.posix_acl_default"
_VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_UNDEFINED = 0xFFFFFFFF
R, W, X = 4, 2, 1


def encode_acl(entries: list[tuple[int, int, int]]) -> bytes:
    """The xattr value for ``(tag, uid or -1, perms)`` entries, in the kernel's order."""
    body = b"".join(struct.pack("<HHI", tag, perms, _UNDEFINED if who < 0 else who)
                    for tag, who, perms in sorted(entries, key=lambda e: (e[0], e[1])))
    return struct.pack("<I", _VERSION) + body


def _acl(owner: int, user: int, group: int, other: int, uid: int) -> bytes:
    return encode_acl([(USER_OBJ, -1, owner), (USER, uid, user), (GROUP_OBJ, -1, group),
                       (MASK, -1, user | group), (OTHER, -1, other)])


# Directories: root rwx, the owner r-x, nobody else. Files: root rw, the owner r.
_DIR = {"owner": R | W | X, "user": R | X, "group": 0, "other": 0}
_FILE = {"owner": R | W, "user": R, "group": 0, "other": 0}
# What files created in an inheriting directory start from: the creator's mode
# decides (the mask is its group bits), plus the owner's read, never more.
_INHERITED = {"owner": R | W | X, "user": R | X, "group": R | X, "other": R | X}


def _set(target: int | Path, name: str, value: bytes) -> None:
    try:
        os.setxattr(target, name, value)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
            where = target if isinstance(target, Path) else os.readlink(f"/proc/self/fd/{target}")
            raise KernelFeatureMissing(
                f"cannot keep {where} private to its owner: its filesystem has no POSIX ACLs "
                "(mount it with the 'acl' option, or give Skiff's storage a filesystem that "
                "has them); until then only root may use it") from None
        raise


def private_dir(path: Path, uid: int, *, inherit: bool = False) -> None:
    """Directory ``path`` (root's): entered and listed by ``uid`` and root alone.

    With ``inherit``, files created in it later are readable by ``uid`` too (as
    far as their creator's mode allows group reading) and by no one else
    unless that mode gives "other" a right.
    """
    os.chmod(path, 0o700, follow_symlinks=False)  # the safe side first
    if uid == 0:
        return
    _set(path, _ACCESS, _acl(**_DIR, uid=uid))
    if inherit:
        _set(path, _DEFAULT, _acl(**_INHERITED, uid=uid))


def private_file(target: int | Path, uid: int) -> None:
    """File ``target`` (a path or an open descriptor, root's): read by ``uid`` and root alone."""
    if isinstance(target, Path):
        os.chmod(target, 0o640, follow_symlinks=False)
    else:
        os.fchmod(target, 0o640)
    if uid != 0:
        _set(target, _ACCESS, _acl(**_FILE, uid=uid))


def make_private(path: Path, uid: int, files: tuple[str, ...] = ()) -> None:
    """An existing directory and these files in it (those that exist) made private.

    For state written before Skiff kept it private: modes and ACLs only, on
    entries that are what they should be (never a symlink followed).
    """
    private_dir(path, uid, inherit=True)
    for name in files:
        try:
            fd = os.open(path / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if os.path.samestat(os.fstat(fd), os.lstat(path / name)):
                private_file(fd, uid)
        finally:
            os.close(fd)
