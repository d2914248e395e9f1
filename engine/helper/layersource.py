"""What one layer unpack may read and take: bounded in size and time, and cancellable.

The blob comes as a descriptor from the caller, and the caller chooses what it is:
a file, but also ``/dev/zero``, a FIFO nobody writes to, a socket, a file on a
FUSE mount that answers when it likes. A read on any of them can block for ever
or never end, and a thread blocked in ``read()`` cannot be interrupted, nor (on a
stuck FUSE file) even signalled. So the helper never reads such a descriptor
itself: ``cat``, running as the caller, copies it into a pipe of ours, which we
poll with a timeout and next to the request's cancellation. A stall, a
cancellation, a hang-up or a limit kills ``cat``, whatever it is blocked in.
A pipe (what a pull streams, engine/registry/blobfeed.py) is read directly, made
non-blocking and polled the same way: a read of it never waits, so no ``cat``
is needed, nor its process and its two copies of every byte.

``Budget`` holds one unpack's limits as it runs: the blob, the tar inside it and
the file contents written out (sparse files can write more than the tar holds)
each stay under ``max_bytes``; the whole unpack under ``max_seconds``. Its ``halt``
stops the reading of an unpack that failed elsewhere (the blob is read and decoded
on a thread of its own, engine/helper/layers/streams.py), a wait on the pipe too.
"""

from __future__ import annotations

import fcntl
import math
import os
import pwd
import select
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass

from engine.errors import Cancelled, LayerError
from engine.helper.cancel import Cancellation

__all__ = ["BlobSource", "Budget", "UnpackLimits", "describe_seconds", "describe_size"]

_CHUNK = 1 << 20
_F_SETPIPE_SZ = 1031


@dataclass(frozen=True)
class UnpackLimits:
    """How big a layer may be and how long its unpack may take (root may change them)."""

    max_bytes: int = 64 << 30
    stall_seconds: float = 60.0
    max_seconds: float = 2 * 3600.0


class Budget:
    """One unpack's limits, counted as it runs; raises when one is passed."""

    def __init__(self, limits: UnpackLimits, label: str,
                 cancel: Cancellation | None = None) -> None:
        self.limits = limits
        self.label = label
        self.cancel = cancel
        self.halt = Cancellation()  # the unpack's own stop (its fd: BlobSource's waits)
        self.deadline = time.monotonic() + limits.max_seconds
        self._blob = self._tar = self._files = 0

    def check(self) -> None:
        if (self.cancel is not None and self.cancel.cancelled) or self.halt.cancelled:
            raise Cancelled(f"unpacking layer {self.label} was cancelled")
        if time.monotonic() > self.deadline:
            raise LayerError(f"unpacking layer {self.label} took longer than the "
                             f"{describe_seconds(self.limits.max_seconds)} limit")

    def blob(self, size: int) -> None:
        self._blob += size
        self._bound(self._blob)

    def tar(self, size: int) -> None:
        self._tar += size
        self._bound(self._tar)

    def files(self, size: int) -> None:
        self._files += size
        self._bound(self._files)

    def _bound(self, total: int) -> None:
        if total > self.limits.max_bytes:
            raise LayerError(f"layer {self.label} is larger than the "
                             f"{describe_size(self.limits.max_bytes)} limit")
        self.check()


class BlobSource:
    """The blob behind the caller's descriptor (owned: ``close()`` closes it)."""

    def __init__(self, fd: int, budget: Budget, uid: int) -> None:
        self._fd = fd
        self._budget = budget
        self._uid = uid
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe = -1  # what we read: the caller's pipe, or cat's
        self._errors = -1
        self._done = False
        self._last_data = time.monotonic()

    def seekable(self) -> bool:
        """A regular file: nothing waits for it to be read to its end."""
        try:
            return stat.S_ISREG(os.fstat(self._fd).st_mode)
        except OSError:
            return False

    def read(self, size: int = -1, /) -> bytes:
        if self._done:
            return b""
        if self._pipe < 0:
            self._start()
        while True:
            try:
                data = os.read(self._pipe, size if size > 0 else _CHUNK)
            except BlockingIOError:
                self._wait()
                continue
            if data:
                self._last_data = time.monotonic()
                return data
            self._finish()
            return b""

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        for fd in {self._pipe, self._errors, self._fd}:
            if fd >= 0:
                os.close(fd)
        self._pipe = self._errors = self._fd = -1
        self._budget.halt.close()  # made for our waits

    def _start(self) -> None:
        self._budget.check()
        self._last_data = time.monotonic()
        if _is_pipe(self._fd):
            self._pipe = self._fd
            _widen(self._fd)
            os.set_blocking(self._fd, False)
            return
        pipe, out = os.pipe2(os.O_CLOEXEC)
        errors, err_out = os.pipe2(os.O_CLOEXEC)
        self._pipe, self._errors = pipe, errors
        _widen(pipe)
        os.set_blocking(pipe, False)
        as_caller = {} if self._uid == 0 else {
            "user": self._uid, "group": _primary_gid(self._uid), "extra_groups": []}
        try:
            self._process = subprocess.Popen(
                [_cat()], stdin=self._fd, stdout=out, stderr=err_out, close_fds=True,
                cwd="/", env={}, **as_caller)  # type: ignore[call-overload]
        except OSError as exc:
            raise LayerError(f"cannot read the blob of layer {self._budget.label}: "
                             f"{exc.strerror or exc}") from None
        finally:
            os.close(out)
            os.close(err_out)
        self._last_data = time.monotonic()

    def _wait(self) -> None:
        """Until the pipe has data or ends; raises on a stall, a cancellation, the deadline."""
        budget = self._budget
        budget.check()
        now = time.monotonic()
        stall = budget.limits.stall_seconds
        left = self._last_data + stall - now
        if left <= 0:
            raise LayerError(f"the stream of layer {budget.label} stalled for "
                             f"{describe_seconds(stall)}")
        poller = select.poll()
        poller.register(self._pipe, select.POLLIN)
        if budget.cancel is not None:
            poller.register(budget.cancel.fileno(), select.POLLIN)
        poller.register(budget.halt.fileno(), select.POLLIN)
        timeout = min(left, budget.deadline - now)
        poller.poll(max(1, math.ceil(timeout * 1000)))

    def _finish(self) -> None:
        """At the end of the pipe: ``cat`` is done; say why when it failed."""
        self._done = True
        process = self._process
        if process is None:
            return  # the caller's own pipe ended
        try:
            status = process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
        if status == 0:
            return
        try:
            text = os.read(self._errors, 4096).decode(errors="replace").strip()
        except OSError:
            text = ""
        reason = text.splitlines()[-1].rsplit(": ", 1)[-1] if text else f"status {status}"
        raise LayerError(f"cannot read the blob of layer {self._budget.label}: {reason}")


def _is_pipe(fd: int) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(fd).st_mode)
    except OSError:
        return False


def _widen(pipe: int) -> None:
    try:
        fcntl.fcntl(pipe, _F_SETPIPE_SZ, _CHUNK)  # fewer, larger reads
    except OSError:
        pass


def _cat() -> str:
    found = shutil.which("cat", path="/usr/bin:/bin")
    if found is None:
        raise LayerError("cannot read layer blobs: the helper needs /usr/bin/cat (coreutils)")
    return found


def _primary_gid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return 65534  # nogroup: a uid without an account gets no group of anyone's


def describe_size(size: int) -> str:
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} bytes"


def describe_seconds(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds > 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
