"""The container verbs' common ground: the user's containers, their live status.

Every path comes from ``ContainerDir(root/users/<uid>/containers/<id>)``: the
caller names a container by ID and can only reach its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ContainerNotFound, SkiffError
from engine.helper.cgroups import open_cgroup
from engine.helper.claims import Claims
from engine.helper.containers.procs import unlink
from engine.helper.layerrefs import LayerRefs
from engine.helper.privacy import private_dir
from engine.helper.runtime.spec import ContainerDir
from engine.helper.seccomp.programs import ProgramCache
from engine.helper.volumedirs import VolumeDirs
from engine.helper.zygote import Zygote
from engine.processes import is_alive
from engine.wire.statusfile import ACTIVE, monitor_death

if TYPE_CHECKING:
    from engine.helper.network.networking import Networking


__all__ = ["ACTIVE", "PRIVATE_FILES", "ContainerBase"]


# What an older Skiff left readable to every user in a container's directory.
PRIVATE_FILES = ("spec.json", "status.json", "ctr.log", "network.json", "userns.json")


class ContainerBase:
    """State and lookups every group of verbs uses."""

    def __init__(self, root: Path, uid: int, cgroup_parent: str,
                 zygote: Zygote | None = None) -> None:
        self.zygote = zygote
        self._networking: Networking | None = None
        self._network_ready = threading.Event()
        self._warm_up_error: Exception | None = None
        self._networking_lock = threading.Lock()
        self._warmed = False  # see NetworkGlue.warm
        # Keep spare network sandboxes for the next starts (a lingering helper's:
        # engine/helper/network/spares.py); set by engine/helper/server.py.
        self.spare_sandboxes = False
        self.root = root
        self.uid = uid
        self.cgroup_parent = cgroup_parent
        self.layers_dir = root / "layers"
        self.user_dir = root / "users" / str(uid)
        self.containers_dir = self.user_dir / "containers"
        self.claims = Claims(root)
        self.layer_refs = LayerRefs(root)
        self.volumes = VolumeDirs(self.user_dir, uid)
        self.seccomp = ProgramCache(root / "seccomp")
        self._monitors: list[subprocess.Popen[bytes]] = []
        # "copy" forces the layer copies that kernels before 5.19 need (tests); set only
        # by a helper that root started (engine/helper/server.py).
        self.userns_layers: str | None = None
        # How big a container's changes may be as a layer (build, commit): the helper's
        # --max-layer-size, which its unpack of that layer obeys too.
        self.max_layer_bytes = 64 << 30

    # -- lookup -------------------------------------------------------------------
    def _dir(self, container_id: str) -> ContainerDir:
        return ContainerDir(self.containers_dir / container_id)

    def _existing(self, container_id: str) -> ContainerDir:
        cdir = self._dir(container_id)
        if not cdir.spec.exists():
            raise ContainerNotFound(f"No such container: {container_id}")
        return cdir

    def volume_dir(self, name: str) -> Path:
        """The volume's files: what its containers mount (see volumedirs.py)."""
        return self.volumes.data(name)

    def _live_status(self, cdir: ContainerDir) -> dict[str, Any]:
        """The monitor's record, corrected when the monitor died without writing it."""
        status = cdir.read_status()
        if status.get("status") in ACTIVE and not is_alive(int(status.get("monitor_pid", 0))):
            # It may have recorded the end and exited between our read and our look:
            # read again, now that it writes no more, before saying it died.
            status = cdir.read_status()
            if status.get("status") not in ACTIVE:
                return status
            name, image = self._bury(cdir)
            # the engine's verdict too
            status.update(monitor_death(cdir.status, str(status.get("error") or "")))
            cdir.journal("die", name=name, image=image, exitCode=str(status["exit_code"]))
            cdir.write_status(status)
        return status

    def _bury(self, cdir: ContainerDir) -> tuple[str, str]:
        """What a dead monitor would have released: whatever of the container still runs
        (its init dies with the monitor; an exec may linger), its cgroup, its network."""
        try:
            spec = cdir.read_spec()
        except (OSError, ValueError):
            return "", ""
        try:
            open_cgroup(spec.id, self.cgroup_parent).destroy()
        except (OSError, SkiffError) as exc:
            print(f"cleaning up after {spec.id[:12]}'s monitor: {exc}", file=sys.stderr)
        if spec.network == "sandbox" and (cdir.path / "network.json").exists():
            try:
                self.networking().cleanup_container(spec.id)
                unlink(cdir.path / "network.json")
            except Exception as exc:  # the next repair finishes the job
                print(f"network cleanup of {spec.id[:12]}: {exc}", file=sys.stderr)
        return spec.name, spec.image

    def _private_dirs(self, *below: str) -> Path:
        """``users/<uid>/<below...>``, each level entered by the user alone (and root)."""
        users = self.user_dir.parent
        users.mkdir(mode=0o711, parents=True, exist_ok=True)
        os.chmod(users, 0o711)
        levels = [self.user_dir]
        for name in below:
            levels.append(levels[-1] / name)
        for path in levels:
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                pass
            private_dir(path, self.uid)
        return levels[-1]

    def networking(self) -> Networking:
        """The host's networking (pyroute2, nft): loaded on first use only."""
        with self._networking_lock:
            if self._networking is None:
                from engine.helper.network.verbs import default_networking

                self._networking = default_networking(self.root, self.uid)
                if self.spare_sandboxes:
                    self._networking.keep_spares()
            return self._networking

    def _reap_monitors(self) -> None:
        self._monitors = [m for m in self._monitors if m.poll() is None]
