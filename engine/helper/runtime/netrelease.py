"""A container's network, released by its monitor once the container has stopped for good.

The monitor records the exit first and releases the network after it: `run --rm`
waits for the record, and its removal goes on beside the release. So the removal
may move the container's directory meanwhile (to ``.<id>.removing``): the
release finds the directory by a descriptor it opens first, and what it could not
find (a directory moved before that) is the removal's discard's to release
(engine/helper/containers/lifecycle.py), which waits for this monitor to end.
The helper's repair finishes what a crash leaves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["release_network"]


def release_network(directory: Path, container_id: str, owner_uid: int) -> None:
    """Release the network of the container in ``directory`` (its endpoints, addresses
    and sandbox) if it has one; the helper's repair finishes what this leaves."""
    try:
        fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # removed meanwhile: the removal's discard releases it
    try:
        here = Path(f"/proc/self/fd/{fd}")  # wherever the directory is by now
        if not (here / "network.json").exists():
            return
        from engine.helper.network.verbs import default_networking

        networking = default_networking(directory.parents[3], owner_uid)
        found = networking.container_dir
        networking.container_dir = lambda cid: here if cid == container_id else found(cid)
        networking.cleanup_container(container_id)
        os.unlink("network.json", dir_fd=fd)
    except Exception as exc:  # the helper's repair finishes the job
        print(f"network cleanup failed: {exc}", file=sys.stderr, flush=True)
    finally:
        os.close(fd)
