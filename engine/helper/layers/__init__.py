"""Image layers in the helper: unpacked into per-layer directories, as root, without
trusting the tar.

- ``store``: where layers live (``<layers>/sha256/<hex>``), their sizes, removal
  and scratch space;
- ``streams``: the blob as it is read (hashed, decompressed, counted, bounded);
- ``tarread``: the tar's headers read and checked, its files' data handed over uncopied;
- ``extract``: a tar's entries applied under a private directory, through the
  path-safe resolver shared with container file access (engine/helper/rootpath.py);
- ``unpack``: the whole, digest and diff_id checked before the layer appears.
"""

from __future__ import annotations

from engine.helper.layers.store import (
    clean_temp,
    detach_layer,
    has_layer,
    layer_path,
    layer_size,
    purge_detached,
    remove_layer,
)
from engine.helper.layers.unpack import unpack_layer

__all__ = [
    "clean_temp",
    "detach_layer",
    "has_layer",
    "layer_path",
    "layer_size",
    "purge_detached",
    "remove_layer",
    "unpack_layer",
]
