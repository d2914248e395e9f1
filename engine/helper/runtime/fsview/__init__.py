"""Inside a container's filesystem, from the helper: list, read, stat, tar out, tar in.

The helper runs this as a fresh ``python -S`` process per request: it is
multi-threaded and must not fork Python code, and setns(mnt) needs a
single-threaded process anyway. The process gets the container's root in one
of two ways:

- running or paused: it joins the container's mount namespace, so "/" is the
  container's root with its volumes and binds, what its processes see;
- stopped or created: it unshares a private mount namespace and mounts an
  overlay of the container's layers there: under a throw-away upper for
  looking (the container's upper dir is its top lower), or over the
  container's own upper dir for copying in. The mounts live and die with this
  process's namespace; the host's mount table never sees them.

A container in a user namespace is looked at from inside one, so the view can
do what its root could and nothing more (a root-only host file in a bind mount
stays unreadable): the running container's own, joined after its mount
namespace, or for a stopped one a fresh namespace with the same map, entered
once everything is mounted.

Every container path is resolved with openat2(RESOLVE_IN_ROOT |
RESOLVE_NO_MAGICLINKS) against that root (engine/helper/rootpath.py), so no
symlink in the container, absolute or relative, leads to a host file; trees are
walked by directory fd, never through a symlink. Before touching the container's files the process
keeps only the few file capabilities it needs. Kernel filesystems (/proc,
/sys, ...) of a running container can be listed, not read or written.

The request (JSON in argv[1]) names ``status_fd``, which gets JSON lines: the
first once the path is resolved, ``{"ok": true, "entry": {...}}`` or
``{"ok": false, "kind": ..., "message": ...}``, and for list/read/get/put a
last one when the operation ends. Data goes out on stdout (list: JSON lines;
read: raw bytes; get: a tar) or comes in on stdin (put: a tar).

Here: the request and its dispatch; ``view`` (the container's root and the
process's privileges), ``lookup`` (paths in that root), ``copyout`` (stat, list,
read, get), ``copyin`` (put).
"""

from __future__ import annotations

import fcntl
import json
import os
from typing import Any

from engine.helper.runtime.fsview.copyin import op_put
from engine.helper.runtime.fsview.copyout import op_get, op_list, op_read, op_stat
from engine.helper.runtime.fsview.lookup import FsError, Reply, entry_json, openat2
from engine.helper.runtime.fsview.view import drop_privileges, enter_running, mount_stopped

__all__ = ["FsError", "entry_json", "main", "openat2"]


_OPS = {"stat": op_stat, "list": op_list, "read": op_read, "get": op_get, "put": op_put}


def _lock(path: str) -> None:
    """One writer at a time over a stopped container's upper dir (held until exit)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)


def run(req: dict[str, Any], reply: Reply) -> None:
    op = req["op"]
    writing = op == "put"
    os.umask(0)  # modes from the archive are applied exactly
    if req["pid"] > 0:
        view = enter_running(req["pid"])
    else:
        if req["writable"]:
            _lock(req["lock"])
        view = mount_stopped(req)
    drop_privileges(writing, req["caller_uid"] == 0)
    if op == "stat":
        op_stat(view, req, reply)
    elif op == "put":
        with os.fdopen(0, "rb") as source:
            op_put(view, req, reply, source)
    else:
        with os.fdopen(1, "wb") as out:
            _OPS[op](view, req, reply, out)  # type: ignore[operator]


def main(argv: list[str]) -> int:
    with os.fdopen(int(argv[1]), "rb") as source:  # a memfd: never on the command line
        request = json.loads(source.read())
    reply = Reply(int(request["status_fd"]))
    try:
        run(request, reply)
    except FsError as exc:
        reply.send({"ok": False, "kind": exc.kind, "message": str(exc)})
        return 1
    except BrokenPipeError:
        reply.send({"ok": False, "kind": "helper", "message": "the reader went away"})
        return 1
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        reply.send({"ok": False, "kind": "helper", "message": f"{exc.strerror or exc}{where}"})
        return 1
    except BaseException as exc:
        reply.send({"ok": False, "kind": "helper",
                    "message": f"internal error looking into the container: {exc!r}"})
        return 1
    return 0
