"""Who still needs an unpacked layer, counted across users.

Unpacked layers (``<root>/layers/sha256/<hex>``) are content-addressed and
shared by every user whose images have them. So one user's ``rmi`` must not
delete a layer that another user's image or container uses: each user whose
images use a layer holds a reference ``u<uid>``, each container built on it a
reference ``c<id>``, as empty files in ``<root>/layers/refs/<hex>/``. A user's
remove drops that user's reference only; a layer goes when its last reference
goes (the last user's remove, or the removal of the last container on it).

Creating and unlinking a file are atomic, so a crash leaves a reference or
none, never half of one. References are added before what needs them exists
and dropped after it is gone, so a crash can only leave one too many: a
container reference counts only while its container's ID is claimed (see
``claims.py``), and a user's references are brought in line with the user's
images by the engine's repair. One ``flock`` orders the helpers (one per user)
that add references and decide removals; deleting a layer's files happens
after it, out of sight in ``tmp/``.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import InvalidArgument, SkiffError
from engine.helper import layers
from engine.helper.claims import STALE_AFTER, Claims

__all__ = ["LayerRefs"]

#: A layer nothing needs any more: its hex, and its name in tmp/ once detached.
_Doomed = tuple[str, bytes | None]


def _hex(diff_id: str) -> str:
    return layers.layer_path(Path("/"), diff_id).name  # validates the digest too


class LayerRefs:
    def __init__(self, root: Path) -> None:
        self.layers_dir = root / "layers"
        self.dir = self.layers_dir / "refs"
        self.claims = Claims(root)
        self.users_dir = root / "users"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.layers_dir.mkdir(mode=0o711, parents=True, exist_ok=True)
        fd = os.open(self.layers_dir / "refs.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    # -- references ------------------------------------------------------------------
    def _add(self, hex_: str, name: str) -> None:
        directory = self.dir / hex_
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                     0o600)
        os.close(fd)
        os.utime(directory / name)  # the age a repair reads: now

    def _holders(self, hex_: str) -> list[str]:
        """The layer's references that still count (stale container ones are dropped)."""
        directory = self.dir / hex_
        try:
            names = os.listdir(directory)
        except FileNotFoundError:
            return []
        kept = []
        for name in names:
            if name.startswith("c") and self.claims.owner(name[1:]) is None:
                _unlink(directory / name)  # its container is gone, whoever's it was
            else:
                kept.append(name)
        return kept

    def _drop(self, hex_: str, name: str) -> _Doomed | None:
        """Drop one reference; detach the layer when nothing needs it any more."""
        _unlink(self.dir / hex_ / name)
        if self._holders(hex_):
            return None
        try:
            os.rmdir(self.dir / hex_)
        except FileNotFoundError:
            pass
        return hex_, layers.detach_layer(self.layers_dir, f"sha256:{hex_}")

    def _purge(self, doomed: Iterable[_Doomed | None]) -> None:
        """Delete the detached layers' files, and the copies made for user namespaces."""
        from engine.helper.runtime import shifted

        for hex_, name in filter(None, doomed):
            if name is not None:
                layers.purge_detached(self.layers_dir, name)
            shifted.forget(self.layers_dir.parent, hex_)

    # -- a user's images ---------------------------------------------------------------
    def claim(self, diff_id: str, uid: int) -> bool:
        """Record that ``uid`` uses the layer, if it is unpacked; whether it is."""
        hex_ = _hex(diff_id)
        with self._locked():
            if not layers.has_layer(self.layers_dir, diff_id):
                return False
            self._add(hex_, f"u{uid}")
            return True

    def hold(self, diff_id: str, uid: int) -> None:
        """Record that ``uid`` uses the layer, before unpacking it (so no remove races it)."""
        hex_ = _hex(diff_id)
        with self._locked():
            self._add(hex_, f"u{uid}")

    def release(self, diff_id: str, uid: int) -> None:
        """``uid`` no longer uses the layer: drop its reference, and the layer if it was
        the last."""
        hex_ = _hex(diff_id)
        with self._locked():
            doomed = self._drop(hex_, f"u{uid}")
        self._purge([doomed])

    def sync(self, uid: int, diff_ids: Iterable[str]) -> None:
        """Make ``uid``'s references those of ``diff_ids`` (the user's images' layers).

        References the user's engine no longer knows of are dropped only once
        older than a create or pull that another engine may have in flight.
        """
        wanted = {_hex(d) for d in diff_ids}
        name = f"u{uid}"
        doomed: list[_Doomed | None] = []
        with self._locked():
            try:
                held = os.listdir(self.dir)
            except FileNotFoundError:
                held = []
            now = time.time()
            for hex_ in held:
                path = self.dir / hex_ / name
                try:
                    age = now - os.lstat(path).st_mtime
                except FileNotFoundError:
                    continue
                if hex_ not in wanted and age > STALE_AFTER:
                    doomed.append(self._drop(hex_, name))
            for hex_ in wanted:
                if not (self.dir / hex_ / name).exists() and \
                        layers.has_layer(self.layers_dir, f"sha256:{hex_}"):
                    self._add(hex_, name)
        self._purge(doomed)

    # -- containers ----------------------------------------------------------------------
    def require(self, diff_ids: Iterable[str]) -> None:
        """Refuse layers that are not unpacked."""
        for diff_id in diff_ids:
            if not layers.has_layer(self.layers_dir, diff_id):
                raise InvalidArgument(f"layer {diff_id} is not unpacked")

    def use(self, container_id: str, diff_ids: list[str]) -> None:
        """Record that the container is built on these layers; each must be unpacked."""
        with self._locked():
            self.require(diff_ids)
            for diff_id in diff_ids:
                self._add(_hex(diff_id), f"c{container_id}")

    def unuse(self, container_id: str, diff_ids: Iterable[str] | None = None) -> None:
        """The container is gone: drop its references (all of them when its layers are
        not known), and the layers nothing else needs."""
        name = f"c{container_id}"
        doomed: list[_Doomed | None] = []
        with self._locked():
            if diff_ids is None:
                try:
                    hexes = [h for h in os.listdir(self.dir) if (self.dir / h / name).exists()]
                except FileNotFoundError:
                    hexes = []
            else:
                hexes = [_hex(d) for d in diff_ids]
            for hex_ in dict.fromkeys(hexes):
                if (self.dir / hex_ / name).exists():
                    doomed.append(self._drop(hex_, name))
        self._purge(doomed)

    # -- state from before references ------------------------------------------------------
    def adopt(self) -> None:
        """Once per storage root: claims and references for the containers that exist.

        Containers created before Skiff counted references have neither; this
        gives them both, so no other user's remove takes their layers.
        """
        marker = self.layers_dir / "refs.adopted"
        if marker.exists():
            return
        with self._locked():
            if marker.exists():
                return
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            for spec_file in self.users_dir.glob("*/containers/*/spec.json"):
                container_id, uid = spec_file.parent.name, spec_file.parents[2].name
                try:
                    spec = json.loads(spec_file.read_text())
                    self.claims.claim(container_id, int(uid))
                    for diff_id in spec.get("layers", []):
                        self._add(_hex(diff_id), f"c{container_id}")
                except (OSError, ValueError, SkiffError):
                    continue  # a damaged record: its container is beyond use anyway
            marker.touch(mode=0o600)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass

