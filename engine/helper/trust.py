"""The helper runs as root for users: it must never run code one of them could change.

pkexec runs a fixed wrapper, but the wrapper names an interpreter, which loads
Skiff's engine package and its dependencies. If any of those files, or any
directory above them, can be written by someone other than root, whoever can
write it is root at the helper's next start. So before serving a non-root
caller the helper checks the interpreter, the engine package (every file in it)
and every directory on its import path, with every parent directory up to /,
and refuses with one line if anything is owned by another user or writable by
group or others. A root caller (tests, ``sudo skiff``) is not checked: root
gains nothing.

The check runs first, from the helper's ``__main__``: before it, Python has run
only the (empty) package ``__init__`` files and this module, which imports
nothing but the standard library.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["caller_uid", "check_code", "refuse_untrusted_code", "untrusted"]


def untrusted(path: Path) -> str | None:
    """Why ``path`` (or a directory above it) is not root's alone; None when it is.

    A root-owned sticky directory above it (/tmp) is fine: nobody else may rename or
    replace the root-owned entries in it, which is all that matters on the way down."""
    own = {Path(os.path.abspath(path)), Path(os.path.abspath(path)).resolve()}
    for item in _with_parents(path):
        try:
            info = os.lstat(item)
        except FileNotFoundError:
            continue  # a sys.path entry that does not exist loads nothing
        if info.st_uid != 0:
            return f"{item} belongs to uid {info.st_uid}, not root"
        if stat.S_ISLNK(info.st_mode):
            continue  # a link's own mode means nothing; its target is checked too
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            if item not in own and stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX:
                continue
            who = "others" if info.st_mode & stat.S_IWOTH else "its group"
            return f"{item} is writable by {who}"
    return None


def _with_parents(path: Path) -> Iterator[Path]:
    """``path`` and its parents, as named and as resolved (links point elsewhere)."""
    seen: set[Path] = set()
    absolute = Path(os.path.abspath(path))
    for candidate in (absolute, absolute.resolve()):
        for item in (candidate, *candidate.parents):
            if item not in seen:
                seen.add(item)
                yield item


def _tree(top: Path) -> Iterator[str]:
    """Every directory and file under ``top``, as strings: a Path a file made this walk
    of the engine's ~600 entries 20-30 ms of every start through pkexec (now ~5)."""
    for directory, _dirs, files in os.walk(top):
        yield directory
        for name in files:
            yield os.path.join(directory, name)


def check_code(interpreter: str | None = None, package: Path | None = None,
               import_path: Iterable[str] | None = None) -> str | None:
    """Why the code this helper runs is not safe to run as root for a user; None if it is."""
    interpreter = interpreter or sys.executable
    package = package or Path(__file__).parent.parent  # the engine package
    entries = [Path(p) for p in (sys.path if import_path is None else import_path) if p]
    problem = untrusted(Path(interpreter))
    if problem is not None:
        return problem
    for item in [package, *entries]:
        problem = untrusted(item)
        if problem is not None:
            return problem
    for name in _tree(package):
        try:
            info = os.lstat(name)
        except FileNotFoundError:
            continue
        if info.st_uid != 0:
            return f"{name} belongs to uid {info.st_uid}, not root"
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{name} is writable by someone other than root"
    return None


def caller_uid() -> int:
    """Who we serve: the peer of our standard input (the engine's socket), or the user
    pkexec authorised, whichever is not root."""
    uid = 0
    try:
        with socket.socket(fileno=os.dup(0)) as sock:
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                    struct.calcsize("3i"))
        uid = struct.unpack("3i", creds)[1]
    except OSError:
        pass  # not a socket: the server says so in its own words
    pkexec_uid = os.environ.get("PKEXEC_UID", "")
    return uid or (int(pkexec_uid) if pkexec_uid.isdigit() else 0)


def refuse_untrusted_code() -> bool:
    """For a caller who is not root: say in one line why our code is not safe to run,
    and return True; False when it is (or the caller is root)."""
    uid = caller_uid()
    if uid == 0 or os.geteuid() != 0:
        return False
    problem = check_code()
    if problem is None:
        return False
    print(f"skiff-helper: refusing to run as root for uid {uid}: {problem}; "
          "install Skiff with `sudo make install` (or its .deb) and use that copy",
          file=sys.stderr)
    return True
