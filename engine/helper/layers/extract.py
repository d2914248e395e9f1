"""Applying a layer's tar entries under a private directory, as root.

The entries are written by the helper's one tar extractor (engine/helper/untar.py)
under a layer's rules: no symlink is ever crossed (parents are opened one component
at a time with ``O_NOFOLLOW``), names are refused when absolute or holding ``..``,
an entry replaces whatever an earlier one left at its name, hard links must point at
an earlier entry of the same layer, owners, modes, set-id bits, devices and the
xattrs a container may carry (user.*, file capabilities) are kept as the tar says.

Here: what only a layer has. Whiteouts are converted to the overlayfs format as
they are read (``.wh.NAME`` becomes a 0:0 character device, ``.wh..wh..opq`` the
``trusted.overlay.opaque`` xattr), so a layer directory can be used directly as an
overlay lower directory; aufs metadata is skipped; file bytes count against the
unpack's budget; refusals name the layer.
"""

from __future__ import annotations

import os
import stat
from typing import NoReturn

from engine.errors import LayerError
from engine.helper.layers.store import OPEN_DIR, remove_tree
from engine.helper.layersource import Budget
from engine.helper.untar import Archive, Member, Refused, Rules, TarExtractor

__all__ = ["Extractor"]

_WHITEOUT = b".wh."
_WHITEOUT_META = b".wh..wh."
_OPAQUE = b".wh..wh..opq"
_OPAQUE_XATTR = "trusted.overlay.opaque"

LAYER = Rules(follow_links=False, absolute_names=False, owners=True, setid=True,
              devices=True, xattrs=True, replace_any=True, links_within=True,
              base_entry=True)

# How a layer's refusals word the extractor's.
_REFUSALS = {
    "nul": "holds a NUL byte",
    "absolute": "is an absolute path",
    "dotdot": "has a '..' component: it would escape the layer",
    "root": "replaces the layer's root directory",
    "type": "has an unsupported type",
    "link_dir": "is a hard link to the directory {link!r}",
    "link_gone": "is a hard link to {link!r}, which no longer exists",
    "link_target": "is a hard link to {link!r}, which is not an earlier file of this layer",
    "missing": "needs {where!r}, which does not exist",
    "not_dir": "lies under {where!r}, which is a symlink or not a directory",
}


class Extractor(TarExtractor):
    """Applies a layer's tar entries under ``root``, a private directory, one at a time."""

    def __init__(self, root: int, scratch: int, label: str, budget: Budget) -> None:
        super().__init__(root, LAYER,
                         remove_dir=lambda parent, name: remove_tree(parent, name, scratch))
        self.fresh = True  # a private directory, made for this unpack
        self.scratch = scratch
        self.label = label
        self.budget = budget
        self.root_mode_set = False

    def apply(self, tar: Archive, member: Member,
              parts: tuple[bytes, ...] | None = None) -> None:
        try:
            self._apply(tar, member)
        except Refused as e:
            self._refuse(member, e)
        except LayerError:
            raise
        except (OSError, OverflowError, ValueError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise LayerError(f"layer {self.label}: cannot unpack {member.name!r}: {reason}") from e

    def finish(self) -> None:
        """Give the root its mode, then directories their times."""
        if not self.root_mode_set:
            os.fchmod(self.root, 0o755)
        super().finish()

    def wrote(self, size: int) -> None:
        self.budget.files(size)  # sparse members can outgrow the tar

    def _apply(self, tar: Archive, member: Member) -> None:
        parts = self.split(member.name, member.name)
        if ".wh." in member.name:
            if any(part.startswith(_WHITEOUT_META) for part in parts[:-1]):
                return  # inside an aufs metadata directory (.wh..wh.plnk): not content
            if parts and parts[-1].startswith(_WHITEOUT):
                self._whiteout(parts, member)
                return
        super().apply(tar, member, parts)
        if not parts:
            self.root_mode_set = True

    def _refuse(self, member: Member, refused: Refused) -> NoReturn:
        why = _REFUSALS[refused.reason].format(link=member.linkname, where=refused.where)
        if refused.reason == "type":
            why = f"{why} {member.type!r}"
        if refused.link:
            why = f"is a hard link to {member.linkname!r}, which {why}"
        raise LayerError(f"layer {self.label}: entry {member.name!r} {why}; refusing the layer")

    def _whiteout(self, parts: tuple[bytes, ...], member: Member) -> None:
        base = parts[-1]
        if base.startswith(_WHITEOUT_META) and base != _OPAQUE:
            return  # other aufs metadata (.wh..wh.plnk, .wh..wh.aufs): not content
        parent = self.open_dir(parts[:-1], create=True, entry=member.name)
        if base == _OPAQUE:
            fd = os.open(".", OPEN_DIR, dir_fd=parent)
            try:
                os.setxattr(fd, _OPAQUE_XATTR, b"y")
            finally:
                os.close(fd)
            return
        hidden = base[len(_WHITEOUT):]
        if hidden in (b"", b".", b".."):
            raise LayerError(f"layer {self.label}: entry {member.name!r} is a whiteout "
                             "without a valid name; refusing the layer")
        target = (*parts[:-1], hidden)
        self.clear(parent, target)
        os.mknod(hidden, stat.S_IFCHR, os.makedev(0, 0), dir_fd=parent)
        os.chown(hidden, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        self.kinds[target] = "whiteout"
