"""Resolve docker's ``--user`` (name|uid[:group|gid]) against the container's files.

Runs inside the container after pivot_root, so /etc/passwd and /etc/group are
the image's. Pure parsing functions take the file contents for tests.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ExecUser", "UserNotFound", "resolve_groups", "resolve_user"]


class UserNotFound(Exception):
    pass


@dataclass(frozen=True)
class ExecUser:
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _entries(text: str) -> list[list[str]]:
    return [line.split(":") for line in text.splitlines()
            if line and not line.startswith("#") and line.count(":") >= 2]


def resolve_user(spec: str, passwd: str | None = None, group: str | None = None) -> ExecUser:
    passwd = _read("/etc/passwd") if passwd is None else passwd
    group = _read("/etc/group") if group is None else group
    users = _entries(passwd)
    groups = _entries(group)
    user_part, _, group_part = (spec or "0").partition(":")
    user_part = user_part or "0"

    match = next((u for u in users if u[0] == user_part), None)
    if match is None and user_part.isdigit():
        match = next((u for u in users if u[2] == user_part), None)
    if match is None and not user_part.isdigit():
        raise UserNotFound(f"unable to find user {user_part}: no matching entries in passwd file")
    if match is not None and len(match) >= 4:
        uid, gid = int(match[2]), int(match[3])
        home = match[5] if len(match) > 5 and match[5] else "/"
        name = match[0]
    else:
        uid, gid, home, name = int(user_part), 0, "/", ""

    if group_part:
        g = next((e for e in groups if e[0] == group_part), None)
        if g is None and group_part.isdigit():
            gid = int(group_part)
        elif g is None:
            raise UserNotFound(f"unable to find group {group_part}: no matching entries "
                               "in group file")
        else:
            gid = int(g[2])
        extra: tuple[int, ...] = ()
    else:
        extra = tuple(int(e[2]) for e in groups
                      if name and len(e) > 3 and name in e[3].split(",") and e[2].isdigit())
    all_groups = tuple(dict.fromkeys((gid, *extra)))
    return ExecUser(uid, gid, all_groups, home if uid != 0 or home != "/" else "/root")


def resolve_groups(names: list[str], group: str | None = None) -> tuple[int, ...]:
    """docker's --group-add: each a group id, or a name in the container's /etc/group."""
    entries = _entries(_read("/etc/group") if group is None else group)
    gids = []
    for name in names:
        found = next((e for e in entries if e[0] == name and e[2].isdigit()), None)
        if found is not None:
            gids.append(int(found[2]))
        elif name.isdigit():
            gids.append(int(name))
        else:
            raise UserNotFound(f"Unable to find group {name}: no matching entries in group "
                               "file")
    return tuple(gids)
