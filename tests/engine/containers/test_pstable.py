"""docker's top: the host's ps, cut down to one container's processes."""
from __future__ import annotations

import asyncio
import os

import pytest

from engine.containers.pstable import parse_ps, run_ps
from engine.errors import InvalidArgument, SkiffError

PS_EF = """\
UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 09:00 ?        00:00:01 /sbin/init splash
root         812       1  0 09:01 ?        00:00:00 sleep 1d --with  two  spaces
100000       813     812  0 09:01 pts/0    00:00:00 sh
"""


def test_rows_are_matched_on_the_pid_column_and_the_command_keeps_its_spaces() -> None:
    table = parse_ps(PS_EF, {812, 813})
    assert table.titles == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert table.processes == [
        ["root", "812", "1", "0", "09:01", "?", "00:00:00", "sleep 1d --with  two  spaces"],
        ["100000", "813", "812", "0", "09:01", "pts/0", "00:00:00", "sh"],
    ]


def test_options_without_a_pid_column_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="Couldn't find PID field in ps output"):
        parse_ps("COMMAND\nsleep\n", {1})


def test_the_real_ps_with_docker_s_usual_options() -> None:
    me = os.getpid()
    for args in ("-ef", "aux", "-o pid,comm", "-eLf", "axf"):
        table = asyncio.run(run_ps(args, {me}))
        assert "PID" in table.titles, args
        pid_column = table.titles.index("PID")
        assert {int(row[pid_column]) for row in table.processes} == {me}, args  # -L: threads


def test_bad_options_are_ps_s_own_error() -> None:
    with pytest.raises(SkiffError, match="Error running ps"):
        asyncio.run(run_ps("--no-such-option", {os.getpid()}))
