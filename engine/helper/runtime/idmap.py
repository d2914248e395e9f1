"""Who a container's users are on the host: subordinate ids and user namespace maps.

A non-root user's container runs in a user namespace where container uid 0 is
the user and container uids 1..N are the user's first subordinate range from
/etc/subuid (gid 0 is the user's primary gid, 1..N from /etc/subgid), at most
65536 of them. Root's containers are not remapped unless root asks
(``--userns=remap``); then uids 0..N-1 map to root's own subordinate range, as
Docker's userns-remap does.

Everything here is pure (file contents in, maps out) except :func:`user_map`,
which reads /etc.
"""

from __future__ import annotations

import pwd
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidArgument

__all__ = [
    "MAX_IDS",
    "IdMap",
    "UsernsMap",
    "choose_mode",
    "container_map",
    "free_range",
    "parse_subordinate",
    "user_map",
]

MAX_IDS = 65536  # subordinate ids a container gets at most
_ID_LIMIT = 1 << 32


@dataclass(frozen=True)
class IdMap:
    """The lines of a uid_map or gid_map: (first inside, first outside, count)."""

    extents: tuple[tuple[int, int, int], ...]

    def to_host(self, inside: int) -> int | None:
        """The host id that container id ``inside`` is, or None when unmapped."""
        for first, outside, count in self.extents:
            if first <= inside < first + count:
                return outside + inside - first
        return None

    def proc_text(self) -> str:
        """What /proc/PID/uid_map takes."""
        return "".join(f"{a} {b} {c}\n" for a, b, c in self.extents)

    def describe(self) -> list[str]:
        """["0:1000:1", "1:100000:65536"]: inside:outside:count, as podman shows it."""
        return [f"{a}:{b}:{c}" for a, b, c in self.extents]

    def to_json(self) -> list[list[int]]:
        return [list(extent) for extent in self.extents]

    @classmethod
    def from_json(cls, data: list[list[int]]) -> IdMap:
        return cls(tuple((int(a), int(b), int(c)) for a, b, c in data))


@dataclass(frozen=True)
class UsernsMap:
    uids: IdMap
    gids: IdMap

    def root(self) -> tuple[int, int]:
        """The host uid and gid of container root."""
        uid, gid = self.uids.to_host(0), self.gids.to_host(0)
        assert uid is not None and gid is not None
        return uid, gid


def parse_subordinate(text: str, name: str, uid: int) -> list[tuple[int, int]]:
    """(start, count) of each range ``name`` owns in /etc/subuid or /etc/subgid text.

    A line's owner is a user name or a numeric uid, as shadow-utils reads it;
    malformed lines are skipped.
    """
    ranges = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) != 3 or line.lstrip().startswith("#"):
            continue
        owner, start, count = parts
        if owner != name and owner != str(uid):
            continue
        if start.isdigit() and count.isdigit() and int(count) > 0 \
                and int(start) + int(count) <= _ID_LIMIT:
            ranges.append((int(start), int(count)))
    return ranges


def free_range(*texts: str, size: int = MAX_IDS, low: int = 100000) -> tuple[int, int]:
    """A (first, last) range no line of these files uses yet: for the hint to the user."""
    end = low
    for text in texts:
        for line in text.splitlines():
            parts = line.strip().split(":")
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                end = max(end, int(parts[1]) + int(parts[2]))
    return end, end + size - 1


def _missing(name: str, subuid: str, subgid: str, what: str) -> InvalidArgument:
    first, last = free_range(subuid, subgid)
    file = "/etc/subuid" if what == "uids" else "/etc/subgid"
    return InvalidArgument(
        f"user {name} has no subordinate {what} in {file} for the user namespace its "
        f"containers run in; give it a range: sudo usermod --add-subuids {first}-{last} "
        f"--add-subgids {first}-{last} {name}")


def _extents(own: int | None, ranges: list[tuple[int, int]], what: str, name: str
             ) -> tuple[tuple[int, int, int], ...]:
    start, count = ranges[0]
    count = min(count, MAX_IDS)
    if own is None:
        return ((0, start, count),)
    if start <= own < start + count:
        raise InvalidArgument(f"the subordinate {what} range {start}-{start + count - 1} of "
                              f"user {name} contains the user's own {what[:3]} {own}; give "
                              f"the user a range without it (usermod --del-sub{what} and "
                              f"--add-sub{what})")
    return ((0, own, 1), (1, start, count))


def container_map(*, uid: int, gid: int, name: str, subuid: str, subgid: str) -> UsernsMap:
    """The map of a container of ``uid`` (root: its subordinate range from 0 up)."""
    uids = parse_subordinate(subuid, name, uid)
    gids = parse_subordinate(subgid, name, uid)
    if not uids:
        raise _missing(name, subuid, subgid, "uids")
    if not gids:
        raise _missing(name, subuid, subgid, "gids")
    own_uid, own_gid = (None, None) if uid == 0 else (uid, gid)
    return UsernsMap(IdMap(_extents(own_uid, uids, "uids", name)),
                     IdMap(_extents(own_gid, gids, "gids", name)))


def choose_mode(caller_uid: int, requested: str) -> str:
    """"host" or "remap" for ``--userns`` ("", "host", "remap" or "auto") of this caller."""
    if requested not in ("", "host", "remap", "auto"):
        raise InvalidArgument(f"invalid --userns {requested!r}: use host or remap")
    if caller_uid != 0:
        if requested == "host":
            raise InvalidArgument("--userns=host is for root's containers only: a user's "
                                  "containers always run in a user namespace")
        return "remap"
    return "remap" if requested in ("remap", "auto") else "host"


def user_map(uid: int, etc: Path = Path("/etc")) -> UsernsMap:
    """The map for ``uid``'s containers from the system's files (InvalidArgument if none)."""
    try:
        entry = pwd.getpwuid(uid)
        name, gid = entry.pw_name, entry.pw_gid
    except KeyError:
        name, gid = str(uid), uid
    return container_map(uid=uid, gid=gid, name=name, subuid=_read(etc / "subuid"),
                         subgid=_read(etc / "subgid"))


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
