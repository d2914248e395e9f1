"""Bind sources as the helper takes them: descriptors the caller's own process opened.

The helper never resolves a host path a user names. The engine, running as the
user, opens each bind's source at every start (so the kernel checks the user's
rights along the whole path, symbolic links included) and sends the open
descriptor with the request; the container gets a mount of that very file.

For a caller other than root, the helper then asks the kernel once more, as
that user, about the file the descriptor is open on (never a path): may they
read it, and write it when the bind is writable? A descriptor opened O_PATH,
or a directory opened for reading, proves no more than the right to reach it.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess

from engine.errors import HelperError, InvalidArgument
from engine.helper.runtime.spec import Bind

__all__ = ["check_access", "match_sources"]

# Run as the user with the descriptors inherited: one line of 0/1 per "fd:r" or "fd:w".
# The shell's own test(1) asks access(2); /proc/self/fd/N is the open file, not a path.
_PROBE = ('for check; do fd=${check%:*}; if test -"${check#*:}" /proc/self/fd/"$fd"; '
          'then echo 1; else echo 0; fi; done')
_LETTER = {os.R_OK: "r", os.W_OK: "w"}


def match_sources(binds: list[Bind], fds: list[int], sources: list[int] | None, *,
                  complete: bool) -> dict[int, int]:
    """{index of a bind in ``binds``: its descriptor}; ``sources[i]`` is the bind
    ``fds[i]`` stands for (default: every bind, in order). With ``complete``, each
    bind must have one."""
    wanted = [i for i, bind in enumerate(binds) if bind.type in ("bind", "device")]
    indexes = list(sources) if sources is not None else wanted[:len(fds)]
    if len(indexes) != len(fds):
        raise InvalidArgument(f"{len(fds)} descriptors came for {len(indexes)} bind sources")
    if len(set(indexes)) != len(indexes) or not set(indexes) <= set(wanted):
        raise InvalidArgument("the descriptors sent do not match the container's binds")
    matched = dict(zip(indexes, fds, strict=True))
    missing = [binds[i].source for i in wanted if i not in matched]
    if complete and missing:
        raise InvalidArgument(f"bind source {missing[0]} was not opened by the caller, so it "
                              "cannot be mounted; start the container through Skiff's engine")
    for index, fd in matched.items():
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            raise InvalidArgument(f"bind source {binds[index].source}: {exc.strerror}") from None
        if stat.S_ISLNK(mode):
            raise InvalidArgument(f"bind source {binds[index].source} was opened as a symbolic "
                                  "link, not what it points to")
        if binds[index].type == "device" and not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)):
            raise InvalidArgument(f"error gathering device information while adding custom "
                                  f"device {binds[index].source!r}: not a device node")
    return matched


def check_access(binds: list[Bind], matched: dict[int, int], uid: int) -> None:
    """Refuse, for a caller other than root, a source that user may not read, or may
    not write while the bind is writable."""
    if uid == 0 or not matched:
        return
    checks: list[tuple[int, int]] = []  # (bind index, access mode), reading first
    for index, fd in matched.items():
        checks.append((index, os.R_OK))
        if not binds[index].read_only and not os.fstatvfs(fd).f_flag & os.ST_RDONLY:
            checks.append((index, os.W_OK))  # (a read-only file system refuses by itself)
    answers = _probe_as(uid, [(matched[index], mode) for index, mode in checks])
    for (index, mode), allowed in zip(checks, answers, strict=True):
        if allowed:
            continue
        source = binds[index].source
        if binds[index].type == "device":
            word = "read" if mode == os.R_OK else "write"
            raise InvalidArgument(f"you may not {word} device {source}, so the container "
                                  "cannot have it")
        if mode == os.R_OK:
            raise InvalidArgument(f"you may not read {source}, so it cannot be mounted")
        raise InvalidArgument(f"you may not write {source}, so it cannot be mounted "
                              "writable; mount it read-only (:ro)")


def _probe_as(uid: int, checks: list[tuple[int, int]]) -> list[bool]:
    """access(2) as ``uid`` (with its groups) on the files the descriptors are open on."""
    try:
        user = pwd.getpwuid(uid)
        gid, groups = user.pw_gid, os.getgrouplist(user.pw_name, user.pw_gid)
    except KeyError:
        gid, groups = uid, []
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", _PROBE, "probe", *(f"{fd}:{_LETTER[mode]}" for fd, mode in checks)],
            user=uid, group=gid, extra_groups=groups, pass_fds=[fd for fd, _ in checks],
            capture_output=True, text=True, env={}, cwd="/", timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise HelperError(f"cannot check the bind sources' permissions: {exc}") from None
    answers = done.stdout.split()
    if done.returncode != 0 or len(answers) != len(checks):
        raise HelperError("cannot check the bind sources' permissions: "
                          f"{done.stderr.strip()[-200:] or 'the check failed'}")
    return [answer == "1" for answer in answers]
