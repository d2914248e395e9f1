"""Looking inside a container's filesystem: the helper's side of
engine/helper/runtime/fsview/, which does the looking in a process of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict
from typing import Any

from engine.errors import HelperError, InvalidState, VolumeNotFound
from engine.helper.containers.base import ACTIVE
from engine.helper.containers.binds import Binds
from engine.helper.containers.procs import (
    is_in_container,
    read_one_line,
    reap_when_done,
    request_memfd,
)
from engine.helper.runtime.launch import PACKAGE_ROOT, python_module
from engine.helper.runtime.spec import ContainerDir, Userns
from engine.processes import is_alive
from engine.wire.requests import WithFds

__all__ = ["Files"]


class Files(Binds):
    """stat, list, read, get and put in a container's root, or in a volume's."""

    def files(self, id: str, op: str, path: str, follow: bool, limit: int, name: str,
              archive: bool, fds: list[int] | None = None,
              sources: list[int] | None = None) -> Any:
        """stat, list, read, get (tar out) or put (tar in) a path of the container's root.

        A fresh fsview process does it, inside the container's mount namespace when
        it runs, over a private overlay of its layers when it does not. Returns the
        path's entry; list/read/get/put also hand back the data pipe's end and the
        status pipe, whose last line says how the operation ended.
        """
        cdir = self._existing(id)
        status = self._live_status(cdir)
        spec = cdir.read_spec()
        pid = 0
        if status.get("status") in ACTIVE:
            pid = int(status.get("pid", 0))
            if pid <= 0 or not is_alive(pid) or not is_in_container(pid, id):
                raise InvalidState(f"container {id[:12]} is restarting; try again in a moment")
        binds: list[dict[str, Any]] = []
        ours: list[int] = []
        try:
            if not pid:  # a running container shows its own mounts; this one gets these
                mounted = [b for b in spec.binds if b.type != "tmpfs"]
                fds_of = self._sources(spec, list(fds or []), sources, complete=False)
                ours += [fd for bind, fd in zip(mounted, fds_of, strict=True)
                         if bind.type == "volume"]
                binds += [{"fd": fd, "source": bind.source, "target": bind.target,
                           "read_only": bind.read_only, "copy_up": bind.copy_up}
                          for bind, fd in zip(mounted, fds_of, strict=True)
                          if fd >= 0 and bind.type != "device"]
                for file_name, target in (("hosts", "/etc/hosts"), ("hostname", "/etc/hostname"),
                                          ("resolv.conf", "/etc/resolv.conf")):
                    try:
                        fd = os.open(cdir.path / file_name,
                                     os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
                    except FileNotFoundError:
                        continue
                    ours.append(fd)
                    binds.append({"fd": fd, "source": file_name, "target": target,
                                  "read_only": False, "copy_up": False})
            return self._run_fsview(cdir, spec.layers, spec.userns, f"container {spec.id[:12]}",
                                    op, path, follow, limit, name, archive, pid, binds)
        finally:
            for fd in ours:
                os.close(fd)

    def volume_files(self, volume: str, op: str, path: str, follow: bool, limit: int,
                     name: str, archive: bool) -> Any:
        """The same looks into a volume, whether a container mounts it or not: a view
        made for it (``<volume>/.view``, gone with the volume) whose root is the
        volume, with the user's user namespace as their containers have it."""
        from engine.helper.containers.binds import container_root

        if not (self.volumes.dir / volume).is_dir():
            raise VolumeNotFound(f"get {volume}: no such volume")
        view = ContainerDir(self.volumes.dir / volume / ".view")
        view.path.mkdir(mode=0o700, exist_ok=True)
        view.upper.parent.mkdir(mode=0o700, exist_ok=True)
        for sub in (view.upper, view.work, view.rootfs, view.empty_layer):
            sub.mkdir(mode=0o755, exist_ok=True)
        remap = self._userns("")
        if remap is not None:
            os.chown(view.upper, *container_root(remap))
        fd = os.open(self.volume_dir(volume), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                     | os.O_CLOEXEC)
        try:
            binds = [{"fd": fd, "source": volume, "target": "/", "read_only": False,
                      "copy_up": False}]
            return self._run_fsview(view, [], remap, f"volume {volume}", op, path, follow,
                                    limit, name, archive, 0, binds)
        finally:
            os.close(fd)

    def _run_fsview(self, cdir: ContainerDir, layers: list[str], userns: Userns | None,
                    what: str, op: str, path: str,
                    follow: bool, limit: int, name: str, archive: bool, pid: int,
                    binds: list[dict[str, Any]]) -> Any:
        from engine.errors import from_kind

        put = op == "put"
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        data_r, data_w = os.pipe2(os.O_CLOEXEC)
        request = {
            "op": op, "path": "/" + os.path.normpath("/" + path).lstrip("/"),
            "follow": follow, "limit": limit, "name": name, "archive": archive,
            "caller_uid": self.uid, "pid": pid, "status_fd": status_w,
            "layers_dir": str(self.layers_dir / "sha256"),
            "layers": [d.removeprefix("sha256:") for d in reversed(layers)],
            "upper": str(cdir.upper), "work": str(cdir.work), "empty": str(cdir.empty_layer),
            "mountpoint": str(cdir.rootfs), "binds": binds, "writable": put,
            "userns": None if userns is None else asdict(userns),
            "lowers": str(cdir.lowers),
            "lock": str(cdir.path / "files.lock"),
        }
        ours, theirs = (data_w, data_r) if put else (data_r, data_w)
        request_fd = request_memfd(request)
        try:
            process = subprocess.Popen(
                [*python_module("engine.helper.runtime.fsview"), str(request_fd)],
                stdin=theirs if put else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if put else theirs, stderr=subprocess.DEVNULL,
                pass_fds=[status_w, request_fd, *(b["fd"] for b in binds)],
                start_new_session=True, cwd="/",
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                     "PYTHONPATH": PACKAGE_ROOT})
        except BaseException:
            for fd in (status_r, status_w, data_r, data_w):
                os.close(fd)
            raise
        finally:
            os.close(request_fd)
        reap_when_done(process)
        os.close(status_w)
        os.close(theirs)
        self._monitors.append(process)
        self._reap_monitors()
        line = read_one_line(status_r, timeout=60.0)
        reply = json.loads(line) if line else {}
        if not reply.get("ok"):
            os.close(status_r)
            os.close(ours)
            if not line:
                process.kill()
                raise HelperError(f"looking into {what} failed: no answer")
            raise from_kind(str(reply.get("kind", "helper")), str(reply.get("message", "")))
        if op == "stat":
            os.close(status_r)
            os.close(ours)
            return reply["entry"]
        return WithFds({"entry": reply["entry"]}, [ours, status_r])
