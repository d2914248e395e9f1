"""bare_fork: a child without os.fork's at-fork hooks (the zygote forks monitors so)."""

from __future__ import annotations

import os

from engine.helper.syscalls import bare_fork

_hooked: list[int] = []
os.register_at_fork(after_in_child=lambda: _hooked.append(os.getpid()))


def _child_says(fork: object) -> bytes:
    """What a child made by ``fork`` reports: whether the hook ran in it."""
    read, write = os.pipe()
    pid = fork()  # type: ignore[operator]
    if pid == 0:
        os.close(read)
        os.write(write, b"hooked" if os.getpid() in _hooked else b"bare")
        os._exit(0)
    os.close(write)
    try:
        return os.read(read, 16)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0


def test_bare_fork_makes_a_child_without_the_hooks() -> None:
    assert _child_says(os.fork) == b"hooked"  # the hook is there
    assert _child_says(bare_fork) == b"bare"
