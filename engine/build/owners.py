"""``--chown`` and WORKDIR owners: user and group names looked up in the image's own files.

``user``, ``user:group``, ``uid``, ``uid:gid``; names come from the image's
/etc/passwd and /etc/group (never the host's). A user alone takes the user's
primary group when the name is known, else the same number as the uid.
"""

from __future__ import annotations

from engine.build.fsindex import FileIndex
from engine.errors import InvalidArgument

__all__ = ["resolve_owner"]


def _table(index: FileIndex, path: str) -> list[list[str]]:
    data = index.read(path)
    if data is None:
        return []
    return [line.split(":") for line in data.decode(errors="replace").splitlines()
            if line and not line.startswith("#")]


def resolve_owner(spec: str, index: FileIndex) -> tuple[int, int]:
    user, sep, group = spec.partition(":")
    if not user:
        raise InvalidArgument(f"invalid --chown {spec!r}: no user")
    uid: int
    primary: int | None = None
    if user.isdigit():
        uid = int(user)
        for row in _table(index, "/etc/passwd"):
            if len(row) > 3 and row[2] == user and row[3].isdigit():
                primary = int(row[3])
                break
    else:
        for row in _table(index, "/etc/passwd"):
            if len(row) > 3 and row[0] == user and row[2].isdigit() and row[3].isdigit():
                uid, primary = int(row[2]), int(row[3])
                break
        else:
            raise InvalidArgument(f"unable to convert uid/gid chown string to host mapping: "
                                  f"can't find uid for user {user}: no such user: {user}")
    if not sep:
        return uid, primary if primary is not None and not user.isdigit() else uid
    if group.isdigit():
        return uid, int(group)
    for row in _table(index, "/etc/group"):
        if len(row) > 2 and row[0] == group and row[2].isdigit():
            return uid, int(row[2])
    raise InvalidArgument(f"unable to convert uid/gid chown string to host mapping: can't "
                          f"find gid for group {group}: no such group: {group}")
