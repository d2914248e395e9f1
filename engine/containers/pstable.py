"""docker's ``top``: the host's ``ps`` with the caller's options, cut down to one
container's processes.

dockerd runs the real ``ps`` rather than reading /proc itself, so every option a
user knows (``aux``, ``-o pid,comm``, ``-eLf``) works; Skiff does the same. The
rows are matched on the PID column, so an option set without one is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass

from engine.errors import InvalidArgument, SkiffError

__all__ = ["ProcessTable", "parse_ps", "run_ps"]

DEFAULT_PS_ARGS = "-ef"


@dataclass(frozen=True)
class ProcessTable:
    """The titles ``ps`` printed and one row of cells per process (the last cell
    keeps its spaces: it is the command line)."""

    titles: list[str]
    processes: list[list[str]]


def parse_ps(output: str, pids: Collection[int]) -> ProcessTable:
    lines = output.splitlines()
    if not lines:
        raise SkiffError("ps printed nothing")
    titles = lines[0].split()
    try:
        pid_column = titles.index("PID")
    except ValueError:
        raise InvalidArgument("Couldn't find PID field in ps output") from None
    wanted = set(pids)
    processes = []
    for line in lines[1:]:
        cells = line.split(maxsplit=len(titles) - 1)
        if len(cells) <= pid_column:
            continue
        try:
            pid = int(cells[pid_column])
        except ValueError:
            raise InvalidArgument(f"Unexpected pid '{cells[pid_column]}'") from None
        if pid in wanted:
            processes.append(cells)
    return ProcessTable(titles, processes)


async def run_ps(ps_args: str, pids: Collection[int]) -> ProcessTable:
    """``ps ps_args``, first limited to ``pids`` with ``-q`` (fast on a busy host),
    then without it for the options ``-q`` cannot be mixed with (``f``, as dockerd
    does)."""
    args = (ps_args or DEFAULT_PS_ARGS).split()
    listed = ",".join(str(pid) for pid in sorted(pids)) or "0"
    output, error = await _ps([*args, "-q", listed])
    if output is None:
        output, error = await _ps(args)
    if output is None:
        raise SkiffError(f"Error running ps: {error}")
    return parse_ps(output, pids)


async def _ps(args: list[str]) -> tuple[str | None, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            "ps", *args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    except OSError as exc:
        return None, f"ps: {exc.strerror}"
    out, err = await process.communicate()
    if process.returncode != 0:
        return None, err.decode(errors="replace").strip().splitlines()[0] if err.strip() else \
            f"exit status {process.returncode}"
    return out.decode(errors="replace"), ""
